package dockertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Daemon is a dockerd of the test's own, for tests that must stop and
// restart the daemon the plugin is reading. Everything it keeps is under
// one temporary directory: its socket, data root, exec root, pidfile and
// the containerd it supervises (dockerd starts one under its exec root when
// none is named). It runs in network and mount namespaces of its own: a
// dockerd started with --bridge=none deletes any docker0 interface it sees
// (the system daemon's, in the host namespace), and bind-mounts its data
// root onto itself. It also runs without iptables rules or IP forwarding
// and with the vfs storage driver, so it needs no set-up and changes
// nothing the system daemon uses. An empty config file replaces
// /etc/docker/daemon.json, whose data-root or storage-driver would
// otherwise conflict with the flags.
type Daemon struct {
	dir  string
	sock string
	logf string
	proc *daemonProc // the running dockerd, nil when stopped
}

// StartDaemon starts a private dockerd and stops it, and removes its
// directory, when the test ends. It needs the dockerd binary and root; when
// either is missing the test is skipped, except in CI (CI set), where it fails.
func StartDaemon(t testing.TB) *Daemon {
	t.Helper()
	Require(t)
	if _, err := exec.LookPath("dockerd"); err != nil {
		unavailable(t, "dockerd not found (%v): the test cannot run a daemon of its own", err)
	}
	if os.Geteuid() != 0 {
		unavailable(t, "not root (euid %d): the test cannot run a daemon of its own", os.Geteuid())
	}
	// Short on purpose: a unix socket path has a limit of 107 bytes, and
	// containerd makes sockets below the exec root.
	dir, err := os.MkdirTemp("", "fdp-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{dir: dir, sock: filepath.Join(dir, "docker.sock"), logf: filepath.Join(dir, "dockerd.log")}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostIfs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.proc != nil {
			d.Stop(t)
		}
		if t.Failed() {
			t.Logf("test dockerd log (tail):\n%s", d.LogTail(40))
		}
		if gone := vanished(hostIfs); len(gone) > 0 {
			t.Errorf("host network interfaces vanished while the test dockerd ran: %s", strings.Join(gone, ", "))
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove the test dockerd's directory: %v", err)
		}
	})
	d.Start(t)
	return d
}

// Endpoint is the daemon's address as plugin open params.
func (d *Daemon) Endpoint() string { return "unix://" + d.sock }

// Start starts dockerd and waits until its API answers.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	if d.proc != nil {
		t.Fatalf("test dockerd already running (pid %d)", d.proc.proc.Pid)
	}
	args := []string{
		"--config-file", filepath.Join(d.dir, "daemon.json"),
		"--host", d.Endpoint(),
		"--data-root", filepath.Join(d.dir, "data"),
		"--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "docker.pid"),
		"--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
		"--storage-driver", "vfs",
		// Its own containerd namespaces, should it ever share a containerd.
		"--containerd-namespace", "fdp-test", "--containerd-plugins-namespace", "fdp-test-plugins",
		"--log-level", "warn",
	}
	p, err := startDaemonProc("dockerd", args, nil, d.logf)
	if err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	d.proc = p
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := run(10*time.Second, nil, "-H", d.Endpoint(), "version", "--format", "{{.Server.APIVersion}}"); err == nil {
			return
		}
		select {
		case err := <-p.exited:
			d.proc = nil
			t.Fatalf("test dockerd exited at start (%v); log:\n%s", err, d.LogTail(40))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("test dockerd did not answer within a minute; log:\n%s", d.LogTail(40))
		}
	}
}

// Stop stops dockerd as an operator's restart would (SIGTERM: it closes
// event streams and stops its containerd), and waits for it to exit.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	if d.proc == nil {
		return
	}
	if err := d.proc.stop(45 * time.Second); err != nil {
		t.Errorf("test dockerd: %v", err)
	}
	d.proc = nil
}

// Docker runs the docker CLI against this daemon.
func (d *Daemon) Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := run(2*time.Minute, nil, append([]string{"-H", d.Endpoint()}, args...)...)
	if err != nil {
		t.Fatalf("docker -H %s %s: %v", d.Endpoint(), strings.Join(args, " "), err)
	}
	return out
}

// LogTail returns the last n lines dockerd logged.
func (d *Daemon) LogTail(n int) string {
	b, err := os.ReadFile(d.logf)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// unavailable skips the test for a missing prerequisite, or fails it in CI
// (CI set to any value), where every Docker integration test must run.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if ci := os.Getenv("CI"); inCI(ci) {
		t.Fatalf("CI=%s: the Docker integration tests must run, but %s", ci, msg)
	}
	t.Skipf("%s: Docker integration test skipped (it runs, and must pass, in CI)", msg)
}

// inCI reports whether the CI environment variable says this is a CI run.
// Any non-empty value counts: CI systems set CI=true, CI=1 or CI=yes, and a
// check for one spelling would silently skip every Docker test under the
// others (.ci/run sets CI=true itself).
func inCI(ci string) bool { return ci != "" }

// vanished names the interfaces of before that no longer exist.
// A container's veth pair comes and goes with the container (other tests,
// or other users of the system daemon): only the others count.
func vanished(before []net.Interface) []string {
	var gone []string
	for _, i := range before {
		if strings.HasPrefix(i.Name, "veth") {
			continue
		}
		if _, err := net.InterfaceByName(i.Name); err != nil {
			gone = append(gone, i.Name)
		}
	}
	return gone
}
