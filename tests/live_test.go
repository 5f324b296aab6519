package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/dockertest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// liveEvent is one event read through the ABI with the fields the live
// tests look at.
type liveEvent struct {
	ts      uint64
	payload []byte
	f       map[string]harness.Value
	at      time.Time // when next_batch returned it
}

// str is a field's value as Falco would print it: <NA> without one (a
// number in decimal).
func (e liveEvent) str(name string) string {
	v := e.f[name]
	switch {
	case !v.Present:
		return "<NA>"
	case len(v.Strs) > 0:
		return v.Strs[0]
	case len(v.U64s) > 0:
		return strconv.FormatUint(v.U64s[0], 10)
	case len(v.Bools) > 0:
		return strconv.FormatBool(v.Bools[0])
	}
	return "<NA>"
}

// list is a list field's values (nil without any).
func (e liveEvent) list(name string) []string {
	v := e.f[name]
	if !v.Present {
		return nil
	}
	return v.Strs
}

func (e liveEvent) u64(name string) (uint64, bool) {
	v := e.f[name]
	if !v.Present || len(v.U64s) == 0 {
		return 0, false
	}
	return v.U64s[0], true
}

// liveRequests asks for every field of the plugin on every event (the
// key-argument field with the tests' label).
func liveRequests(t *testing.T) []harness.Request {
	t.Helper()
	var reqs []harness.Request
	for id, f := range mustFields(t) {
		r := harness.Request{ID: uint32(id), Name: f.Name, Type: f.TypeCode(), IsList: f.IsList}
		switch {
		case f.Name == "docker.container.mount.source":
			// The tests' mounts: /var/run/docker.sock and / (at /host).
			r.Arg, r.HasArg, r.Name = "/host", true, f.Name+"[/host]"
		case f.Name == "docker.container.mount.dest":
			r.Arg, r.HasArg, r.Name = "/var/run/docker.sock", true, f.Name+"[/var/run/docker.sock]"
		case f.Arg.IsRequired:
			r.Arg, r.HasArg, r.Name = dockertest.Label, true, f.Name+"["+dockertest.Label+"]"
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// liveReader drains one open live instance through next_batch and
// extracts liveFieldNames from every event, as Falco would.
type liveReader struct {
	t     *testing.T
	s     harness.State
	i     harness.Instance
	reqs  []harness.Request
	store *harness.EventStore
	evts  []liveEvent
	calls int
}

func newLiveReader(t *testing.T, cfg, params string) *liveReader {
	s := initOK(t, cfg)
	r := &liveReader{t: t, s: s, i: openOK(t, s, params), reqs: liveRequests(t), store: harness.NewEventStore(4096, "docker")}
	t.Cleanup(r.store.Free)
	return r
}

// poll makes one next_batch call; Falco's contract for a live source.
func (r *liveReader) poll() {
	if r.read() == harness.EOF {
		r.t.Fatalf("a live source returned EOF")
	}
}

// read makes one next_batch call and extracts every field of the events it
// returns; it returns the call's code (success, timeout or EOF).
func (r *liveReader) read() int32 {
	t := r.t
	raw, rc := plug.NextBatchRaw(r.s, r.i)
	r.calls++
	switch rc {
	case harness.Success, harness.Timeout, harness.EOF:
	default:
		t.Fatalf("next_batch rc=%d: %s", rc, plug.LastError(r.s))
	}
	if rc == harness.Timeout && len(raw) > 0 {
		t.Fatalf("next_batch returned %d events with SS_PLUGIN_TIMEOUT", len(raw))
	}
	for _, ev := range raw {
		c := ev.Copy()
		k := r.store.AddRaw(ev, plug.ID(), uint64(r.store.Len()))
		res := plug.Extract(r.s, r.store, k, r.reqs, false)
		if res.RC != harness.Success {
			t.Fatalf("extract: rc=%d: %s", res.RC, plug.LastError(r.s))
		}
		e := liveEvent{ts: c.TS, payload: c.Data, f: map[string]harness.Value{}, at: time.Now()}
		for j, rq := range r.reqs {
			e.f[rq.Name] = res.Values[j]
		}
		r.evts = append(r.evts, e)
	}
	return rc
}

// until polls until done() holds, or fails after timeout.
func (r *liveReader) until(what string, timeout time.Duration, done func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out after %s waiting for %s; got %d events:\n%s", timeout, what, len(r.evts), r.dump())
		}
		r.poll()
	}
}

// drained polls until every event the plugin received has been delivered
// and read (an event may wait for its container's context), or fails after
// timeout.
func (r *liveReader) drained(timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := plug.MetricsMap(r.s)
		if m["events_received"] == m["events_delivered"]+m["events_dropped"]+m["events_malformed"]+m["events_oversize"]+m["events_duplicate"] {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("after %s: events_received %d, delivered %d", timeout, m["events_received"], m["events_delivered"])
		}
		r.poll()
	}
}

