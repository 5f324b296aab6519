package dockertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kind is a family of engines that speak one dialect of the Docker events
// API (see internal/event for what each sends).
type Kind string

const (
	// KindDocker is Docker Engine before API 1.52: the system daemon
	// (Docker 20.10, API 1.41, on the test machines).
	KindDocker Kind = "docker"
	// KindMoby is Docker Engine from moby v2 (API 1.56): the plugin
	// negotiates 1.52 and gets the event shape without status/id/from.
	KindMoby Kind = "moby"
	// KindPodman is Podman's Docker-compatible API.
	KindPodman Kind = "podman"
)

// Engine is one container engine the Docker integration tests drive. The
// system daemon is used as it is; the others are started by the tests
// themselves, on sockets, data directories and namespaces of their own, on
// first use, and stopped by Shutdown (TestMain calls it).
type Engine struct {
	// Name identifies the engine and its version in test names and in the
	// recorded corpora (tests/testdata/engines/<Name>.jsonl).
	Name string
	Kind Kind
	// API is the Engine API version the daemon announces.
	API string

	host string // unix:// endpoint; "" for the system daemon (DOCKER_HOST or the default socket)
	dir  string // private engines: everything they keep
	proc *daemonProc
	logf string

	imageOnce sync.Once
	imageRef  string
	imageErr  error
}

// Endpoint is the engine's address as plugin open params ("" is the system
// daemon, as Docker's environment names it).
func (e *Engine) Endpoint() string { return e.host }

// String is the engine's name.
func (e *Engine) String() string { return e.Name }

// Docker runs the docker CLI against the engine and returns its trimmed
// stdout; a failure fails the test with stderr.
func (e *Engine) Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := e.DockerMayFail(args...)
	if err != nil {
		t.Fatalf("%s: docker %s: %v", e.Name, strings.Join(args, " "), err)
	}
	return out
}

// DockerMayFail runs the docker CLI against the engine and returns its
// error (clean-up, or commands whose failure is the point).
func (e *Engine) DockerMayFail(args ...string) (string, error) {
	if e.host != "" {
		args = append([]string{"-H", e.host}, args...)
	}
	return runCmd(2*time.Minute, nil, nil, "docker", args...)
}

// Podman runs the podman CLI (remote, against the engine's own service) for
// what only Podman's own API does (pods, a run that pulls, health checks).
func (e *Engine) Podman(t testing.TB, args ...string) string {
	t.Helper()
	if e.Kind != KindPodman {
		t.Fatalf("%s is not Podman", e.Name)
	}
	out, err := runCmd(2*time.Minute, nil, nil, "podman", append([]string{"--remote", "--url", e.host}, args...)...)
	if err != nil {
		t.Fatalf("%s: podman %s: %v", e.Name, strings.Join(args, " "), err)
	}
	return out
}

