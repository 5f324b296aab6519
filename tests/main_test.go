// Package tests is the conformance suite: it builds libdocker.so, dlopens it
// through the harness (tests/harness) and drives the plugin API exactly as
// Falco does.
//
// Environment:
//
//	DOCKER_PLUGIN_SO   path of an already built libdocker.so (make test sets
//	                   it); otherwise TestMain builds one. It must be the
//	                   docker plugin (name docker, id 5, source docker): any
//	                   other identity fails the run instead of skipping the
//	                   docker tests.
//	HARNESS_PLUGIN     path of ANY plugin .so: the conformance suite
//	                   (tests/conformance, TestConformance) runs on it, and
//	                   the docker-specific tests skip unless it is the docker
//	                   plugin. HARNESS_INIT and HARNESS_OPEN give the suite
//	                   its init config and open params.
//	CI=true            the Docker daemon tests must run (fail, not skip).
package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/conformance"
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
	// TestConformance runs the plugin in children re-executing this binary.
	conformance.ChildMain()
	os.Exit(run(m))
}

// The docker plugin's identity (the registry's plugin id 5).
const (
	dockerName   = "docker"
	dockerID     = 5
	dockerSource = "docker"
)

// dockerIdentity returns an error unless p says it is the docker plugin.
func dockerIdentity(p *harness.Plugin) error {
	if p.Name() != dockerName || p.ID() != dockerID || p.EventSource() != dockerSource {
		return fmt.Errorf("%s is not the docker plugin: name %q, id %d, source %q (want %q, %d, %q)",
			p.Path, p.Name(), p.ID(), p.EventSource(), dockerName, dockerID, dockerSource)
	}
	return nil
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
	// The docker tests run unless HARNESS_PLUGIN names another plugin; a
	// plugin under test that is not the docker plugin without it (an id
	// changed by mistake) fails the run rather than skipping them.
	idErr := dockerIdentity(plug)
	if os.Getenv("HARNESS_PLUGIN") == "" && idErr != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", idErr, "(set HARNESS_PLUGIN to test another plugin)")
		return 1
	}
	isDocker = idErr == nil
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

// needDocker skips a docker-specific test when HARNESS_PLUGIN names another
// plugin (the only case where isDocker is false).
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