func (r *liveReader) dump() string {
	var b strings.Builder
	for _, e := range r.evts {
		fmt.Fprintf(&b, "  %s\n", e.payload)
	}
	return b.String()
}

func (r *liveReader) has(match func(liveEvent) bool) bool {
	for _, e := range r.evts {
		if match(e) {
			return true
		}
	}
	return false
}

func (r *liveReader) waitConnected() {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, s := plug.Progress(r.s, r.i)
		if strings.HasPrefix(s, "connected to ") {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("never connected: progress %q, last error %q", s, plug.LastError(r.s))
		}
		r.poll()
	}
}

func subsequence(want, got []string) bool {
	k := 0
	for _, g := range got {
		if k < len(want) && g == want[k] {
			k++
		}
	}
	return k == len(want)
}

// TestLiveFakeDaemonThroughABI: queue overflow, reconnection and the
// metrics that account for them, through the ABI against a fake daemon
// the test controls.
func TestLiveFakeDaemonThroughABI(t *testing.T) {
	needDocker(t)
	d := sourcetest.New(t, "1.52")
	// The queue's own accounting: events go to it as they are read (the
	// container context, which orders them behind inspections, is off).
	s := initOK(t, `{"queueSize":16,"reconnectMinMs":10,"reconnectMaxMs":50,"logLevel":"error","containerContext":false}`)
	i := openOK(t, s, d.Endpoint())
	d.WaitConn(t)
	msg := func(k int) string {
		ts := uint64(1_700_000_000_000_000_000) + uint64(k)
		return fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":"c%d","Attributes":{"name":"n%d"}},"scope":"local","time":%d,"timeNano":%d}`, k, k, ts/1e9, ts)
	}
	for k := 0; k < 100; k++ {
		d.Send(msg(k))
	}
	waitMetric := func(name string, want uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for plug.MetricsMap(s)[name] != want {
			if time.Now().After(deadline) {
				t.Fatalf("metric %s = %d, want %d", name, plug.MetricsMap(s)[name], want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitMetric("events_received", 100)
	got := nextBatchUntil(t, s, i, "the 16 queued events", 10*time.Second, func(got []harness.Event) bool { return len(got) >= 16 })
	m := plug.MetricsMap(s)
	if m["events_dropped"] != 84 || m["events_delivered"] != 16 {
		t.Errorf("dropped=%d delivered=%d, want 84 and 16 (queueSize 16 of 100)", m["events_dropped"], m["events_delivered"])
	}
	for k, e := range got {
		if string(e.Data) != msg(k) {
			t.Errorf("event %d = %s, want %s", k, e.Data, msg(k))
		}
	}

	// A dropped stream: next_batch keeps answering (timeouts), the reason
	// is in the last error, and the reconnect asks since=<newest event - 2 s>.
	d.Hangup()
	c := d.WaitConn(t)
	if since := d.Request(c).URL.Query().Get("since"); since != "1699999998.000000099" {
		t.Errorf("reconnect since=%s, want the newest event read, 2 s earlier (1699999998.000000099)", since)
	}
	d.Send(msg(99), msg(100)) // the replayed boundary event, then a new one
	var after []harness.Event
	deadline := time.Now().Add(10 * time.Second)
	for len(after) < 1 && time.Now().Before(deadline) {
		evts, rc := plug.NextBatch(s, i)
		if rc != harness.Success && rc != harness.Timeout {
			t.Fatalf("next_batch while reconnecting rc=%d: %s", rc, plug.LastError(s))
		}
		after = append(after, evts...)
	}
	if len(after) != 1 || string(after[0].Data) != msg(100) {
		t.Fatalf("after reconnect got %d events, want only the new one", len(after))
	}
	m = plug.MetricsMap(s)
	if m["reconnects"] != 1 || m["events_duplicate"] != 1 || m["connect_errors"] < 1 {
		t.Errorf("reconnects=%d duplicates=%d connect_errors=%d, want 1, 1, >=1", m["reconnects"], m["events_duplicate"], m["connect_errors"])
	}
	if m["events_delivered"] != 17 || m["events_received"] != 102 {
		t.Errorf("delivered=%d received=%d, want 17 and 102", m["events_delivered"], m["events_received"])
	}
}

// TestLiveOpenErrors: endpoint errors at plugin_open, through the ABI.
func TestLiveOpenErrors(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	for params, want := range map[string]string{
		"tcp://10.1.2.3:2375":   "refusing plaintext TCP",
		"tcp://nohostport":      "expected tcp://host:port",
		"unix://relative.sock":  "must be absolute",
		"ssh://root@host":       "ssh:// needs",
		"http://127.0.0.1:2375": "unsupported scheme",
	} {
		if i, rc := plug.Open(s, params); rc != harness.Failure {
			t.Errorf("open(%q) rc=%d, want failure", params, rc)
			if rc == harness.Success {
				plug.Close(s, i)
			}
		} else if msg := plug.LastError(s); !strings.Contains(msg, want) {
			t.Errorf("open(%q): last error %q, want %q", params, msg, want)
		}
	}
	// failFast: an absent daemon fails open; without it open succeeds and
	// next_batch times out while the plugin retries.
	sf := initOK(t, `{"failFast":true}`)
	if _, rc := plug.Open(sf, "unix:///nonexistent/docker.sock"); rc != harness.Failure || !strings.Contains(plug.LastError(sf), "not reachable") {
		t.Errorf("failFast open of an absent daemon: rc=%d %q", rc, plug.LastError(sf))
	}
	sl := initOK(t, `{"logLevel":"error"}`)
	i := openOK(t, sl, "unix:///nonexistent/docker.sock")
	for k := 0; k < 3; k++ {
		if evts, rc := plug.NextBatch(sl, i); rc != harness.Timeout || len(evts) != 0 {
			t.Fatalf("next_batch with the daemon down: rc=%d, %d events; want timeout", rc, len(evts))
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(plug.LastError(sl), "reconnecting") {
		if time.Now().After(deadline) {
			t.Fatalf("last error while the daemon is down: %q", plug.LastError(sl))
		}
		plug.NextBatch(sl, i)
	}
}

// TestLiveSoakOpenClose: 1000 live open/close cycles (against a fake
// daemon, half of them connected) and 200 init/open/close/destroy cycles
// leave no goroutine or handle behind.
func TestLiveSoakOpenClose(t *testing.T) {
	needDocker(t)
	d := sourcetest.New(t, "1.44")
	probe := initOK(t, `{"logLevel":"error"}`)
	s := initOK(t, `{"batchSize":16,"logLevel":"error"}`)
	cycle := func(n int) {
		for k := 0; k < n; k++ {
			before := d.Requests()
			i, rc := plug.Open(s, d.Endpoint())
			if rc != harness.Success {
				t.Fatalf("cycle %d: open: %s", k, plug.LastError(s))
			}
			for deadline := time.Now().Add(10 * time.Second); k%2 == 0 && d.Requests() == before; {
				if time.Now().After(deadline) {
					t.Fatalf("cycle %d: never connected", k)
				}
				time.Sleep(time.Millisecond)
			}
			plug.NextBatch(s, i)
			plug.Close(s, i)
		}
	}
	initCycles := func(n int) {
		for k := 0; k < n; k++ {
			s2, rc := plug.Init(`{"batchSize":16,"logLevel":"error"}`)
			if rc != harness.Success {
				t.Fatalf("init cycle %d: %s", k, plug.LastError(s2))
			}
			i, rc := plug.Open(s2, d.Endpoint())
			if rc != harness.Success {
				t.Fatalf("init cycle %d: open: %s", k, plug.LastError(s2))
			}
			plug.NextBatch(s2, i)
			plug.Close(s2, i)
			plug.Destroy(s2)
		}
	}
	cycle(100)
	initCycles(20)
	time.Sleep(100 * time.Millisecond)
	base := plug.MetricsMap(probe)
	cycle(1000)
	initCycles(200)
	time.Sleep(100 * time.Millisecond)
	after := plug.MetricsMap(probe)
	t.Logf("1000 live open/close + 200 live init/open/close/destroy: plugin goroutines %d -> %d, heap %d -> %d KiB",
		base["go_goroutines"], after["go_goroutines"], base["go_heap_live_bytes"]>>10, after["go_heap_live_bytes"]>>10)
	if after["go_goroutines"] > base["go_goroutines"]+2 {
		t.Errorf("plugin goroutines grew from %d to %d", base["go_goroutines"], after["go_goroutines"])
	}
	if after["go_heap_live_bytes"] > base["go_heap_live_bytes"]+16<<20 {
		t.Errorf("plugin heap grew from %d to %d bytes", base["go_heap_live_bytes"], after["go_heap_live_bytes"])
	}
}
