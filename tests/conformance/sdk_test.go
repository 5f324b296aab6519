package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSDKPlugin: a plugin written with plugin-sdk-go's high-level API
// (tests/sdkplugin, a module of its own) passes every FAIL check, and none
// is skipped.
func TestSDKPlugin(t *testing.T) {
	so := filepath.Join(t.TempDir(), "libsdktest.so")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", so, ".")
	cmd.Dir = "../sdkplugin"
	// Its own module: a go.work of the caller must not pull it into
	// another build list.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (tests/sdkplugin): %v\n%s", err, b)
	}
	rep, err := Run(Options{Plugin: so})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		switch {
		case r.Status == Fail:
			t.Errorf("FAIL %s: %v %v", r.ID, r.Details, r.Crash)
		case r.Status == Skip && r.Level == Fail:
			t.Errorf("FAIL check %s skipped: %v", r.ID, r.Details)
		case r.Status == Warn:
			t.Logf("WARN %s: %v", r.ID, r.Details)
		}
	}
	if rep.Plugin.Name != "sdktest" || rep.Plugin.ID != 999 || rep.Children != 1 {
		t.Errorf("plugin %+v, %d child processes", rep.Plugin, rep.Children)
	}
	if t.Failed() || testing.Verbose() {
		rep.WriteTable(os.Stdout, t.Failed())
	}
}

// TestSDKPluginModule: tests/sdkplugin is written with the SDK's high-level
// packages, and the main module never descends into it (its own go.mod):
// go list ./... and go vet ./... of the main module skip it, and the
// forbidden-import rule (tests/TestForbiddenImports) keeps holding.
func TestSDKPluginModule(t *testing.T) {
	list := func(dir string, args ...string) string {
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %v in %s: %v\n%s", args, dir, err, b)
		}
		return string(b)
	}
	const sdk = "github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins"
	deps := list("../sdkplugin", "-deps", ".")
	for _, p := range []string{sdk, sdk + "/source", sdk + "/extractor"} {
		if !strings.Contains(deps, p+"\n") {
			t.Errorf("tests/sdkplugin does not use %s", p)
		}
	}
	main := list("../..", "./...")
	if strings.Contains(main, "sdkplugin") {
		t.Errorf("the main module lists tests/sdkplugin:\n%s", main)
	}
	if strings.Contains(list("../..", "-deps", "./..."), sdk+"\n") {
		t.Errorf("the main module depends on %s", sdk)
	}
}
