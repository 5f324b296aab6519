// Package rules holds the plugin's Falco rules file, docker_rules.yaml, and the
// tests that keep it honest. Its one API, ConditionFields, lists the field
// references of the enabled rules' conditions: the extraction calls Falco makes
// per event, which the Falco-shaped benchmark in tests/ replays.
//
// The tests are pure Go: they parse the rules file, compile every condition
// with a small evaluator of the Falco condition language (the subset the rules
// use: and/or/not, parentheses, comparison, string, list and path operators,
// macros and lists), check every docker.* field against the plugin's field
// table (internal/fields) with its type, and evaluate each rule against
// recorded-shape Docker events (testdata/cases.yaml) through the plugin's own
// parsing and extraction (internal/event, internal/fields), in the Engine API
// >= 1.52 shape and in the older shape with status/id/from.
package rules
