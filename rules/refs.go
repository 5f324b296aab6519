package rules

import (
	_ "embed"
	"fmt"
)

// File is docker_rules.yaml as shipped.
//
//go:embed docker_rules.yaml
var File []byte

// FieldRef is one field reference of a condition: a docker.* field name and,
// for docker.attributes[KEY], its argument.
type FieldRef struct {
	Name   string
	Arg    string
	HasArg bool
}

func (f FieldRef) String() string {
	if f.HasArg {
		return f.Name + "[" + f.Arg + "]"
	}
	return f.Name
}

// RuleFields is an enabled rule and the field references of its condition.
type RuleFields struct {
	Rule   string
	Fields []FieldRef
}

// ConditionFields parses a rules file and returns, for every enabled rule of
// the docker source in file order, the field references of its condition in
// the order they are written, macros expanded in place (a macro named twice
// counts twice) and lists expanded into operands (a list names values, never
// fields).
//
// This is what Falco's rule evaluation asks the plugin for: libsinsp compiles
// each field reference of a condition into a filter check that calls
// plugin_extract_fields with that one field. It is the most Falco asks per
// event: it short-circuits and/or, and stops at the first matching rule
// (rule_matching: first), so real evaluations make fewer calls. The
// benchmark in tests/ (BenchmarkFalcoShaped) replays these calls.
func ConditionFields(data []byte) ([]RuleFields, error) {
	rs, err := parseRuleset(data)
	if err != nil {
		return nil, err
	}
	compiled, _, err := rs.compile(nil, nil)
	if err != nil {
		return nil, err
	}
	var out []RuleFields
	for _, r := range compiled {
		if (r.Enabled != nil && !*r.Enabled) || r.Source != "docker" {
			continue
		}
		out = append(out, RuleFields{Rule: r.Name, Fields: fieldRefs(r.cond, nil)})
	}
	return out, nil
}

// fieldRefs appends the field references of x in evaluation order.
func fieldRefs(x expr, out []FieldRef) []FieldRef {
	switch x := x.(type) {
	case andExpr:
		for _, y := range x {
			out = fieldRefs(y, out)
		}
	case orExpr:
		for _, y := range x {
			out = fieldRefs(y, out)
		}
	case notExpr:
		out = fieldRefs(x.x, out)
	case macroExpr:
		out = fieldRefs(x.x, out)
	case *checkExpr:
		out = append(out, FieldRef{Name: x.field.def.Name, Arg: x.field.arg, HasArg: x.field.hasArg})
	default:
		panic(fmt.Sprintf("rules: unknown expression %T", x))
	}
	return out
}
