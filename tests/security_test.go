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

// controlByte returns the index of the first byte of s that a terminal or a
// line-oriented reader acts on (C0 control, DEL, UTF-8 C1 control), or -1.
func controlByte(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return i
		}
		if c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
			return i
		}
	}
	return -1
}

// checkInert fails when any string value or the event_to_string line of
// event k holds a control byte.
func checkInert(t *testing.T, what string, s harness.State, store *harness.EventStore, k int, reqs []harness.Request) harness.ExtractResult {
	t.Helper()
	res := plug.Extract(s, store, k, reqs, false)
	if res.RC != harness.Success {
		t.Fatalf("%s: extract rc=%d: %s", what, res.RC, plug.LastError(s))
	}
	for j, v := range res.Values {
		for _, str := range v.Strs {
			if i := controlByte(str); i >= 0 {
				t.Errorf("%s: %s = %q: control byte at %d", what, reqs[j].Name, str, i)
			}
		}
	}
	line := plug.EventToString(s, store, k)
	if i := controlByte(line); i >= 0 {
		t.Errorf("%s: event_to_string %q: control byte at %d", what, line, i)
	}
	return res
}

// TestHostileContentIsEscaped: bytes of labels and exec commands, which
// anyone allowed to run containers controls, reach Falco's outputs through
// field values and event_to_string. Escaped as package escape documents,
// they cannot forge an output line, drive a terminal or cut a C string.
func TestHostileContentIsEscaped(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	forged := "\n2024-05-01T10:58:56.000000000Z container start ffff (name=innocent)"
	alert := "\n12:00:00.000000000: Notice A shell was spawned in a container (user=root)"
	payload := func(action string, attrs map[string]string) []byte {
		b, _ := json.Marshal(map[string]any{
			"Type": "container", "Action": action, "scope": "local", "timeNano": 1714561136000000000,
			"Actor": map[string]any{"ID": "c1", "Attributes": attrs},
		})
		return b
	}
	events := []struct {
		name    string
		payload []byte
		want    map[string]string // field -> value, as Falco receives it
	}{
		{"label with a forged event line", payload("start", map[string]string{"evil": "x" + forged, "image": "alpine", "name": "web"}),
			map[string]string{"docker.attributes[evil]": `x\n2024-05-01T10:58:56.000000000Z container start ffff (name=innocent)`, "docker.container.name": "web"}},
		{"exec command with a forged alert", payload("exec_create: sh -c id"+alert, map[string]string{"execID": "e1"}),
			map[string]string{
				"docker.exec.cmdline": `sh -c id\n12:00:00.000000000: Notice A shell was spawned in a container (user=root)`,
				"docker.action.args":  `sh -c id\n12:00:00.000000000: Notice A shell was spawned in a container (user=root)`,
				"docker.exec.exe":     "sh",
			}},
		{"ESC sequences", payload("start", map[string]string{"name": "\x1b[2J\x1b]0;pwned\x07", "image": "a\u009bb"}),
			map[string]string{"docker.container.name": `\x1b[2J\x1b]0;pwned\x07`, "docker.attributes.image": `a\u009bb`}},
		{"NUL inside a value", payload("start", map[string]string{"name": "x\x00hidden", "image": "alpine"}),
			map[string]string{"docker.container.name": `x\x00hidden`, "docker.attributes[name]": `x\x00hidden`, "docker.container.image": "alpine"}},
	}
	fields := mustFields(t)
	var reqs []harness.Request
	for _, name := range []string{"docker.action", "docker.action.args", "docker.exec.cmdline", "docker.exec.exe", "docker.container.name",
		"docker.container.image", "docker.attributes.image", "docker.attributes.name", "docker.attributes[evil]", "docker.attributes[name]"} {
		base, arg, hasArg := strings.Cut(name, "[")
		id, f := fieldByName(t, fields, base)
		reqs = append(reqs, harness.Request{ID: id, Name: name, Type: f.TypeCode(), Arg: strings.TrimSuffix(arg, "]"), HasArg: hasArg})
	}
	store := harness.NewEventStore(len(events), "docker")
	defer store.Free()
	for k, ev := range events {
		store.AddBytes(makeEvent(ev.payload, 322, 2), uint64(k))
		res := checkInert(t, ev.name, s, store, k, reqs)
		for j, r := range reqs {
			want, ok := ev.want[r.Name]
			if !ok {
				continue
			}
			if v := res.Values[j]; !v.Present || len(v.Strs) != 1 || v.Strs[0] != want {
				t.Errorf("%s: %s = %v, want %q", ev.name, r.Name, v, want)
			}
		}
	}
	// The whole line survives a NUL: what follows it is not hidden.
	if line := plug.EventToString(s, store, 3); !strings.HasSuffix(line, `(image=alpine, name=x\x00hidden)`) {
		t.Errorf("event_to_string with a NUL in a value: %q", line)
	}

	// Escaping allocates nothing, on values that need it too. DEL and C1
	// controls are legal unescaped in JSON strings, so parsing these
	// events allocates nothing either (JSON escapes would: gjson unescapes
	// into new strings) and the window measures the escaping alone.
	hot := harness.NewEventStore(200, "docker")
	defer hot.Free()
	for k := 0; k < 200; k++ {
		p := fmt.Sprintf(`{"Type":"container","Action":"exec_create: sh -c x\u007f%d","Actor":{"ID":"c%d\u009b","Attributes":{"name":"n\u007f\u0085","image":"i\u009b[2J","evil":"e\u007f"}},"timeNano":%d}`, k, k, 1714561136000000000+k)
		p = strings.NewReplacer(`\u007f`, "\x7f", `\u009b`, "\u009b", `\u0085`, "\u0085").Replace(p)
		hot.AddBytes(makeEvent([]byte(p), 322, 2), uint64(k))
	}
	f := harness.NewBenchFields(reqs)
	defer f.Free()
	for _, one := range []bool{true, false} {
		// Warm-up: the arena reaches its size, and the plugin's first
		// metrics read in the process initialises runtime/metrics (which
		// allocates, and would land in the window).
		plug.BenchExtract(s, hot, f, 1, one)
		plug.MetricsMap(s)
		before := allocs(plug.MetricsMap(s))
		if rc := plug.BenchExtract(s, hot, f, 3, one); rc != harness.Success {
			t.Fatalf("extract rc=%d: %s", rc, plug.LastError(s))
		}
		if a := allocs(plug.MetricsMap(s)) - before; a > 20 {
			t.Errorf("extracting values that need escaping (one per call %v): %d heap allocations for %d events", one, a, 3*hot.Len())
		}
	}
	res := plug.Extract(s, hot, 7, reqs, false)
	if v := res.Values[4]; res.RC != harness.Success || len(v.Strs) != 1 || v.Strs[0] != `n\x7f\u0085` {
		t.Errorf("docker.container.name with DEL and NEL: %v", v)
	}
}

