package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestLiveIdleWaitWakesOnEvent: on an idle live stream plugin_next_batch
// waits in C on the source's readiness descriptor (abi/nextbatch.c), not in
// Go. An event that arrives during that wait must end it: with waitMs at
// its maximum (1 s), a call made 50 ms before the event is sent returns the
// event, not a timeout; and idle calls around it time out with no events.
func TestLiveIdleWaitWakesOnEvent(t *testing.T) {
	needDocker(t)
	d := sourcetest.New(t, "1.44")
	// Each opened right after its init: plugin_open binds to the newest
	// state (a call under another one would rebind and reconnect).
	s := initOK(t, `{"logLevel":"error","waitMs":1000}`)
	i := openOK(t, s, d.Endpoint())
	d.WaitConn(t)
	// The fake daemon hands each line to one stream: one daemon each.
	d2 := sourcetest.New(t, "1.44")
	short := initOK(t, `{"logLevel":"error","waitMs":5}`)
	si := openOK(t, short, d2.Endpoint())
	d2.WaitConn(t)

	for round := 0; round < 3; round++ {
		// Idle: the short-wait instance times out with nothing.
		for k := 0; k < 20; k++ {
			if evts, rc := plug.NextBatch(short, si); rc != harness.Timeout || len(evts) != 0 {
				t.Fatalf("round %d: idle next_batch: rc=%d with %d events, want a timeout with none", round, rc, len(evts))
			}
		}
		// An event sent while the long-wait call is already waiting.
		id := fmt.Sprintf("c%d", round)
		ts := uint64(time.Now().UnixNano())
		line := fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":%q},"time":%d,"timeNano":%d}`, id, ts/1e9, ts)
		go func() {
			time.Sleep(50 * time.Millisecond)
			d.Send(line)
			d2.Send(line)
		}()
		evts, rc := plug.NextBatch(s, i)
		if rc != harness.Success || len(evts) != 1 || !strings.Contains(string(evts[0].Data), `"ID":"`+id+`"`) {
			t.Fatalf("round %d: a wait of 1 s with an event sent after 50 ms: rc=%d with %d events (a timeout means the wake-up was lost)", round, rc, len(evts))
		}
		// The short-wait instance gets it too, among idle timeouts.
		var got []harness.Event
		for deadline := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
			evts, rc := plug.NextBatch(short, si)
			if rc != harness.Success && rc != harness.Timeout {
				t.Fatalf("round %d: rc=%d: %s", round, rc, plug.LastError(short))
			}
			got = append(got, evts...)
		}
		if len(got) != 1 {
			t.Fatalf("round %d: short-wait instance got %d events, want 1", round, len(got))
		}
	}
}

// TestNextBatchHostileHandles: plugin_next_batch is the project's own glue
// (the SDK's panics, killing Falco, on a handle that is not live): a zero,
// out-of-range, closed or wrong-kind handle fails cleanly, with a last error
// when the plugin state is valid, and the process survives.
func TestNextBatchHostileHandles(t *testing.T) {
	needDocker(t)
	s := initOK(t, `{"logLevel":"error"}`)
	path := fixture(t, "replay.jsonl")
	live := openOK(t, s, fileURI(path))
	panics := plug.MetricsMap(s)["panics"]    // process-wide: earlier tests may have contained some
	closed, rc := plug.Open(s, fileURI(path)) // a handle value no open instance holds
	if rc != harness.Success {
		t.Fatal(plug.LastError(s))
	}
	plug.NextBatch(s, closed)
	plug.Close(s, closed)

	for _, tc := range []struct {
		name string
		s    harness.State
		i    harness.Instance
		msg  string // "" when no last error can be set (no valid state)
	}{
		{"instance 0", s, 0, "is not an open instance"},
		{"instance out of range", s, 100000, "is not an open instance"},
		{"closed instance", s, closed, "is not an open instance"},
		{"plugin state as instance", s, harness.Instance(s), "is not an open instance"},
		{"state 0", 0, live, ""},
		{"state out of range", 100000, live, ""},
		{"instance as state", harness.State(live), live, ""},
	} {
		evts, rc := plug.NextBatch(tc.s, tc.i)
		if rc != harness.Failure || len(evts) != 0 {
			t.Errorf("%s: rc=%d with %d events, want failure", tc.name, rc, len(evts))
			continue
		}
		if tc.msg != "" {
			if msg := plug.LastError(s); !strings.Contains(msg, tc.msg) || strings.Contains(msg, "panic") {
				t.Errorf("%s: last error %q, want %q (and no contained panic)", tc.name, msg, tc.msg)
			}
		}
	}
	if evts, rc := plug.NextBatch(s, live); len(evts) == 0 || (rc != harness.Success && rc != harness.EOF) {
		t.Errorf("the open instance after the hostile calls: rc=%d with %d events", rc, len(evts))
	}
	if n := plug.MetricsMap(s)["panics"] - panics; n != 0 {
		t.Errorf("hostile handles counted as %d contained panics: they are caller errors", n)
	}
}
