package tests

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/docgen"
)

// TestReadmeTablesFresh: README's field and init config tables are what the
// built plugin reports. Run `make readme` when this fails.
func TestReadmeTablesFresh(t *testing.T) {
	needDocker(t)
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := plug.InitSchema()
	want, err := docgen.Render(string(doc), plug.FieldsJSON(), schema)
	if err != nil {
		t.Fatal(err)
	}
	if want != string(doc) {
		t.Fatal("README.md's generated tables are stale: run `make readme`")
	}
	// Every field the plugin declares appears in the README.
	for _, f := range mustFields(t) {
		if !strings.Contains(string(doc), "| `"+f.Name+"` |") {
			t.Errorf("README lacks field %s", f.Name)
		}
	}
}

// TestReadmeCommands: the make targets README tells users to type exist.
func TestReadmeCommands(t *testing.T) {
	needDocker(t)
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"run", "test", "install", "uninstall", "package", "rules", "bench", "readme", "clean"} {
		if !strings.Contains(string(doc), "make "+target) {
			continue
		}
		cmd := exec.Command("make", "-n", target)
		cmd.Dir = modRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README mentions `make %s` but make -n %s fails: %v\n%s", target, target, err, out)
		}
	}
}