// TestHostileContentRealDaemon: the same through the real daemon, with a
// label and an exec command made by the docker CLI.
func TestHostileContentRealDaemon(t *testing.T) {
	needDocker(t)
	img := dockertest.Image(t)
	nonce := dockertest.Nonce()
	dockertest.Cleanup(t, nonce)
	name := "fdp-esc-" + nonce
	label := dockertest.Label + "=" + nonce
	forgedLine := "2024-05-01T10:58:56.000000000Z container start ffff (name=innocent)"
	fakeAlert := "12:00:00.000000000: Notice A shell was spawned in a container (user=root)"

	r := newLiveReader(t, fmt.Sprintf(`{"filters":{"label":[%q]}}`, label), "")
	r.waitConnected()
	dockertest.Docker(t, "run", "-d", "--name", name, "--label", label,
		"--label", "evil=x\n"+forgedLine, "--label", "term=\x1b]0;pwned\x07\x1b[2J", img)
	dockertest.Docker(t, "exec", name, "sh", "-c", "id\n"+fakeAlert)
	dockertest.Docker(t, "rm", "-f", name)

	isExec := func(e liveEvent) bool { return e.str("docker.action.name") == "exec_create" }
	isStart := func(e liveEvent) bool { return e.str("docker.action.name") == "start" }
	r.until("the container's start and exec_create", time.Minute, func() bool { return r.has(isExec) && r.has(isStart) })

	fields := mustFields(t)
	attrID, attrF := fieldByName(t, fields, "docker.attributes")
	cmdID, cmdF := fieldByName(t, fields, "docker.exec.cmdline")
	reqs := append([]harness.Request{
		{ID: attrID, Name: "docker.attributes[evil]", Type: attrF.TypeCode(), Arg: "evil", HasArg: true},
		{ID: attrID, Name: "docker.attributes[term]", Type: attrF.TypeCode(), Arg: "term", HasArg: true},
		{ID: cmdID, Name: "docker.exec.cmdline", Type: cmdF.TypeCode()},
	}, r.reqs...)
	for k, e := range r.evts {
		res := checkInert(t, e.str("docker.action.name"), r.s, r.store, k, reqs)
		switch {
		case isExec(e):
			if v := res.Values[2]; len(v.Strs) != 1 || v.Strs[0] != `sh -c id\n`+fakeAlert {
				t.Errorf("exec_create: docker.exec.cmdline = %v, want the command on one line", v)
			}
		case isStart(e):
			if v := res.Values[0]; len(v.Strs) != 1 || v.Strs[0] != `x\n`+forgedLine {
				t.Errorf("start: docker.attributes[evil] = %v", v)
			}
			if v := res.Values[1]; len(v.Strs) != 1 || v.Strs[0] != `\x1b]0;pwned\x07\x1b[2J` {
				t.Errorf("start: docker.attributes[term] = %v", v)
			}
		}
	}
}

