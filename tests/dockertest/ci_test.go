package dockertest

import "testing"

// TestInCI: any non-empty CI value makes the Docker tests required; only an
// unset or empty CI lets them skip.
func TestInCI(t *testing.T) {
	for ci, want := range map[string]bool{"": false, "true": true, "1": true, "yes": true, "false": true} {
		if got := inCI(ci); got != want {
			t.Errorf("inCI(%q) = %v, want %v", ci, got, want)
		}
	}
}
