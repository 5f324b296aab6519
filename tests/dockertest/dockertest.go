// Package dockertest gives the Docker integration tests (tests/ through the
// ABI, rules/ with the rules evaluator) the real engines of the test matrix
// and a test image in each: the system Docker daemon, a Docker Engine from
// moby v2 and a Podman service, the last two started by the tests on
// sockets, data directories and namespaces of their own (engines.go).
//
// No registry is reachable where this project is tested, so the image is
// built from nothing: tests/cmd/testbox compiled static (CGO_ENABLED=0),
// packed into a tarball as /testbox and /bin/sh, and `docker import`ed.
//
// Require skips when no daemon answers, except in CI (CI set to anything),
// where the integration tests must run and an unreachable engine fails
// them. TestMain calls Shutdown, which removes the test images and stops
// the engines the tests started.
package dockertest

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Label marks everything the tests create, so filters and clean-up find
// it: Label=<nonce of the test>.
const Label = "falco-docker-plugin-test"

// Require skips (or, in CI, fails) the test when the docker CLI or
// daemon is unavailable.
func Require(t testing.TB) {
	t.Helper()
	if err := reachable(); err != nil {
		unavailable(t, "no Docker daemon is reachable (%v)", err)
	}
}

var (
	reachOnce sync.Once
	reachErr  error
)

func reachable() error {
	reachOnce.Do(func() {
		if _, err := exec.LookPath("docker"); err != nil {
			reachErr = fmt.Errorf("docker CLI not found: %w", err)
			return
		}
		_, reachErr = run(20*time.Second, nil, "version", "--format", "{{.Server.APIVersion}}")
	})
	return reachErr
}

// System is the system daemon as an Engine of the matrix.
func System(t testing.TB) *Engine {
	t.Helper()
	Require(t)
	return EngineOf(t, KindDocker)
}

// APIVersion is the daemon's API version.
func APIVersion(t testing.TB) string {
	return System(t).API
}

// Docker runs the docker CLI against the system daemon and returns its
// trimmed stdout; a failure fails the test with stderr.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	return System(t).Docker(t, args...)
}

// DockerMayFail runs the docker CLI against the system daemon and returns
// its error (clean-up, or commands whose failure is the point).
func DockerMayFail(args ...string) (string, error) {
	return run(2*time.Minute, nil, args...)
}

func run(timeout time.Duration, stdin []byte, args ...string) (string, error) {
	return runCmd(timeout, stdin, nil, "docker", args...)
}

// Nonce returns a fresh name suffix.
func Nonce() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Image returns the test image's reference in the system daemon, importing
// it on first use; Shutdown removes it.
func Image(t testing.TB) string {
	t.Helper()
	return System(t).Image(t)
}

// The test image's tarball, built once per test binary.
var (
	tarOnce sync.Once
	tarData []byte
	tarHash string
	tarErr  error
	runID   = Nonce()
)

// importTestImage imports the test image into e under a tag of this test
// binary's own (tests of several binaries, or checkouts, may run at once on
// one daemon; each removes only its own image).
func importTestImage(e *Engine) (string, error) {
	tarOnce.Do(func() { tarData, tarHash, tarErr = buildImageTar() })
	if tarErr != nil {
		return "", tarErr
	}
	ref := "falco-docker-plugin-testbox:" + tarHash + "-" + runID
	args := []string{"import", "-c", `ENTRYPOINT ["/testbox"]`, "-c", `CMD ["sleep"]`, "-m", "falco docker plugin test image", "-", ref}
	if e.host != "" {
		args = append([]string{"-H", e.host}, args...)
	}
	if _, err := runCmd(2*time.Minute, tarData, nil, "docker", args...); err != nil {
		return "", fmt.Errorf("docker import: %w", err)
	}
	return ref, nil
}

func buildImageTar() (data []byte, hash string, err error) {
	dir, err := os.MkdirTemp("", "testbox-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "testbox")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./tests/cmd/testbox")
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("go build testbox: %v\n%s", err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(exe)
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	now := time.Now()
	for _, d := range []string{"bin/", "tmp/"} {
		tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now})
	}
	for _, name := range []string{"testbox", "bin/sh"} {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(exe)), ModTime: now})
		tw.Write(exe)
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	return tb.Bytes(), hex.EncodeToString(sum[:6]), nil
}

// Cleanup removes every container, network and volume of the system
// daemon labelled with nonce when the test ends.
func Cleanup(t testing.TB, nonce string) {
	System(t).Cleanup(t, nonce)
}
