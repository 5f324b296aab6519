package main

import (
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	m := mutation{Name: "x", File: "f.go", Old: "a := 1\n", New: "a := 2\n"}
	for _, tc := range []struct{ in, want, err string }{
		{"x\na := 1\ny\n", "x\na := 2\ny\n", ""},
		{"x\n", "", "no longer contains"},
		{"a := 1\na := 1\n", "", "2 times"},
	} {
		got, err := m.apply([]byte(tc.in))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("apply(%q): err %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("apply(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestMutationsWellFormed: names are unique (logs are named after them),
// and every entry says what it breaks and what catches it.
func TestMutationsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range mutations {
		if m.Name == "" || seen[m.Name] || strings.ContainsAny(m.Name, " /,") {
			t.Errorf("mutation name %q: empty, repeated or not a file name", m.Name)
		}
		seen[m.Name] = true
		if m.Bug == "" || m.Catch == "" || m.File == "" || m.Old == m.New {
			t.Errorf("mutation %s: needs a bug, a catcher, a file and a change", m.Name)
		}
	}
}

func TestFailingTests(t *testing.T) {
	out := "--- FAIL: TestA (0.1s)\n    --- FAIL: TestA/sub (0.0s)\n--- FAIL: TestA (0.1s)\nFAIL\n"
	if got := failingTests([]byte(out)); got != "TestA, TestA/sub" {
		t.Errorf("failingTests = %q", got)
	}
	if got := failingTests([]byte("panic: boom\n")); got != "panic: boom" {
		t.Errorf("failingTests(panic) = %q", got)
	}
	if got := failingTests([]byte("FAIL: x.so is not the docker plugin\nFAIL\tpkg\t0.01s\n")); got != "FAIL: x.so is not the docker plugin" {
		t.Errorf("failingTests(TestMain) = %q", got)
	}
}
