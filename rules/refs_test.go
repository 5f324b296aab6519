package rules

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/falco-docker/docker-plugin/internal/fields"
)

func TestConditionFields(t *testing.T) {
	const file = `
- list: shells
  items: [sh, bash]
- list: names
  items: [shells, docker.type]
- macro: is_container
  condition: docker.type = container
- macro: is_shell
  condition: (docker.exec.exe in (names) or docker.attributes[execType] exists)
- rule: first
  desc: d
  condition: is_container and docker.action.name = exec_start and is_shell and not is_shell
  output: o %docker.container.name
  priority: NOTICE
  source: docker
- rule: disabled
  desc: d
  condition: docker.scope = local
  output: o
  priority: NOTICE
  source: docker
  enabled: false
- rule: other source
  desc: d
  condition: docker.scope = local
  output: o
  priority: NOTICE
  source: k8s_audit
- rule: second
  desc: d
  condition: docker.image.name pmatch (registry.example.com, docker.io) and docker.container.exitcode > 128
  output: o
  priority: NOTICE
  source: docker
`
	got, err := ConditionFields([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	shell := []FieldRef{{Name: "docker.exec.exe"}, {Name: "docker.attributes", Arg: "execType", HasArg: true}}
	want := []RuleFields{
		{Rule: "first", Fields: slices.Concat([]FieldRef{{Name: "docker.type"}, {Name: "docker.action.name"}}, shell, shell)},
		{Rule: "second", Fields: []FieldRef{{Name: "docker.image.name"}, {Name: "docker.container.exitcode"}}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rules %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].Rule != want[i].Rule || !slices.Equal(got[i].Fields, want[i].Fields) {
			t.Errorf("rule %d: got %s %v, want %s %v", i, got[i].Rule, got[i].Fields, want[i].Rule, want[i].Fields)
		}
	}
	if _, err := ConditionFields([]byte("- rule: r\n  condition: undefined_macro\n  source: docker\n")); err == nil {
		t.Error("an undefined macro was accepted")
	}
}

// TestShippedConditionFields: the embedded file is the shipped one, and
// every enabled rule names fields of the table.
func TestShippedConditionFields(t *testing.T) {
	disk, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, File) {
		t.Fatal("rules.File differs from docker_rules.yaml")
	}
	got, err := ConditionFields(File)
	if err != nil {
		t.Fatal(err)
	}
	rs := loadRules(t)
	if len(got) != len(rs.rules) {
		t.Errorf("%d enabled docker rules, the file has %d rules", len(got), len(rs.rules))
	}
	total := 0
	for _, r := range got {
		if len(r.Fields) == 0 {
			t.Errorf("rule %q: no field references", r.Rule)
		}
		for _, f := range r.Fields {
			if !slices.ContainsFunc(fields.Table, func(d fields.Field) bool { return d.Name == f.Name }) {
				t.Errorf("rule %q: %s is not in the field table", r.Rule, f)
			}
		}
		total += len(r.Fields)
	}
	t.Logf("%d rules, %d field references (extraction calls per event at most)", len(got), total)
}
