package conformance

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// checksTable is the README's table of the FAIL and WARN checks.
func checksTable() string {
	var b strings.Builder
	b.WriteString("| Check | Level | Rule | From |\n|---|---|---|---|\n")
	for _, c := range Catalog {
		if c.Level == Info {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.ID, c.Level, strings.ReplaceAll(c.Rule, "|", `\|`), c.Source)
	}
	return b.String()
}

// TestReadmeChecks keeps the README's checks table equal to the catalog;
// UPDATE_README=1 rewrites it.
func TestReadmeChecks(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const beginTag, end = "<!-- conformance-checks:begin", "<!-- conformance-checks:end -->"
	i := strings.Index(s, beginTag)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s ... %s markers", beginTag, end)
	}
	i += strings.Index(s[i:], "\n") + 1
	if s[i:j] == checksTable() {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		if err := os.WriteFile(path, []byte(s[:i]+checksTable()+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's checks table differs from the catalog (UPDATE_README=1 go test -run TestReadmeChecks ./tests/conformance/ rewrites it):\n%s", checksTable())
}
