package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

type testBatch = sourcetest.Batch

type lastErr struct {
	mu  sync.Mutex
	err error
	set int
}

func (e *lastErr) Set(err error) {
	e.mu.Lock()
	e.err = err
	e.set++
	e.mu.Unlock()
}
func (e *lastErr) Get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

type liveEnv struct {
	Env
	counters *metrics.Counters
	log      *sourcetest.Log
	last     *lastErr
}

func newLiveEnv(mod func(*config.Config)) liveEnv {
	cfg := config.Default()
	cfg.ReconnectMinMs, cfg.ReconnectMaxMs = 10, 40
	// These tests are about the stream, the queue and their counters: the
	// daemon's messages delivered as they are read. The container context
	// (whose ordering makes delivery asynchronous) has tests of its own
	// (context_test.go), which turn it on.
	cfg.ContainerContext = false
	if mod != nil {
		mod(&cfg)
	}
	e := liveEnv{counters: &metrics.Counters{}, log: &sourcetest.Log{}, last: &lastErr{}}
	e.Env = Env{Config: cfg, Counters: e.counters, Log: e.log, SetLastError: e.last.Set}
	return e
}

func noenv(string) string { return "" }

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func openLiveT(t *testing.T, endpoint string, env Env, getenv func(string) string) *Live {
	t.Helper()
	l, err := OpenLive(endpoint, env, getenv)
	if err != nil {
		t.Fatalf("OpenLive(%q): %v", endpoint, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// collect calls Next until n events arrived (or 10 s passed).
func collect(t *testing.T, l *Live, n int) *testBatch {
	t.Helper()
	all := &testBatch{Max: 1 << 20}
	deadline := time.Now().Add(10 * time.Second)
	for len(all.Events) < n && time.Now().Before(deadline) {
		b := &testBatch{Max: 8}
		err := l.Next(b, 20*time.Millisecond)
		if err != nil && err != ErrTimeout {
			t.Fatalf("Next: %v", err)
		}
		if err == ErrTimeout && b.Len() != 0 {
			t.Fatalf("Next returned ErrTimeout with %d events", b.Len())
		}
		for i := range b.Events {
			all.Add(b.Events[i], b.TS[i])
		}
	}
	if len(all.Events) != n {
		t.Fatalf("got %d events, want %d", len(all.Events), n)
	}
	return all
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func msg(action, id string, ts uint64) string {
	return fmt.Sprintf(`{"status":%q,"id":%q,"Type":"container","Action":%q,"Actor":{"ID":%q,"Attributes":{"name":"c1"}},"scope":"local","time":%d,"timeNano":%d}`,
		action, id, action, id, ts/1e9, ts)
}

func TestLiveDeliversDaemonBytes(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	env := newLiveEnv(func(c *config.Config) {
		c.Filters = map[string][]string{"type": {"container", "network"}, "label": {"app=web"}}
	})
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	i := d.WaitConn(t)

	// Unknown fields (Podman's HealthStatus, in a line recorded from it),
	// other extras and odd spacing survive as is.
	raw := []string{
		msg("start", "aa", 1714560000123456789),
		`{"status":"health_status","id":"81e9145990ecbf8c66a7771185a00ac41079df6f1e81bc68eb679be548613aab","from":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-6b7adbd0719f","Type":"container","Action":"health_status","Actor":{"ID":"81e9145990ecbf8c66a7771185a00ac41079df6f1e81bc68eb679be548613aab","Attributes":{"containerExitCode":"0","falco-docker-plugin-test":"000recorded0","image":"docker.io/library/falco-docker-plugin-testbox:b8d830751741-6b7adbd0719f","name":"fdp-h-000recorded0","podId":""}},"scope":"local","time":1796064592,"timeNano":1796064592338718821,"HealthStatus":"starting"}`,
		`{"Type":"network" , "Action":"create","Actor":{"ID":"cc","Attributes":{"name":"n"}},"time":1714560002}`,
	}
	d.Send(raw...)
	got := collect(t, l, 3)
	for k, want := range raw {
		if string(got.Events[k]) != want {
			t.Errorf("event %d payload\n got %s\nwant %s", k, got.Events[k], want)
		}
	}
	if got.TS[0] != 1714560000123456789 || got.TS[1] != 1796064592338718821 {
		t.Errorf("timestamps %v: want timeNano", got.TS[:2])
	}
	if got.TS[2] != 1714560002000000000 {
		t.Errorf("timestamp without timeNano = %d, want time*1e9", got.TS[2])
	}

	r := d.Request(i)
	if r.URL.Path != "/v1.41/events" {
		t.Errorf("path %s, want /v1.41/events", r.URL.Path)
	}
	var f map[string]map[string]bool
	if err := json.Unmarshal([]byte(r.URL.Query().Get("filters")), &f); err != nil {
		t.Fatalf("filters %q: %v", r.URL.Query().Get("filters"), err)
	}
	if !f["type"]["container"] || !f["type"]["network"] || !f["label"]["app=web"] || len(f) != 2 {
		t.Errorf("filters sent %v", f)
	}
	if r.URL.Query().Get("since") == "" {
		t.Errorf("first connection has no since= (events between open and connect would be lost)")
	}
	if n := env.counters.Received.Load(); n != 3 {
		t.Errorf("events_received %d, want 3", n)
	}
	if p, s := l.Progress(); p != 0 || !strings.Contains(s, "connected to "+d.Endpoint()) || !strings.Contains(s, "API 1.41") {
		t.Errorf("Progress = %v %q", p, s)
	}
}

func TestLiveNegotiatesAPIVersion(t *testing.T) {
	for _, tc := range []struct {
		daemon, pinned, want string
	}{
		{"1.41", "", "1.41"},
		{"1.43", "", "1.43"},
		{"1.44", "", "1.44"},
		{"1.51", "", "1.51"},
		{"1.52", "", "1.52"},
		{"1.53", "", MaxAPIVersion},
		{"", "", MinAPIVersion},
		{"1.52", "1.43", "1.43"}, // DOCKER_API_VERSION pins, as in Docker's tools
	} {
		t.Run(tc.daemon+"/"+tc.pinned, func(t *testing.T) {
			d := sourcetest.New(t, tc.daemon)
			env := newLiveEnv(nil)
			openLiveT(t, d.Endpoint(), env.Env, envMap(map[string]string{"DOCKER_API_VERSION": tc.pinned}))
			i := d.WaitConn(t)
			if got := d.Request(i).URL.Path; got != "/v"+tc.want+"/events" {
				t.Errorf("daemon %q pinned %q: path %s, want /v%s/events", tc.daemon, tc.pinned, got, tc.want)
			}
		})
	}
}

// A dropped stream is reconnected with since=<newest timeNano - 2 s>; the
// daemon's replay of the events read in that window is deduplicated; events
// it published meanwhile are delivered, including one stamped before the
// newest event read (Podman's stream is not in timestamp order).
func TestLiveReconnectResumesWithoutLossOrDuplicates(t *testing.T) {
	d := sourcetest.New(t, "1.44")
	env := newLiveEnv(nil)
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)

	a := msg("create", "a", 1000000000100)
	b := msg("start", "b", 1000000000200)
	c := msg("attach", "c", 1000000000200) // same nanosecond as b
	d.Send(a, b, c)
	got := collect(t, l, 3)

	// The daemon refuses the reconnections until the test has seen the
	// last error say why (a reconnection that succeeds at once clears it).
	d.Refuse(503, `{"message":"daemon restarting"}`)
	d.Hangup()
	eventually(t, "the reason and 'reconnecting' in the last error while disconnected", func() bool {
		err := env.last.Get()
		return err != nil && strings.Contains(err.Error(), "reconnecting") && strings.Contains(err.Error(), "daemon restarting")
	})
	d.Refuse(0, "")
	i := d.WaitConn(t)
	if since := d.Request(i).URL.Query().Get("since"); since != "998.000000200" {
		t.Errorf("reconnect since=%q, want 998.000000200 (the newest event read, 2 s earlier)", since)
	}
	dNew := msg("die", "d", 1000000000200)  // new event at the boundary nanosecond
	late := msg("kill", "l", 1000000000150) // stamped before b, not read before the cut
	e := msg("destroy", "e", 1000000000300)
	d.Send(a, b, late, c, dNew, e) // the daemon replays a, b and c from its buffer
	more := collect(t, l, 3)
	if string(more.Events[0]) != late || string(more.Events[1]) != dNew || string(more.Events[2]) != e {
		t.Errorf("after reconnect got %q, want l, d and e", more.Events)
	}
	if n := env.counters.Duplicates.Load(); n != 3 {
		t.Errorf("events_duplicate = %d, want 3", n)
	}
	if n := env.counters.Reconnects.Load(); n != 1 {
		t.Errorf("reconnects = %d, want 1", n)
	}
	if n := env.counters.ConnectErrors.Load(); n < 1 {
		t.Errorf("connect_errors = %d, want >= 1", n)
	}
	eventually(t, "last error cleared after reconnect", func() bool { return env.last.Get() == nil })
	// The same payload at a later timestamp is a new event, not a duplicate.
	d.Send(strings.Replace(b, "1000000000200", "1000000000400", 1))
	collect(t, l, 1)
	if !strings.Contains(env.log.String(), "reconnected") {
		t.Errorf("no reconnect log line:\n%s", env.log.String())
	}
	_ = got
}

func TestLiveQueueOverflowDropsAndCounts(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	env := newLiveEnv(func(c *config.Config) { c.QueueSize = 16 })
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	for k := 0; k < 100; k++ {
		d.Send(msg("start", fmt.Sprint(k), uint64(1e18)+uint64(k)))
	}
	eventually(t, "100 events received", func() bool { return env.counters.Received.Load() == 100 })
	if n := env.counters.Dropped.Load(); n != 84 {
		t.Errorf("events_dropped = %d, want 84", n)
	}
	got := collect(t, l, 16)
	for k, e := range got.Events {
		if !bytes.Contains(e, []byte(fmt.Sprintf(`"id":"%d"`, k))) {
			t.Errorf("queued event %d = %s: the queue must keep the oldest events", k, e)
		}
	}
	// Room again: new events flow and the recovery is logged (by the
	// reader, after it queued the event: maybe after it was delivered).
	d.Send(msg("stop", "x", 2e18))
	collect(t, l, 1)
	eventually(t, "the recovery logged", func() bool { return strings.Contains(env.log.String(), "events were dropped") })
	log := env.log.String()
	if strings.Count(log, "queue full") != 1 || !strings.Contains(log, "84 events were dropped") {
		t.Errorf("drop logging (one line per run, then a summary):\n%s", log)
	}
}

func TestLiveBadMessagesAreCounted(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	env := newLiveEnv(func(c *config.Config) { c.MaxEventSize = 1024 })
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	big := `{"Type":"container","Action":"start","Actor":{"Attributes":{"x":"` + strings.Repeat("y", 2000) + `"}}}`
	huge := `{"x":"` + strings.Repeat("z", 200<<10) + `"}` // larger than the read buffer
	d.Send("not json", "", big, `{"truncated":`, huge, msg("start", "ok", 5e18))
	got := collect(t, l, 1)
	if !bytes.Contains(got.Events[0], []byte(`"id":"ok"`)) {
		t.Errorf("good event lost: %s", got.Events[0])
	}
	eventually(t, "counters", func() bool {
		return env.counters.Malformed.Load() == 2 && env.counters.Oversize.Load() == 2
	})
	if n := env.counters.Received.Load(); n != 5 {
		t.Errorf("events_received = %d, want 5 (blank lines are not events)", n)
	}
}

func TestLiveUnreachableDaemon(t *testing.T) {
	dir := t.TempDir()
	missing := "unix://" + filepath.Join(dir, "nope.sock")

	env := newLiveEnv(func(c *config.Config) { c.FailFast = true })
	if _, err := OpenLive(missing, env.Env, noenv); err == nil || !strings.Contains(err.Error(), "not reachable") || !strings.Contains(err.Error(), "failFast") {
		t.Errorf("failFast open of a missing socket: err = %v", err)
	}

	env = newLiveEnv(nil)
	l := openLiveT(t, missing, env.Env, noenv)
	b := &testBatch{Max: 8}
	if err := l.Next(b, 5*time.Millisecond); err != ErrTimeout {
		t.Errorf("Next while the daemon is down = %v, want ErrTimeout", err)
	}
	eventually(t, "the reason in the last error", func() bool {
		e := env.last.Get()
		return e != nil && strings.Contains(e.Error(), "nope.sock") && strings.Contains(e.Error(), "reconnecting")
	})
	eventually(t, "several attempts", func() bool { return env.counters.ConnectErrors.Load() >= 3 })
	if _, s := l.Progress(); !strings.HasPrefix(s, "disconnected") {
		t.Errorf("Progress while down = %q", s)
	}
}

// The daemon comes up after plugin_open (Falco often starts first): the
// events it publishes between open and the connection are delivered.
func TestLiveDaemonStartsLater(t *testing.T) {
	dir, _ := os.MkdirTemp("", "dk")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "d.sock")
	env := newLiveEnv(nil)
	l := openLiveT(t, "unix://"+sock, env.Env, noenv)
	eventually(t, "a failed attempt", func() bool { return env.counters.ConnectErrors.Load() >= 1 })

	d := sourcetest.Prepare(sock, "1.41")
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer l.Close() // before the server's Close, which waits for the stream
	i := d.WaitConn(t)
	since := d.Request(i).URL.Query().Get("since")
	if since == "" || since > fmt.Sprintf("%d.", time.Now().Unix()+1) {
		t.Errorf("since=%q: want the time of plugin_open", since)
	}
	d.Send(msg("start", "late", uint64(time.Now().UnixNano())))
	collect(t, l, 1)
	if env.counters.Reconnects.Load() != 0 {
		t.Errorf("the first successful connection is not a reconnect")
	}
	eventually(t, "last error cleared", func() bool { return env.last.Get() == nil })
}

// Live mode never returns EOF, even when the daemon ends every stream.
func TestLiveNeverEOF(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	env := newLiveEnv(nil)
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	for k := 0; k < 3; k++ {
		d.WaitConn(t)
		d.Hangup()
		if err := l.Next(&testBatch{Max: 4}, 5*time.Millisecond); err != ErrTimeout {
			t.Fatalf("Next after the stream ended = %v, want ErrTimeout", err)
		}
	}
}

func TestLiveDaemonRefusesRequest(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	d.Refuse(400, `{"message":"invalid filter 'foo'"}`)
	env := newLiveEnv(nil)
	openLiveT(t, d.Endpoint(), env.Env, noenv)
	eventually(t, "the daemon's message in the last error", func() bool {
		e := env.last.Get()
		return e != nil && strings.Contains(e.Error(), "invalid filter 'foo'") && strings.Contains(e.Error(), "400")
	})
}

func TestLiveCloseStopsReader(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	base := runtime.NumGoroutine()
	for k := 0; k < 20; k++ {
		env := newLiveEnv(nil)
		l, err := OpenLive(d.Endpoint(), env.Env, noenv)
		if err != nil {
			t.Fatal(err)
		}
		if k%2 == 0 {
			d.WaitConn(t)
		}
		l.Close()
	}
	// Also while backing off from an unreachable daemon.
	env := newLiveEnv(func(c *config.Config) { c.ReconnectMinMs, c.ReconnectMaxMs = 60000, 60000 })
	l, err := OpenLive("unix:///nonexistent/docker.sock", env.Env, noenv)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "a failed attempt", func() bool { return env.counters.ConnectErrors.Load() >= 1 })
	start := time.Now()
	l.Close()
	if time.Since(start) > 5*time.Second {
		t.Errorf("Close waited for the backoff")
	}
	eventually(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base+2 })
}

