package tests

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestLiveIdleWaitWakesOnEvent: on an idle live stream plugin_next_batch
// waits in C on the source's readiness descriptor (abi/nextbatch.c), not in
// Go. An event that arrives during that wait must end it: with waitMs at
// its maximum (1 s), a call that is already blocked in the C poll when the
// event is sent returns the event before its wait is over, not a timeout;
// and idle calls around it time out with no events.
//
// The order is a signal, not a sleep: the waiting call runs on a goroutine
// locked to its thread, and the event is sent only once that thread is seen
// blocked in poll(2) (/proc/self/task/<tid>/syscall). A sleep before the
// send let the event be queued before the wait began under load, which
// tested the ready-on-entry path instead of the wake-up.
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
	// A failing round returns while its call may still wait: the instance
	// must outlive it (cleanups run last-registered first).
	var calls sync.WaitGroup
	t.Cleanup(calls.Wait)

	line := func(id string) string {
		ts := uint64(time.Now().UnixNano())
		return fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":%q},"time":%d,"timeNano":%d}`, id, ts/1e9, ts)
	}
	// The instance's first call goes into Go (nothing describes its wait to
	// the C side yet): one event makes it return at once and publish the
	// wait, so that every later idle call waits in C.
	d.Send(line("warm-up"))
	if evts, rc := plug.NextBatch(s, i); rc != harness.Success || len(evts) != 1 {
		t.Fatalf("first call with an event queued: rc=%d with %d events: %s", rc, len(evts), plug.LastError(s))
	}

	for round := 0; round < 3; round++ {
		// Idle: the short-wait instance times out with nothing.
		for k := 0; k < 20; k++ {
			if evts, rc := plug.NextBatch(short, si); rc != harness.Timeout || len(evts) != 0 {
				t.Fatalf("round %d: idle next_batch: rc=%d with %d events, want a timeout with none", round, rc, len(evts))
			}
		}
		// An event sent once the long-wait call is blocked in its C wait.
		id := fmt.Sprintf("c%d", round)
		ev := line(id)
		type result struct {
			evts    []harness.Event
			rc      int32
			elapsed time.Duration
		}
		tids, done := make(chan int, 1), make(chan result, 1)
		calls.Add(1)
		go func() {
			defer calls.Done()
			defer runtime.UnlockOSThread()
			tids <- lockedThread()
			start := time.Now()
			evts, rc := plug.NextBatch(s, i)
			done <- result{evts, rc, time.Since(start)}
		}()
		tid := <-tids
		for deadline := time.Now().Add(10 * time.Second); ; {
			waiting, err := inPoll(tid)
			if err != nil {
				t.Fatalf("round %d: reading the waiting thread's system call: %v", round, err)
			}
			if waiting {
				break
			}
			select {
			case r := <-done:
				t.Fatalf("round %d: the idle call returned (rc=%d, %d events, after %v) without ever being seen waiting in C's poll",
					round, r.rc, len(r.evts), r.elapsed)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the idle call's thread %d was never seen blocked in poll", round, tid)
			}
			time.Sleep(100 * time.Microsecond)
		}
		d.Send(ev)
		d2.Send(ev)
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: the waiting call never returned", round)
		}
		if r.rc != harness.Success || len(r.evts) != 1 || !strings.Contains(string(r.evts[0].Data), `"ID":"`+id+`"`) {
			t.Fatalf("round %d: an event sent during a wait of 1 s: rc=%d with %d events after %v (a timeout means the wake-up was lost)",
				round, r.rc, len(r.evts), r.elapsed)
		}
		if r.elapsed >= time.Second {
			t.Fatalf("round %d: the event was delivered only after the whole wait (%v): the wake-up was lost", round, r.elapsed)
		}
		// The short-wait instance gets it too, among idle timeouts.
		got := nextBatchUntil(t, short, si, "the event on the short-wait instance", 10*time.Second, func(got []harness.Event) bool { return len(got) > 0 })
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
