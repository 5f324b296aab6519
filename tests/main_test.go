// Package tests is the conformance suite: it builds libdocker.so, dlopens it
// through the harness (tests/harness) and drives the plugin API exactly as
// Falco does.
//
// Environment:
//
//	DOCKER_PLUGIN_SO   path of an already built libdocker.so (make test sets
//	                   it); otherwise TestMain builds one.
//	HARNESS_PLUGIN     path of ANY other plugin .so: only the generic checks
//	                   run (the docker-specific ones skip).
//	CI=true            the Docker daemon tests must run (fail, not skip).
package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/dockertest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

var (
	plug     *harness.Plugin
	soPath   string
	isDocker bool
	modRoot  string
	buildDir string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The plugin's runtime reads TZ once, when it is loaded: pin it so the
	// event_to_string lines are deterministic.
	os.Setenv("TZ", "UTC")
	var err error
	modRoot, err = filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buildDir, err = os.MkdirTemp("", "docker-plugin-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(buildDir)

	switch {
	case os.Getenv("HARNESS_PLUGIN") != "":
		soPath = os.Getenv("HARNESS_PLUGIN")
	case os.Getenv("DOCKER_PLUGIN_SO") != "":
		soPath = os.Getenv("DOCKER_PLUGIN_SO")
	default:
		soPath = filepath.Join(buildDir, "libdocker.so")
		if err := buildPlugin(soPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	plug, err = harness.Load(soPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load plugin:", err)
		return 1
	}
	isDocker = plug.Name() == "docker" && plug.ID() == 5
	code := m.Run()
	if err := dockertest.Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// buildPlugin builds the plugin (extra go build args, e.g. -tags) into out.
func buildPlugin(out string, extra ...string) error {
	args := append([]string{"build", "-buildmode=c-shared", "-o", out}, extra...)
	args = append(args, "./plugin")
	cmd := exec.Command("go", args...)
	cmd.Dir = modRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// needDocker skips a docker-specific test when the harness drives another
// plugin.
func needDocker(t testing.TB) {
	t.Helper()
	if !isDocker {
		t.Skipf("HARNESS_PLUGIN=%s is not the docker plugin: docker-specific check skipped", soPath)
	}
}

// initOK inits with cfg and registers the destroy.
func initOK(t testing.TB, cfg string) harness.State {
	t.Helper()
	s, rc := plug.Init(cfg)
	if rc != harness.Success {
		msg := plug.LastError(s)
		plug.Destroy(s)
		t.Fatalf("plugin_init(%q) rc=%d: %s", cfg, rc, msg)
	}
	t.Cleanup(func() { plug.Destroy(s) })
	return s
}

// openOK opens params and registers the close.
func openOK(t testing.TB, s harness.State, params string) harness.Instance {
	t.Helper()
	i, rc := plug.Open(s, params)
	if rc != harness.Success {
		t.Fatalf("plugin_open(%q) rc=%d: %s", params, rc, plug.LastError(s))
	}
	t.Cleanup(func() { plug.Close(s, i) })
	return i
}

func fixture(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fileURI(path string) string { return "file://" + path }