func TestResolveLive(t *testing.T) {
	for _, tc := range []struct {
		params   string
		env      map[string]string
		insecure bool
		host     string
		tls      bool
		err      string // substring; "" = success
	}{
		{params: "", host: "unix:///var/run/docker.sock"},
		{params: "", env: map[string]string{"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, host: "unix:///run/user/1000/docker.sock"},
		{params: "unix:///x.sock", env: map[string]string{"DOCKER_HOST": "tcp://10.0.0.1:2375"}, host: "unix:///x.sock"},
		{params: "tcp://127.0.0.1:2375", host: "tcp://127.0.0.1:2375"},
		{params: "tcp://localhost:2375", host: "tcp://localhost:2375"},
		{params: "tcp://[::1]:2375", host: "tcp://[::1]:2375"},
		{params: "tcp://10.1.2.3:2375", err: "refusing plaintext TCP"},
		{params: "tcp://docker.example.com:2375", err: "allowInsecureTcp"},
		{params: "", env: map[string]string{"DOCKER_HOST": "tcp://10.1.2.3:2375"}, err: "(DOCKER_HOST)"},
		{params: "tcp://10.1.2.3:2375", insecure: true, host: "tcp://10.1.2.3:2375"},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_CERT_PATH": "/certs", "DOCKER_TLS_VERIFY": "1"}, host: "tcp://10.1.2.3:2376", tls: true},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_CERT_PATH": "/certs"}, err: "refusing TLS without verifying"},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_TLS_VERIFY": "1", "HOME": "/home/u"}, host: "tcp://10.1.2.3:2376", tls: true},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_TLS_VERIFY": "1"}, err: "DOCKER_TLS_VERIFY is set but no certificate directory"},
		{params: "TCP://127.0.0.1:2375", host: "tcp://127.0.0.1:2375"},
		{params: "tcp://10.1.2.3", err: "expected tcp://host:port"},
		{params: "tcp://:2375", err: "expected tcp://host:port"},
		{params: "tcp://user:hunter2@127.0.0.1:2375", err: "credentials in the URL"},
		{params: "unix://relative.sock", err: "must be absolute"},
		{params: "unix://", err: "expected unix:///path.sock or"},
		{params: "ssh://me@host", err: "ssh:// needs"},
		{params: "http://127.0.0.1:2375", err: `unsupported scheme "http"`},
		{params: "npipe:////./pipe/docker_engine", err: "unsupported scheme"},
		{params: "docker.sock", err: "expected unix:///path.sock"},
		// Refusals never echo credentials, whichever check refuses.
		{params: "tcp://user:hunter2@127.0.0.1:2375%zz", err: "malformed: credentials in the URL"},
		{params: "tcp://user:hunter2%zz@127.0.0.1:2375", err: "malformed: credentials in the URL"},
		{params: "tcp://user:hunter2@10.1.2.3", err: "expected tcp://host:port"},
		{params: "ssh://user:hunter2@host", err: "ssh:// needs"},
		{params: "http://user:hunter2@host:80", err: "unsupported scheme"},
		{params: "tcp://127.0.0.1:23%zz", err: `malformed: invalid port ":23%zz" after host`},
		{params: "tcp://" + strings.Repeat("h", 300) + ":1%zz", err: `..." (open params): malformed: invalid port`},
		{params: "unix://@abstract", err: `"unix://@abstract"`},
		{params: "tcp://admin:hunter2/x@h:1", err: "tcp://***@h:1"},
		{params: "", env: map[string]string{"DOCKER_HOST": "tcp://admin:hunter2/x@h:1"}, err: "(DOCKER_HOST)"},
		{params: "", env: map[string]string{"DOCKER_HOST": "admin:hunter2@10.0.0.1"}, err: "***@10.0.0.1"},
		{params: "", env: map[string]string{"DOCKER_HOST": "TCP://admin:hunter2@10.0.0.1:1"}, err: "credentials"},
	} {
		got, err := ResolveLive(tc.params, envMap(tc.env), tc.insecure)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveLive(%q, %v): err = %v, want %q", tc.params, tc.env, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes a password: %v", err)
			}
			if err != nil && len(err.Error()) > 450 {
				t.Errorf("error of %d bytes (a long endpoint must be shortened, and said once): %v", len(err.Error()), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ResolveLive(%q, %v): %v", tc.params, tc.env, err)
			continue
		}
		if got.Host != tc.host || got.TLS != tc.tls {
			t.Errorf("ResolveLive(%q, %v) = %+v, want host %s tls %v", tc.params, tc.env, got, tc.host, tc.tls)
		}
	}
}

// A bad TLS setup gives an error that names the files, never their
// contents (key material must not reach logs or last errors).
func TestLiveTLSErrorsDoNotLeakKeyMaterial(t *testing.T) {
	const secret = "c2VjcmV0LWtleS1tYXRlcmlhbC1kby1ub3QtbGVhaw"
	pemKey := "-----BEGIN PRIVATE KEY-----\n" + secret + secret + "\n-----END PRIVATE KEY-----\n"
	for name, files := range map[string]map[string]string{
		"garbage key":   {"ca.pem": "not a cert", "cert.pem": "not a cert", "key.pem": pemKey},
		"bad pair":      {"ca.pem": pemKey, "cert.pem": pemKey, "key.pem": pemKey},
		"raw key":       {"ca.pem": secret, "cert.pem": secret, "key.pem": secret},
		"missing files": {"key.pem": pemKey},
	} {
		dir := t.TempDir()
		for f, content := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		env := newLiveEnv(nil)
		_, err := OpenLive("tcp://10.9.9.9:2376", env.Env, envMap(map[string]string{"DOCKER_CERT_PATH": dir, "DOCKER_TLS_VERIFY": "1"}))
		if err == nil {
			t.Errorf("%s: open succeeded", name)
			continue
		}
		msg := err.Error() + env.log.String()
		if strings.Contains(msg, secret[:16]) || strings.Contains(msg, "BEGIN PRIVATE") {
			t.Errorf("%s: error leaks key material: %v", name, err)
		}
		if !strings.Contains(err.Error(), "DOCKER_CERT_PATH") {
			t.Errorf("%s: error does not say where TLS came from: %v", name, err)
		}
	}
}

func TestListEndpoints(t *testing.T) {
	present := map[string]bool{
		"/var/run/docker.sock":              true,
		"/run/user/1000/docker.sock":        true,
		"/run/user/1000/podman/podman.sock": true,
		"/run/podman/podman.sock":           true,
	}
	got := listEndpoints(envMap(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "DOCKER_HOST": "tcp://127.0.0.1:2375"}), func(p string) bool { return present[p] })
	want := []string{"tcp://127.0.0.1:2375", "unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock", "unix:///run/user/1000/podman/podman.sock", "unix:///run/podman/podman.sock"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i, e := range got {
		if e.Value != want[i] || e.Desc == "" {
			t.Errorf("endpoint %d = %+v, want %s with a description", i, e, want[i])
		}
	}
	if got := listEndpoints(noenv, func(string) bool { return false }); len(got) != 0 {
		t.Errorf("no sockets: got %v", got)
	}
}

func TestFormatSince(t *testing.T) {
	for ns, want := range map[uint64]string{0: "0.000000000", 1: "0.000000001", 1714560000123456789: "1714560000.123456789"} {
		if got := formatSince(ns); got != want {
			t.Errorf("formatSince(%d) = %s, want %s", ns, got, want)
		}
	}
}

// A daemon that says it is Podman (Libpod-Api-Version, as Podman's
// Docker-compatible service answers /_ping) gets the event filter in
// Podman's vocabulary as well; Docker gets the operator's filter as is.
func TestLiveFiltersPodmanVocabulary(t *testing.T) {
	for _, tc := range []struct {
		libpod string
		want   []string
		engine string
	}{
		{"", []string{"die", "exec_die", "start"}, "Docker Engine"},
		{"4.3.1", []string{"die", "died", "exec_die", "exec_died", "start"}, "Podman 4.3.1"},
	} {
		d := sourcetest.New(t, "1.41")
		d.Libpod = tc.libpod
		env := newLiveEnv(func(c *config.Config) {
			c.Filters = map[string][]string{"event": {"die", "exec_die", "start"}, "type": {"container"}}
		})
		l := openLiveT(t, d.Endpoint(), env.Env, noenv)
		r := d.Request(d.WaitConn(t))
		var f map[string]map[string]bool
		if err := json.Unmarshal([]byte(r.URL.Query().Get("filters")), &f); err != nil {
			t.Fatalf("filters %q: %v", r.URL.Query().Get("filters"), err)
		}
		var got []string
		for v := range f["event"] {
			got = append(got, v)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) || !f["type"]["container"] {
			t.Errorf("Libpod %q: event filter %v, want %v (type %v)", tc.libpod, got, tc.want, f["type"])
		}
		eventually(t, "progress naming "+tc.engine, func() bool {
			_, s := l.Progress()
			return strings.Contains(s, "("+tc.engine+", API 1.41)")
		})
	}
}