// Get makes an Engine API request to the engine (path includes the
// version prefix and query), on its unix socket.
func (e *Engine) Get(t testing.TB, path string) *http.Response {
	t.Helper()
	host := e.host
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Fatalf("%s: %s is not a unix socket", e.Name, host)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := c.Get("http://engine" + path)
	if err != nil {
		t.Fatalf("%s: GET %s: %v", e.Name, path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Reload makes a daemon the tests started reload its configuration
// (SIGHUP), as an operator does after editing daemon.json.
func (e *Engine) Reload(t testing.TB) {
	t.Helper()
	if e.proc == nil {
		t.Fatalf("%s: only an engine the tests started is reloaded", e.Name)
	}
	if err := e.proc.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("%s: SIGHUP: %v", e.Name, err)
	}
}

// LogTail returns the last n lines a private engine logged.
func (e *Engine) LogTail(n int) string {
	if e.logf == "" {
		return "(the system daemon: see its own log)"
	}
	return tail(e.logf, n)
}

// Image returns the reference of the test image in this engine, importing
// it on first use. Shutdown removes it.
func (e *Engine) Image(t testing.TB) string {
	t.Helper()
	e.imageOnce.Do(func() { e.imageRef, e.imageErr = importTestImage(e) })
	if e.imageErr != nil {
		t.Fatalf("%s: test image: %v", e.Name, e.imageErr)
	}
	return e.imageRef
}

// Cleanup removes every container, network and volume of the engine
// labelled with nonce when the test ends.
func (e *Engine) Cleanup(t testing.TB, nonce string) {
	t.Cleanup(func() { e.removeLabelled("label=" + Label + "=" + nonce) })
}

func (e *Engine) removeLabelled(filter string) {
	if ids, _ := e.DockerMayFail("ps", "-aq", "--filter", filter); ids != "" {
		e.DockerMayFail(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	if ids, _ := e.DockerMayFail("network", "ls", "-q", "--filter", filter); ids != "" {
		e.DockerMayFail(append([]string{"network", "rm"}, strings.Fields(ids)...)...)
	}
	if ids, _ := e.DockerMayFail("volume", "ls", "-q", "--filter", filter); ids != "" {
		e.DockerMayFail(append([]string{"volume", "rm", "-f"}, strings.Fields(ids)...)...)
	}
}

// The engines of this test binary, each started (or found) once.
var (
	engMu   sync.Mutex
	engines = map[Kind]*engineSlot{}
)

type engineSlot struct {
	e   *Engine
	err error
}

// EngineOf returns the engine of kind k, starting it on first use. When it
// cannot run here the test is skipped, or fails with CI set.
func EngineOf(t testing.TB, k Kind) *Engine {
	t.Helper()
	engMu.Lock()
	s, ok := engines[k]
	if !ok {
		s = &engineSlot{}
		s.e, s.err = startEngine(k)
		engines[k] = s
	}
	engMu.Unlock()
	if s.err != nil {
		unavailable(t, "engine %s cannot run: %v", k, s.err)
	}
	return s.e
}

// AllKinds lists the engines of the test matrix.
var AllKinds = []Kind{KindDocker, KindMoby, KindPodman}

// ForEachEngine runs f as a subtest per engine of the matrix, named after
// the engine (TestX/docker-20.10, TestX/moby-api-1.56, TestX/podman-4.3).
func ForEachEngine(t *testing.T, f func(t *testing.T, e *Engine)) {
	for _, k := range AllKinds {
		e := EngineOf(t, k)
		t.Run(e.Name, func(t *testing.T) { f(t, e) })
	}
}

func startEngine(k Kind) (*Engine, error) {
	switch k {
	case KindDocker:
		return systemEngine()
	case KindMoby:
		return startMoby()
	case KindPodman:
		return startPodman()
	}
	return nil, fmt.Errorf("unknown engine kind %q", k)
}

func systemEngine() (*Engine, error) {
	if err := reachable(); err != nil {
		return nil, err
	}
	out, err := runCmd(20*time.Second, nil, nil, "docker", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}")
	if err != nil {
		return nil, err
	}
	version, api, _ := strings.Cut(out, " ")
	return &Engine{Name: "docker-" + majorMinor(version), Kind: KindDocker, API: api}, nil
}

// majorMinor is "20.10" of "20.10.24+dfsg1".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
}

// MobyDockerd is where the tests find moby v2's dockerd: $FDP_MOBY_DOCKERD,
// else build/engines/dockerd of the module (`make engines` builds it there
// from the Go module proxy).
func MobyDockerd() string {
	if p := os.Getenv("FDP_MOBY_DOCKERD"); p != "" {
		return p
	}
	return filepath.Join(moduleRoot(), "build", "engines", "dockerd")
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// mobyNamespace is the containerd namespace of the test's moby daemon in
// the system containerd (a fixed name, removed at Shutdown, so that nothing
// accumulates there).
const mobyNamespace = "falco-docker-plugin-test"

// systemContainerd is the containerd the system Docker 20.10 runs.
const systemContainerd = "/run/docker/containerd/containerd.sock"

func startMoby() (*Engine, error) {
	bin := MobyDockerd()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("moby v2 dockerd not found (%v): run `make engines`", err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("not root (euid %d): the tests cannot run a daemon of their own", os.Geteuid())
	}
	dir, err := os.MkdirTemp("", "fdp-moby-") // short: unix socket paths hold 107 bytes
	if err != nil {
		return nil, err
	}
	e := &Engine{Kind: KindMoby, dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"), logf: filepath.Join(dir, "dockerd.log")}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o600); err != nil {
		return nil, err
	}
	args := []string{
		// The system /etc/docker/daemon.json sets data-root and
		// storage-driver, which conflict with the flags.
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--host", e.host,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
		"--storage-driver=vfs",
		"--containerd=" + systemContainerd,
		"--containerd-namespace", mobyNamespace, "--containerd-plugins-namespace", mobyNamespace + "-plugins",
		"--cgroup-parent=/" + mobyNamespace,
		// Debian's runc 1.1.5 cannot create the time namespace this daemon
		// asks for: every start fails with `namespace {"time" ""} does not
		// exist` without it.
		"--feature", "time-namespaces=false",
		"--log-level", "warn",
	}
	if e.proc, err = startDaemonProc(bin, args, nil, e.logf); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	if err := e.waitUp(); err != nil {
		e.shutdown()
		return nil, err
	}
	e.Name = "moby-api-" + e.API
	return e, nil
}

// podmanConf is the containers.conf of the test's Podman service.
//   - default_ulimits: the test machines lack CAP_SYS_RESOURCE, and Podman's
//     default RLIMIT_NOFILE/NPROC (1048576) make every start fail ("error
//     setting rlimit type 7"); nproc >= 65536 is refused too.
//   - cgroupfs and a file event log: no systemd, no journald.
//   - every path of its own, so that nothing reaches the host's Podman.
//   - exit_command_delay: an exec session's conmon otherwise lingers 300 s.
const podmanConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"
tmp_dir = "%[1]s/tmp"
exit_command_delay = 2
volume_path = "%[1]s/volumes"

[network]
network_config_dir = "%[1]s/networks"
`

func startPodman() (*Engine, error) {
	bin, err := exec.LookPath("podman")
	if err != nil {
		return nil, fmt.Errorf("podman not found (%v): run `make engines` (apt-get install podman)", err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("not root (euid %d): the tests cannot run a Podman service of their own", os.Geteuid())
	}
	dir, err := os.MkdirTemp("", "fdp-pm-")
	if err != nil {
		return nil, err
	}
	e := &Engine{Kind: KindPodman, dir: dir, host: "unix://" + filepath.Join(dir, "podman.sock"), logf: filepath.Join(dir, "podman.log")}
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(podmanConf, dir)), 0o600); err != nil {
		return nil, err
	}
	args := []string{
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--storage-driver", "vfs", "--log-level", "warning",
		"system", "service", "--time=0", e.host,
	}
	if e.proc, err = startDaemonProc(bin, args, []string{"CONTAINERS_CONF=" + conf}, e.logf); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start podman system service: %w", err)
	}
	if err := e.waitUp(); err != nil {
		e.shutdown()
		return nil, err
	}
	v, err := runCmd(20*time.Second, nil, nil, "podman", "--remote", "--url", e.host, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		e.shutdown()
		return nil, err
	}
	e.Name = "podman-" + majorMinor(v)
	return e, nil
}

// waitUp waits until the engine's API answers, and reads its API version.
func (e *Engine) waitUp() error {
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := e.DockerMayFail("version", "--format", "{{.Server.APIVersion}}")
		if err == nil && out != "" {
			e.API = out
			return nil
		}
		select {
		case err := <-e.proc.exited:
			e.proc.exited <- err // for shutdown
			return fmt.Errorf("exited at start (%v); log:\n%s", err, tail(e.logf, 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not answer within a minute (%v); log:\n%s", err, tail(e.logf, 30))
		}
	}
}

// Shutdown removes the test images the binary imported and stops the
// engines it started. TestMain calls it after the tests; what it could not
// clean is returned.
func Shutdown() error {
	engMu.Lock()
	defer engMu.Unlock()
	var errs []string
	for _, k := range AllKinds {
		s := engines[k]
		if s == nil || s.e == nil {
			continue
		}
		if err := s.e.shutdown(); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", s.e.Name, err))
		}
	}
	engines = map[Kind]*engineSlot{}
	if len(errs) > 0 {
		return fmt.Errorf("engine clean-up: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (e *Engine) shutdown() error {
	var errs []string
	if e.imageRef != "" {
		if _, err := e.DockerMayFail("rmi", "-f", e.imageRef); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if e.proc == nil {
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	}
	// Whatever a failed test left running goes with the daemon's data.
	if ids, _ := e.DockerMayFail("ps", "-aq"); ids != "" {
		e.DockerMayFail(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	if err := e.proc.stop(45 * time.Second); err != nil {
		errs = append(errs, err.Error())
	}
	// Podman's conmon of an exec session outlives the service by
	// exit_command_delay; the daemons' leftovers hold files in dir.
	killReferring(e.dir)
	if e.Kind == KindMoby {
		// Empty once its containers are gone; the cgroup parents too.
		runCmd(20*time.Second, nil, nil, "ctr", "--address", systemContainerd, "namespaces", "remove", mobyNamespace)
		runCmd(20*time.Second, nil, nil, "ctr", "--address", systemContainerd, "namespaces", "remove", mobyNamespace+"-plugins")
		if dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + mobyNamespace); len(dirs) > 0 {
			for _, d := range dirs {
				syscall.Rmdir(d)
			}
		}
	}
	if err := os.RemoveAll(e.dir); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// killReferring SIGKILLs the processes whose command line names dir.
func killReferring(dir string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func runCmd(timeout time.Duration, stdin []byte, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
