// Package dockertest gives the Docker integration tests (tests/ through the
// ABI, rules/ with the rules evaluator) a reachable daemon and a test image.
//
// No registry is reachable where this project is tested, so the image is
// built from nothing: tests/cmd/testbox compiled static (CGO_ENABLED=0),
// packed into a tarball as /testbox and /bin/sh, and `docker import`ed.
//
// Require skips when no daemon answers, except with CI=true, where the
// integration tests must run and an unreachable daemon fails them.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Label marks everything the tests create, so filters and clean-up find
// it: Label=<nonce of the test>.
const Label = "falco-docker-plugin-test"

// Require skips (or, with CI=true, fails) the test when the docker CLI or
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

// APIVersion is the daemon's API version.
func APIVersion(t testing.TB) string {
	return Docker(t, "version", "--format", "{{.Server.APIVersion}}")
}

// Docker runs the docker CLI and returns its trimmed stdout; a failure
// fails the test with stderr.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := run(2*time.Minute, nil, args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// DockerMayFail runs the docker CLI and returns its error (clean-up, or
// commands whose failure is the point).
func DockerMayFail(args ...string) (string, error) {
	return run(2*time.Minute, nil, args...)
}

func run(timeout time.Duration, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Nonce returns a fresh name suffix.
func Nonce() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	imageOnce sync.Once
	imageRef  string
	imageErr  error
)

// Image returns the test image's reference, building and importing it on
// first use (the tag is the binary's hash, so an unchanged image is reused).
func Image(t testing.TB) string {
	t.Helper()
	Require(t)
	imageOnce.Do(func() { imageRef, imageErr = buildImage() })
	if imageErr != nil {
		t.Fatalf("test image: %v", imageErr)
	}
	return imageRef
}

func buildImage() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir, err := os.MkdirTemp("", "testbox-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "testbox")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./tests/cmd/testbox")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build testbox: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	ref := "falco-docker-plugin-testbox:" + hex.EncodeToString(sum[:6])
	if _, err := run(time.Minute, nil, "image", "inspect", ref); err == nil {
		return ref, nil
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	now := time.Now()
	for _, d := range []string{"bin/", "tmp/"} {
		tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now})
	}
	for _, name := range []string{"testbox", "bin/sh"} {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data)), ModTime: now})
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if _, err := run(2*time.Minute, tb.Bytes(), "import",
		"-c", `ENTRYPOINT ["/testbox"]`, "-c", `CMD ["sleep"]`,
		"-m", "falco docker plugin test image", "-", ref); err != nil {
		return "", fmt.Errorf("docker import: %w", err)
	}
	return ref, nil
}

// Cleanup removes every container, network and volume labelled with
// nonce when the test ends.
func Cleanup(t testing.TB, nonce string) {
	t.Cleanup(func() {
		f := "label=" + Label + "=" + nonce
		if ids, _ := DockerMayFail("ps", "-aq", "--filter", f); ids != "" {
			DockerMayFail(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
		}
		if ids, _ := DockerMayFail("network", "ls", "-q", "--filter", f); ids != "" {
			DockerMayFail(append([]string{"network", "rm"}, strings.Fields(ids)...)...)
		}
		if ids, _ := DockerMayFail("volume", "ls", "-q", "--filter", f); ids != "" {
			DockerMayFail(append([]string{"volume", "rm", "-f"}, strings.Fields(ids)...)...)
		}
	})
}
