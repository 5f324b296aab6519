package tests

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestPprofOption: pprofAddr serves net/http/pprof from the plugin's own
// runtime on loopback, and stops with the plugin state.
func TestPprofOption(t *testing.T) {
	needDocker(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s, rc := plug.Init(fmt.Sprintf(`{"pprofAddr":%q}`, addr))
	if rc != harness.Success {
		t.Fatalf("init: %s", plug.LastError(s))
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		plug.Destroy(s)
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The goroutine dump is the plugin's runtime: it shows the plugin's code.
	if resp.StatusCode != 200 || !strings.Contains(string(body), "docker-plugin/abi") {
		t.Errorf("pprof answered %d:\n%.500s", resp.StatusCode, body)
	}
	plug.Destroy(s)
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("pprof server still listening after plugin_destroy")
	}
	// The same port is free again for a new state.
	s2, rc := plug.Init(fmt.Sprintf(`{"pprofAddr":%q}`, addr))
	if rc != harness.Success {
		t.Errorf("re-init on the same address: %s", plug.LastError(s2))
	}
	plug.Destroy(s2)
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "example.com:80"} {
		s, rc := plug.Init(fmt.Sprintf(`{"pprofAddr":%q}`, bad))
		msg := plug.LastError(s)
		plug.Destroy(s)
		if rc != harness.Failure || !strings.Contains(msg, "pprofAddr") {
			t.Errorf("pprofAddr %q: rc=%d %q, want refusal", bad, rc, msg)
		}
	}
}

// TestPprofHardening: the profiler is unauthenticated, so it exposes as
// little as it can. /debug/pprof/cmdline (Falco's argv, which can carry
// secrets given with -o) is not served; profile and trace durations are
// capped (a trace?seconds=N without cap held a CPU-heavy trace for as long
// as anyone on the host asked); and a unix socket, readable by its owner
// only, can replace the loopback port, which every local user can reach.
func TestPprofHardening(t *testing.T) {
	needDocker(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	initOK(t, fmt.Sprintf(`{"pprofAddr":%q}`, addr))
	c := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/cmdline"); code == 200 {
		t.Errorf("/debug/pprof/cmdline served the host's argv: %.200q", body)
	}
	if code, body := get("/debug/pprof/"); code != 200 || strings.Contains(body, "cmdline") {
		t.Errorf("index: %d, lists cmdline: %v", code, strings.Contains(body, "cmdline"))
	}
	for _, path := range []string{"/debug/pprof/profile?seconds=3600", "/debug/pprof/trace?seconds=100000", "/debug/pprof/heap?seconds=86400", "/debug/pprof/profile?seconds=x"} {
		start := time.Now()
		code, body := get(path)
		if code != http.StatusBadRequest || !strings.Contains(body, "seconds") || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %d after %s: %.200q; want a prompt 400", path, code, time.Since(start).Round(time.Millisecond), body)
		}
	}
	if code, _ := get("/debug/pprof/profile?seconds=1"); code != 200 {
		t.Errorf("a 1 s CPU profile: %d", code)
	}

	// The unix socket: owner-only, gone at destroy.
	dir, err := os.MkdirTemp("", "pp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "pprof.sock")
	su, rc := plug.Init(fmt.Sprintf(`{"pprofAddr":"unix://%s"}`, sock))
	if rc != harness.Success {
		t.Fatalf("init with a unix socket: %s", plug.LastError(su))
	}
	st, err := os.Stat(sock)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("pprof socket %s: %v, mode %v; want a socket of mode 0600", sock, err, st.Mode())
	}
	uc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	if resp, err := uc.Get("http://pprof/debug/pprof/goroutine?debug=1"); err != nil || resp.StatusCode != 200 {
		t.Errorf("pprof over the unix socket: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	plug.Destroy(su)
	if _, err := os.Lstat(sock); err == nil {
		t.Errorf("the pprof socket is left behind after plugin_destroy")
	}
	for _, bad := range []string{"unix://relative.sock", "unix://", "unix:///" + strings.Repeat("d", 200) + "/p.sock"} {
		s, rc := plug.Init(fmt.Sprintf(`{"pprofAddr":%q}`, bad))
		msg := plug.LastError(s)
		plug.Destroy(s)
		if rc != harness.Failure || !strings.Contains(msg, "pprofAddr") {
			t.Errorf("pprofAddr %q: rc=%d %q, want refusal", bad, rc, msg)
		}
	}
}

// TestProfileWorkload is `make profile`: a replay+extraction workload
// through the ABI with pprofAddr on, saving CPU and heap profiles of the
// plugin's runtime into $PROFILE_OUT. Skipped unless PROFILE_OUT is set.
func TestProfileWorkload(t *testing.T) {
	needDocker(t)
	out := os.Getenv("PROFILE_OUT")
	if out == "" {
		t.Skip("set PROFILE_OUT=dir (make profile) to run the profiling workload")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := initOK(t, fmt.Sprintf(`{"pprofAddr":%q,"logLevel":"error"}`, addr))
	path := writeCorpus(t, t.TempDir(), 100000)
	store := loadCorpusStore(t, s, 1000)
	defer store.Free()
	f := harness.NewBenchFields(benchRequests(t))
	defer f.Free()
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			i, rc := plug.Open(s, fileURI(path))
			if rc != harness.Success {
				return
			}
			plug.BenchNextBatch(s, i, 1<<30)
			plug.Close(s, i)
			plug.BenchExtract(s, store, f, 20, true)
		}
	}()
	fetch := func(url, file string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
		}
		if err := os.WriteFile(filepath.Join(out, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fetch("http://"+addr+"/debug/pprof/profile?seconds=5", "cpu.prof")
	fetch("http://"+addr+"/debug/pprof/heap", "heap.prof")
	stop.Store(true)
	<-done
}
