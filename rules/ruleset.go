package rules

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// fileItem is one top-level entry of a Falco rules file. Unknown keys are an
// error (KnownFields), so a misspelt key cannot be silently ignored.
type fileItem struct {
	RequiredPluginVersions []pluginRequirement `yaml:"required_plugin_versions"`
	RequiredEngineVersion  string              `yaml:"required_engine_version"`

	List  string   `yaml:"list"`
	Items []string `yaml:"items"`

	Macro     string `yaml:"macro"`
	Condition string `yaml:"condition"`

	Rule     string   `yaml:"rule"`
	Desc     string   `yaml:"desc"`
	Output   string   `yaml:"output"`
	Priority string   `yaml:"priority"`
	Source   string   `yaml:"source"`
	Tags     []string `yaml:"tags"`
	Enabled  *bool    `yaml:"enabled"`
}

type pluginRequirement struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
}

type ruleDef struct {
	Name, Desc, Condition, Output, Priority, Source string
	Tags                                            []string
	Enabled                                         *bool
}

// ruleset is a parsed rules file, definitions in file order.
type ruleset struct {
	items  []fileItem
	lists  map[string][]string
	macros map[string]string
	rules  []ruleDef
}

func parseRuleset(data []byte) (*ruleset, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var items []fileItem
	if err := dec.Decode(&items); err != nil {
		return nil, err
	}
	rs := &ruleset{items: items, lists: map[string][]string{}, macros: map[string]string{}}
	for i, it := range items {
		kinds := 0
		for _, set := range []bool{it.RequiredPluginVersions != nil, it.RequiredEngineVersion != "", it.List != "", it.Macro != "", it.Rule != ""} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return nil, fmt.Errorf("item %d: want exactly one of required_plugin_versions, required_engine_version, list, macro, rule", i)
		}
		switch {
		case it.List != "":
			if _, dup := rs.lists[it.List]; dup {
				return nil, fmt.Errorf("list %q defined twice", it.List)
			}
			rs.lists[it.List] = it.Items
			if rs.lists[it.List] == nil {
				rs.lists[it.List] = []string{}
			}
		case it.Macro != "":
			if _, dup := rs.macros[it.Macro]; dup {
				return nil, fmt.Errorf("macro %q defined twice", it.Macro)
			}
			rs.macros[it.Macro] = it.Condition
		case it.Rule != "":
			for _, r := range rs.rules {
				if r.Name == it.Rule {
					return nil, fmt.Errorf("rule %q defined twice", it.Rule)
				}
			}
			rs.rules = append(rs.rules, ruleDef{Name: it.Rule, Desc: it.Desc, Condition: it.Condition, Output: it.Output,
				Priority: it.Priority, Source: it.Source, Tags: it.Tags, Enabled: it.Enabled})
		}
	}
	return rs, nil
}

// compiledRule is a rule with its condition compiled.
type compiledRule struct {
	ruleDef
	cond expr
}

// overridden copies defs with overrides applied; overriding an undefined
// name is an error (a typo would otherwise silently test nothing).
func overridden[V any](kind string, defs, overrides map[string]V) (map[string]V, error) {
	out := make(map[string]V, len(defs))
	for k, v := range defs {
		out[k] = v
	}
	for k, v := range overrides {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("override of undefined %s %q", kind, k)
		}
		out[k] = v
	}
	return out, nil
}

// compile compiles every rule (and every macro, used or not) with the lists and
// macros of the file, replaced by the given overrides.
func (r *ruleset) compile(listOverrides map[string][]string, macroOverrides map[string]string) ([]compiledRule, *env, error) {
	lists, err := overridden("list", r.lists, listOverrides)
	if err != nil {
		return nil, nil, err
	}
	macros, err := overridden("macro", r.macros, macroOverrides)
	if err != nil {
		return nil, nil, err
	}
	e := newEnv(lists, macros)
	var out []compiledRule
	for _, d := range r.rules {
		x, err := e.compile(d.Condition)
		if err != nil {
			return nil, nil, fmt.Errorf("rule %q: %w", d.Name, err)
		}
		out = append(out, compiledRule{ruleDef: d, cond: x})
	}
	return out, e, nil
}