// TestDeepNestingThroughABI: extraction and event_to_string of payloads
// nested millions deep, as a replayed .scap can hold (Falco hands such
// payloads to the plugin without next_batch's checks). An unbounded
// recursive walk overflows the plugin's 1 GB goroutine stack, a fatal error
// that kills the host; the plugin must answer <NA> and "<malformed event>".
func TestDeepNestingThroughABI(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	const depth = 16 << 20
	payloads := map[string][]byte{
		"unterminated arrays": []byte(`{"Type":"container","a":` + strings.Repeat("[", depth)),
		"objects":             []byte(`{"Type":"container","Actor":` + strings.Repeat(`{"a":`, depth/5) + `1` + strings.Repeat("}", depth/5) + `}`),
	}
	reqs := allRequests(t)
	store := harness.NewEventStore(len(payloads), "docker")
	defer store.Free()
	k := 0
	for name, p := range payloads {
		store.AddBytes(makeEvent(p, 322, 2), uint64(k))
		res := plug.Extract(s, store, k, reqs, false)
		if res.RC != harness.Success {
			t.Errorf("%s: rc=%d: %s", name, res.RC, plug.LastError(s))
		}
		for j, v := range res.Values {
			if v.Present {
				t.Errorf("%s: %s = %v from a payload that is not a valid event", name, reqs[j].Name, v)
			}
		}
		if line := plug.EventToString(s, store, k); !strings.HasSuffix(line, "<malformed event>") {
			t.Errorf("%s: event_to_string %.100q", name, line)
		}
		k++
	}
}

