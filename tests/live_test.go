package tests

import (
	"encoding/json"
	"fmt"
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
}

func (e liveEvent) str(name string) string {
	v := e.f[name]
	if !v.Present || len(v.Strs) == 0 {
		return "<NA>"
	}
	return v.Strs[0]
}

func (e liveEvent) u64(name string) (uint64, bool) {
	v := e.f[name]
	if !v.Present || len(v.U64s) == 0 {
		return 0, false
	}
	return v.U64s[0], true
}

var liveFieldNames = []string{
	"docker.type", "docker.action", "docker.action.name", "docker.action.args", "docker.status",
	"docker.container.id", "docker.container.name", "docker.container.image", "docker.exec.cmdline",
	"docker.exec.id", "docker.container.signal", "docker.container.exitcode", "docker.network.name",
	"docker.network.driver", "docker.volume.name", "docker.volume.driver", "docker.attributes.container",
	"docker.id", "docker.actor.id", "docker.attributes.name", "docker.attributes.exitcode", "docker.image.name", "docker.image.tag",
	"docker.attributes[" + dockertest.Label + "]",
}

func liveRequests(t *testing.T) []harness.Request {
	t.Helper()
	fields := mustFields(t)
	var reqs []harness.Request
	for _, full := range liveFieldNames {
		name, arg, hasArg := strings.Cut(full, "[")
		arg = strings.TrimSuffix(arg, "]")
		id, f := fieldByName(t, fields, name)
		reqs = append(reqs, harness.Request{ID: id, Name: full, Type: f.TypeCode(), Arg: arg, HasArg: hasArg})
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
	t := r.t
	raw, rc := plug.NextBatchRaw(r.s, r.i)
	r.calls++
	switch rc {
	case harness.Success, harness.Timeout:
	case harness.EOF:
		t.Fatalf("a live source returned EOF")
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
		e := liveEvent{ts: c.TS, payload: c.Data, f: map[string]harness.Value{}}
		for j, rq := range r.reqs {
			e.f[rq.Name] = res.Values[j]
		}
		r.evts = append(r.evts, e)
	}
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

// TestLiveDaemonThroughABI drives the real local daemon: a container is
// run, exec'd into, SIGKILLed and removed; another exits with a chosen
// code; a network, a volume and an imported image are created and removed,
// and an image is tagged and untagged. Two plugin states watch: one with a
// server-side type filter, one with a label filter. Every event's fields
// are read through plugin_extract_fields.
func TestLiveDaemonThroughABI(t *testing.T) {
	needDocker(t)
	img := dockertest.Image(t)
	api := dockertest.APIVersion(t)
	nonce := dockertest.Nonce()
	dockertest.Cleanup(t, nonce)
	label := dockertest.Label + "=" + nonce
	name, netName, volName := "fdp-c-"+nonce, "fdp-n-"+nonce, "fdp-v-"+nonce

	all := newLiveReader(t, `{"filters":{"type":["container","network","volume","image"]}}`, "")
	labelled := newLiveReader(t, fmt.Sprintf(`{"filters":{"label":[%q]}}`, label), "")
	all.waitConnected()
	labelled.waitConnected()
	if _, s := plug.Progress(all.s, all.i); !strings.Contains(s, "(API "+api+")") {
		t.Errorf("progress %q: want the negotiated API version %s (the daemon's)", s, api)
	}

	cid := dockertest.Docker(t, "run", "-d", "--name", name, "--label", label, img)
	dockertest.Docker(t, "exec", name, "sh", "-c", "id")
	dockertest.Docker(t, "kill", "-s", "KILL", name)
	dockertest.Docker(t, "wait", name)
	dockertest.Docker(t, "rm", name)
	dockertest.Docker(t, "network", "create", "--label", label, netName)
	dockertest.Docker(t, "network", "rm", netName)
	dockertest.Docker(t, "volume", "create", "--label", label, volName)
	dockertest.Docker(t, "volume", "rm", volName)
	exited := "fdp-e-" + nonce
	eid := dockertest.Docker(t, "run", "-d", "--name", exited, "--label", label, img, "exit", "3")
	dockertest.Docker(t, "wait", exited)
	dockertest.Docker(t, "rm", exited)
	tag := "fdp-img-" + nonce + ":t1"
	imgID := dockertest.Docker(t, "image", "inspect", "--format", "{{.Id}}", img)
	dockertest.Docker(t, "tag", img, tag)
	dockertest.Docker(t, "rmi", tag)
	imported := "fdp-imp-" + nonce + ":v1"
	impID := dockertest.Docker(t, "import", emptyTar(t), imported)
	dockertest.Docker(t, "rmi", imported)

	isVolDestroy := func(e liveEvent) bool {
		return e.str("docker.type") == "volume" && e.str("docker.action.name") == "destroy" && e.str("docker.volume.name") == volName
	}
	isDestroy := func(e liveEvent) bool {
		return e.str("docker.action.name") == "destroy" && e.str("docker.container.id") == cid
	}
	isUntag := func(e liveEvent) bool {
		// The daemon names the image by id in untag events, not by the tag.
		return e.str("docker.type") == "image" && e.str("docker.action.name") == "untag" && e.str("docker.id") == imgID
	}
	isImpDelete := func(e liveEvent) bool {
		return e.str("docker.type") == "image" && e.str("docker.action.name") == "delete" && e.str("docker.actor.id") == impID
	}
	all.until("the volume's destroy and the images' untag and delete", time.Minute, func() bool {
		return all.has(isVolDestroy) && all.has(isUntag) && all.has(isImpDelete)
	})
	labelled.until("the container's destroy", time.Minute, func() bool { return labelled.has(isDestroy) })

	// Ours, in order, from the type-filtered instance.
	var seq []string
	byAction := map[string]liveEvent{}
	for _, e := range all.evts {
		switch typ := e.str("docker.type"); typ {
		case "container", "network", "volume", "image":
		default:
			t.Errorf("type filter let a %q event through: %s", typ, e.payload)
		}
		if e.str("docker.container.id") == eid && e.str("docker.action.name") == "die" {
			if code, ok := e.u64("docker.container.exitcode"); !ok || code != 3 || e.str("docker.attributes.exitcode") != "3" {
				t.Errorf("die of a container that exits 3: exitcode %d/%q: %s", code, e.str("docker.attributes.exitcode"), e.payload)
			}
			if e.str("docker.status") != "die" || e.str("docker.id") != eid || e.str("docker.attributes.name") != exited {
				t.Errorf("die: status %q id %q name %q: %s", e.str("docker.status"), e.str("docker.id"), e.str("docker.attributes.name"), e.payload)
			}
		}
		ours := e.str("docker.container.id") == cid || e.str("docker.attributes.container") == cid ||
			e.str("docker.network.name") == netName || e.str("docker.volume.name") == volName ||
			(e.str("docker.type") == "image" && (e.str("docker.attributes.name") == tag || isUntag(e) || e.str("docker.actor.id") == impID))
		if !ours {
			continue
		}
		key := e.str("docker.type") + " " + e.str("docker.action.name")
		seq = append(seq, key)
		if _, ok := byAction[key]; !ok {
			byAction[key] = e
		}
		var m struct {
			TimeNano uint64 `json:"timeNano"`
		}
		if err := json.Unmarshal(e.payload, &m); err != nil || m.TimeNano == 0 || e.ts != m.TimeNano {
			t.Errorf("event ts %d, payload timeNano %d (%v): %s", e.ts, m.TimeNano, err, e.payload)
		}
		if !json.Valid(e.payload) || strings.ContainsAny(string(e.payload), "\n") {
			t.Errorf("payload is not the daemon's compact JSON message: %q", e.payload)
		}
	}
	want := []string{"container create", "network connect", "container start", "container exec_create", "container exec_start",
		"container exec_die", "container kill", "container die", "network disconnect", "container destroy",
		"network create", "network destroy", "volume create", "volume destroy", "image tag", "image untag", "image import", "image delete"}
	if !subsequence(want, seq) {
		t.Errorf("events for our objects, in order:\n  %s\nwant (as a subsequence):\n  %s", strings.Join(seq, "\n  "), strings.Join(want, "\n  "))
	}

	check := func(key, field, want string) {
		t.Helper()
		if e, ok := byAction[key]; ok {
			if got := e.str(field); got != want {
				t.Errorf("%s: %s = %q, want %q (%s)", key, field, got, want, e.payload)
			}
		}
	}
	check("container create", "docker.container.name", name)
	check("container create", "docker.container.image", img)
	check("container create", "docker.attributes["+dockertest.Label+"]", nonce)
	check("container create", "docker.status", "create")
	check("container exec_create", "docker.exec.cmdline", "sh -c id")
	check("container exec_start", "docker.action.args", "sh -c id")
	check("container kill", "docker.container.signal", "9")
	check("container die", "docker.container.name", name)
	check("network create", "docker.network.name", netName)
	check("network create", "docker.network.driver", "bridge")
	check("network connect", "docker.attributes.container", cid)
	check("volume create", "docker.volume.name", volName)
	check("volume create", "docker.volume.driver", "local")
	check("image tag", "docker.status", "tag")
	check("image tag", "docker.image.name", "fdp-img-"+nonce)
	check("image tag", "docker.image.tag", "t1")
	check("image tag", "docker.id", imgID)
	check("image import", "docker.actor.id", impID)
	check("image import", "docker.status", "import")
	check("image delete", "docker.actor.id", impID)
	if e, ok := byAction["container exec_start"]; ok && e.str("docker.exec.id") == "<NA>" {
		t.Errorf("exec_start without docker.exec.id: %s", e.payload)
	}
	if e, ok := byAction["container die"]; ok {
		if code, ok := e.u64("docker.container.exitcode"); !ok || code != 137 {
			t.Errorf("die: docker.container.exitcode = %d (present %v), want 137: %s", code, ok, e.payload)
		}
	}

	// The label filter is applied by the daemon: only our container's
	// events, every one carrying the label.
	for _, e := range labelled.evts {
		if e.str("docker.attributes["+dockertest.Label+"]") != nonce {
			t.Errorf("label filter let through: %s", e.payload)
		}
	}
	if labelled.has(func(e liveEvent) bool { return e.str("docker.type") != "container" }) {
		t.Errorf("label filter: non-container events arrived")
	}

	// Metrics are the operator's evidence: they match what we counted.
	for _, r := range []*liveReader{all, labelled} {
		m := plug.MetricsMap(r.s)
		if m["events_delivered"] != uint64(len(r.evts)) || m["events_received"] != uint64(len(r.evts)) {
			t.Errorf("metrics received=%d delivered=%d, harness counted %d", m["events_received"], m["events_delivered"], len(r.evts))
		}
		for _, k := range []string{"events_dropped", "events_malformed", "events_oversize", "extract_errors", "panics"} {
			if m[k] != 0 {
				t.Errorf("metric %s = %d, want 0", k, m[k])
			}
		}
	}
	t.Logf("daemon API %s: %d events (type filter), %d (label filter)", api, len(all.evts), len(labelled.evts))
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
	s := initOK(t, `{"queueSize":16,"reconnectMinMs":10,"reconnectMaxMs":50,"logLevel":"error"}`)
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
	var got []harness.Event
	for len(got) < 16 {
		evts, rc := plug.NextBatch(s, i)
		if rc != harness.Success && rc != harness.Timeout {
			t.Fatalf("next_batch rc=%d: %s", rc, plug.LastError(s))
		}
		got = append(got, evts...)
	}
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
	// is in the last error, and the reconnect asks since=<newest event>.
	d.Hangup()
	c := d.WaitConn(t)
	if since := d.Request(c).URL.Query().Get("since"); since != "1700000000.000000099" {
		t.Errorf("reconnect since=%s, want the newest event read (1700000000.000000099)", since)
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
