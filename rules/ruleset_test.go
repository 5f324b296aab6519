package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/falco-docker/docker-plugin/internal/fields"
)

const rulesPath = "docker_rules.yaml"

var (
	loadOnce sync.Once
	loaded   *ruleset
	loadErr  error
)

// loadRules parses docker_rules.yaml once per test binary.
func loadRules(t testing.TB) *ruleset {
	t.Helper()
	loadOnce.Do(func() {
		data, err := os.ReadFile(rulesPath)
		if err != nil {
			loadErr = err
			return
		}
		loaded, loadErr = parseRuleset(data)
	})
	if loadErr != nil {
		t.Fatalf("%s: %v", rulesPath, loadErr)
	}
	return loaded
}

func (r *ruleset) rule(name string) (ruleDef, bool) {
	for _, d := range r.rules {
		if d.Name == name {
			return d, true
		}
	}
	return ruleDef{}, false
}

var (
	validPriorities = []string{"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "INFO", "DEBUG"}
	rgxMitreTech    = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	rgxMitreTactic  = regexp.MustCompile(`^mitre_[a-z_]+$`)
	rgxTag          = regexp.MustCompile(`^[a-zA-Z0-9_.]+$`)
	rgxPluginVer    = regexp.MustCompile(`(?m)^\s*pluginVersion\s*=\s*"([^"]+)"`)
	knownTactics    = []string{"mitre_reconnaissance", "mitre_resource_development", "mitre_initial_access", "mitre_execution",
		"mitre_persistence", "mitre_privilege_escalation", "mitre_defense_evasion", "mitre_credential_access", "mitre_discovery",
		"mitre_lateral_movement", "mitre_collection", "mitre_command_and_control", "mitre_exfiltration", "mitre_impact"}
)

// TestRulesFileStructure: the file parses, required_plugin_versions comes first and
// names this plugin at the version the plugin declares, and every rule has the keys
// Falco needs with valid values.
func TestRulesFileStructure(t *testing.T) {
	rs := loadRules(t)
	if len(rs.items) == 0 || rs.items[0].RequiredPluginVersions == nil {
		t.Fatal("the first item must be required_plugin_versions")
	}
	reqs := rs.items[0].RequiredPluginVersions
	if len(reqs) != 1 || reqs[0].Name != "docker" {
		t.Fatalf("required_plugin_versions = %+v, want one entry for docker", reqs)
	}
	src, err := os.ReadFile("../plugin/docker.go")
	if err != nil {
		t.Fatal(err)
	}
	m := rgxPluginVer.FindSubmatch(src)
	if m == nil {
		t.Fatal("pluginVersion not found in plugin/docker.go")
	}
	if reqs[0].Version != string(m[1]) {
		t.Errorf("required_plugin_versions: docker %s, the plugin declares %s", reqs[0].Version, m[1])
	}

	if len(rs.rules) < 9 { // 8 security rules and the compatibility rule, at least
		t.Errorf("%d rules, want at least 9", len(rs.rules))
	}
	for _, r := range rs.rules {
		t.Run(r.Name, func(t *testing.T) {
			if r.Source != "docker" {
				t.Errorf("source = %q, want docker", r.Source)
			}
			for k, v := range map[string]string{"desc": r.Desc, "condition": r.Condition, "output": r.Output} {
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s is empty", k)
				}
			}
			if !slices.Contains(validPriorities, r.Priority) {
				t.Errorf("priority %q is not a Falco priority", r.Priority)
			}
			if len(r.Tags) == 0 || !slices.Contains(r.Tags, "docker") {
				t.Errorf("tags %v: want at least the docker tag", r.Tags)
			}
			hasTech, hasTactic := false, false
			for _, tag := range r.Tags {
				if !rgxTag.MatchString(tag) {
					t.Errorf("tag %q", tag)
				}
				if strings.HasPrefix(tag, "T") && len(tag) > 1 && tag[1] >= '0' && tag[1] <= '9' {
					hasTech = true
					if !rgxMitreTech.MatchString(tag) {
						t.Errorf("tag %q is not a MITRE ATT&CK technique id (T1234 or T1234.567)", tag)
					}
				}
				if strings.HasPrefix(tag, "mitre_") {
					hasTactic = true
					if !rgxMitreTactic.MatchString(tag) || !slices.Contains(knownTactics, tag) {
						t.Errorf("tag %q is not a MITRE ATT&CK tactic tag", tag)
					}
				}
			}
			if hasTech != hasTactic {
				t.Errorf("tags %v: a technique tag goes with its tactic tag (mitre_...)", r.Tags)
			}
			if r.Enabled != nil && !*r.Enabled {
				t.Errorf("rule is disabled: every shipped rule is meant to be enabled")
			}
		})
	}

	compat, ok := rs.rule("Container status changed")
	if !ok {
		t.Fatal(`the registry plugin's rule "Container status changed" must be kept`)
	}
	if compat.Priority != "DEBUG" {
		t.Errorf(`"Container status changed" priority %s, want DEBUG as in the registry plugin`, compat.Priority)
	}
	mitre := 0
	for _, r := range rs.rules {
		for _, tag := range r.Tags {
			if rgxMitreTech.MatchString(tag) {
				mitre++
				break
			}
		}
	}
	if mitre < 8 {
		t.Errorf("%d rules carry a MITRE technique tag, want at least 8", mitre)
	}
}