// TestLiveQueueMemoryBounded: the live queue's memory is bounded by its
// byte budget (64 MiB) whatever queueSize allows, measured as this
// process's resident memory at the largest queueSize. A queue whose slots
// each keep their buffer retains queueSize x (buffer kept per slot): the
// issue measured 564 MB at 65536 slots, with no drop counted.
//
// A burst fills the queue to its budget while Falco does not read; then a
// long run of events flows through (Falco reads as they come), visiting
// tens of thousands of slots. Resident memory may grow by the budget and
// the allocator's slack, not by the number of slots visited.
func TestLiveQueueMemoryBounded(t *testing.T) {
	needDocker(t)
	const (
		size  = 8000 // just under what a slot of the old queue kept (8 KiB)
		burst = 10000
		flow  = 40000
		chunk = 1000 // events in flight at once: the fake daemon's own memory stays small
	)
	d := sourcetest.New(t, "1.41")
	// The queue's memory (the container context, off here, bounds its own:
	// 16 MiB of events waiting for an inspection).
	s := initOK(t, `{"queueSize":1048576,"logLevel":"error","containerContext":false}`)
	i := openOK(t, s, d.Endpoint())
	d.WaitConn(t)
	pad := strings.Repeat("p", size)
	msg := func(k int) string {
		head := fmt.Sprintf(`{"Type":"container","Action":"start","timeNano":%d,"Actor":{"ID":"c%d","Attributes":{"pad":"`, 1_700_000_000_000_000_000+k, k)
		return head + pad[:size-len(head)-4] + `"}}}`
	}
	received := func() uint64 { return plug.MetricsMap(s)["events_received"] }
	waitReceived := func(n uint64, drain bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for received() < n {
			if time.Now().After(deadline) {
				t.Fatalf("events_received %d, want %d", received(), n)
			}
			if drain {
				plug.NextBatchRaw(s, i)
			} else {
				time.Sleep(time.Millisecond)
			}
		}
	}
	drainAll := func() {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); ; {
			if time.Now().After(deadline) {
				t.Fatalf("the queue never drained in 60 s: %v", plug.MetricsMap(s))
			}
			evts, rc := plug.NextBatchRaw(s, i)
			if rc != harness.Success && rc != harness.Timeout {
				t.Fatalf("next_batch rc=%d: %s", rc, plug.LastError(s))
			}
			if len(evts) == 0 && rc == harness.Timeout {
				return
			}
		}
	}
	base := rssKiB(t)
	peak := base
	sample := func(phase string) {
		r := rssKiB(t)
		peak = max(peak, r)
		if grew := (r - base) >> 10; grew > 512 {
			t.Fatalf("%s: resident memory grew by %d MiB: the queue is not bounded", phase, grew)
		}
	}
	k := 0
	for ; k < burst; k += chunk { // the burst: nobody reads
		for j := k; j < k+chunk; j++ {
			d.Send(msg(j))
		}
		waitReceived(uint64(k+chunk), false)
		sample("burst")
	}
	m := plug.MetricsMap(s)
	if m["events_dropped"] == 0 {
		t.Fatalf("a %d MiB burst was not limited by the queue's byte budget (nothing dropped)", burst*size>>20)
	}
	drainAll()
	sample("after the burst")
	for ; k < burst+flow; k += chunk { // the flow: Falco keeps up
		for j := k; j < k+chunk; j++ {
			d.Send(msg(j))
		}
		waitReceived(uint64(k+chunk), true)
		drainAll()
		sample("flow")
	}
	grew := (peak - base) >> 10
	t.Logf("queueSize 1048576, %d events of %d bytes (%d dropped in the burst): resident memory %d -> peak %d MiB (+%d MiB)",
		burst+flow, size, m["events_dropped"], base>>10, peak>>10, grew)
	// 64 MiB of chunks, the 16 MiB slot array (mostly untouched), the
	// Go runtimes' GC slack and the fake daemon's own buffers: measured
	// +105 MiB here; the old per-slot buffers grew by 439 MiB in this run.
	if grew > 160 {
		t.Errorf("resident memory grew by %d MiB; the queue's budget is 64 MiB", grew)
	}
}