// TestListsAndMacros: names are valid identifiers, every list and macro is defined
// before it is used (as older Falco versions require) and used by some rule, and
// nothing is left dangling.
func TestListsAndMacros(t *testing.T) {
	rs := loadRules(t)
	ident := regexp.MustCompile(`^[a-zA-Z]+[a-zA-Z0-9_]*$`)
	defined := map[string]bool{}
	names := map[string]bool{}
	for name := range rs.lists {
		names[name] = true
	}
	for name := range rs.macros {
		if names[name] {
			t.Errorf("%q is both a list and a macro", name)
		}
		names[name] = true
	}
	word := regexp.MustCompile(`[A-Za-z0-9_.\-/:*\[\]]+`)
	for _, it := range rs.items {
		var name, text string
		switch {
		case it.List != "":
			name, text = it.List, strings.Join(it.Items, " ")
		case it.Macro != "":
			name, text = it.Macro, it.Condition
		case it.Rule != "":
			text = it.Condition
		default:
			continue
		}
		if name != "" && !ident.MatchString(name) {
			t.Errorf("%q is not a valid list/macro name", name)
		}
		for _, w := range word.FindAllString(text, -1) {
			if names[w] && !defined[w] {
				t.Errorf("%q is used before its definition (in %s)", w, strings.TrimSpace(name+" "+it.Rule))
			}
		}
		if name != "" {
			defined[name] = true
		}
	}

	_, e, err := rs.compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name := range rs.macros {
		if _, err := e.macro(name); err != nil {
			t.Errorf("macro %s: %v", name, err)
		}
	}
	// Used = reachable from a rule: recompile rules only, in a fresh env.
	_, reach, err := rs.compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name := range names {
		if !reach.used[name] {
			t.Errorf("%q is defined but no rule uses it", name)
		}
	}
}

// outputField is one %field or %field[arg] of an output.
var rgxOutputField = regexp.MustCompile(`%([a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+)(?:\[([^\]]*)\])?`)

type outputRef struct {
	text string
	ref  fieldRef
}

// outputFields resolves the fields an output prints against the field table.
func outputFields(output string) ([]outputRef, error) {
	table := map[string]fields.Field{}
	for _, f := range fields.Table {
		table[f.Name] = f
	}
	var out []outputRef
	for _, m := range rgxOutputField.FindAllStringSubmatchIndex(output, -1) {
		text := output[m[0]:m[1]]
		name := output[m[2]:m[3]]
		f, ok := table[name]
		if !ok {
			return nil, fmt.Errorf("%s: unknown field %q (not in the plugin's field table)", text, name)
		}
		ref := fieldRef{def: f}
		if m[4] >= 0 {
			ref.arg, ref.hasArg = output[m[4]:m[5]], true
		}
		switch {
		case ref.hasArg && !f.ArgRequired:
			return nil, fmt.Errorf("%s: %s takes no argument", text, name)
		case !ref.hasArg && f.ArgRequired:
			return nil, fmt.Errorf("%s: %s requires an argument", text, name)
		case ref.hasArg && ref.arg == "":
			return nil, fmt.Errorf("%s: empty argument", text)
		}
		out = append(out, outputRef{text: text, ref: ref})
	}
	if strings.Count(output, "%") != len(out) {
		return nil, fmt.Errorf("output has %d %% signs but %d field references: %q", strings.Count(output, "%"), len(out), output)
	}
	return out, nil
}

// TestFieldsExistWithCompatibleTypes: every docker.* name in a condition (rules and
// macros) or an output is a field of the plugin, with a [key] argument iff the field
// takes one, and every comparison fits the field's type. Compilation enforces it;
// this test also reports what the rules read, and checks the compiled comparisons
// once more independently of the parser.
func TestFieldsExistWithCompatibleTypes(t *testing.T) {
	rs := loadRules(t)
	_, e, err := rs.compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name := range rs.macros {
		if _, err := e.macro(name); err != nil {
			t.Fatalf("macro %s: %v", name, err)
		}
	}
	if len(e.checks) == 0 {
		t.Fatal("no comparison compiled")
	}
	seen := map[string]bool{}
	numericCmp := 0
	for _, c := range e.checks {
		f := c.field.def
		if !strings.HasPrefix(f.Name, "docker.") {
			t.Errorf("%s: not a docker.* field", f.Name)
		}
		if fields.Table[f.ID].Name != f.Name {
			t.Errorf("%s: id %d does not index the table", f.Name, f.ID)
		}
		if c.field.hasArg != f.ArgRequired {
			t.Errorf("%s: argument %v, field takes one: %v", c.field, c.field.hasArg, f.ArgRequired)
		}
		switch {
		case slices.Contains(orderOps, c.op):
			numericCmp++
			if !isNumeric(f.Type) {
				t.Errorf("%s %s: ordering on a %s field", c.field, c.op, f.Type)
			}
		case slices.Contains(stringOps, c.op), c.op == "pmatch":
			if f.Type != fields.String {
				t.Errorf("%s %s: string operator on a %s field", c.field, c.op, f.Type)
			}
		}
		if isNumeric(f.Type) && c.op != "exists" && len(c.nums) != len(c.operands) {
			t.Errorf("%s %s %v: operands not numeric", c.field, c.op, c.operands)
		}
		seen[fmt.Sprintf("%s %s (%s)", c.field, c.op, f.Type)] = true
	}
	if numericCmp == 0 {
		t.Error("no numeric comparison: the uint64 exit code is not exercised")
	}
	var uses []string
	for k := range seen {
		uses = append(uses, k)
	}
	slices.Sort(uses)
	t.Logf("comparisons used by the rules:\n  %s", strings.Join(uses, "\n  "))

	for _, r := range rs.rules {
		refs, err := outputFields(r.Output)
		if err != nil {
			t.Errorf("rule %q output: %v", r.Name, err)
			continue
		}
		if len(refs) == 0 {
			t.Errorf("rule %q output prints no field", r.Name)
		}
		for _, o := range refs {
			if !strings.HasPrefix(o.ref.def.Name, "docker.") {
				t.Errorf("rule %q output: %s is not a docker.* field", r.Name, o.text)
			}
		}
	}
}

// TestShellExecMacro pins docker_exec_shell on the command lines moby logs: the
// executable (docker.exec.exe, the first word, trailing space trimmed by the
// plugin) must be a listed shell; a shell elsewhere in the command line, or a
// program whose name only starts like one, is not. Every list item is a bare
// name or an absolute path, and each matches with and without arguments and
// with the daemon's trailing space.
func TestShellExecMacro(t *testing.T) {
	rs := loadRules(t)
	_, e, err := rs.compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	shell, err := e.macro("docker_exec_shell")
	if err != nil {
		t.Fatal(err)
	}
	eval := func(cmdline string) bool {
		t.Helper()
		line, err := json.Marshal(map[string]any{"Type": "container", "Action": "exec_start: " + cmdline,
			"Actor": map[string]any{"ID": "aaaa1111", "Attributes": map[string]string{"execID": "cccc3333", "name": "web"}},
			"scope": "local", "time": 1760000000, "timeNano": 1760000000000000000})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := shell.eval(newEventSource(line))
		if err != nil {
			t.Fatalf("%q: %v", cmdline, err)
		}
		return ok
	}
	for cmdline, want := range map[string]bool{
		"sh ": true, "sh": true, "sh  ": true, "bash -c id": true, "/bin/sh ": true, "/bin/bash": true,
		"/usr/bin/zsh -l": true, "/usr/local/bin/bash -l": true, "dash -c 'x y'": true, "ash": true,
		"ssh host": false, "cat /bin/sh": false, "shellcheck run.sh": false, "bashful": false,
		"/bin/shell": false, "sh.real": false, "env sh": false, "busybox sh": false, "": false,
	} {
		if got := eval(cmdline); got != want {
			t.Errorf("docker_exec_shell on %q = %v, want %v", "exec_start: "+cmdline, got, want)
		}
	}
	for _, item := range rs.lists["docker_shell_binaries"] {
		if item == "" || strings.ContainsAny(item, " \t*?[") || (strings.Contains(item, "/") && !strings.HasPrefix(item, "/")) {
			t.Errorf("docker_shell_binaries item %q: want a bare name or an absolute path (docker.exec.exe is compared whole)", item)
			continue
		}
		for _, cmdline := range []string{item, item + " ", item + " -c id"} {
			if !eval(cmdline) {
				t.Errorf("docker_exec_shell does not match %q", "exec_start: "+cmdline)
			}
		}
	}
}
