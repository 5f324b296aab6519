package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestPanicContainment builds the plugin with -tags faultinject (which
// exports docker_test_set_fault and panics at the named entry point) and
// runs TestFaultChild in a fresh process with it: one plugin per process,
// and a panic that escaped would kill that process, which this test sees.
func TestPanicContainment(t *testing.T) {
	needDocker(t)
	if os.Getenv("HARNESS_FAULT_CHILD") != "" {
		t.Skip("child process")
	}
	so := filepath.Join(buildDir, "libdocker-faults.so")
	if err := buildPlugin(so, "-tags", "faultinject"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "HARNESS_FAULT_CHILD=1", "DOCKER_PLUGIN_SO="+so, "HARNESS_PLUGIN=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fault child failed (a panic escaping the plugin kills the process): %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestFaultChild") {
		t.Fatalf("fault child did not run:\n%s", out)
	}
	t.Logf("fault child: %d panics contained, process survived", strings.Count(string(out), "contained a panic in"))
}

// TestFaultChild injects a panic into each entry point in turn.
func TestFaultChild(t *testing.T) {
	if os.Getenv("HARNESS_FAULT_CHILD") == "" {
		t.Skip("runs only as TestPanicContainment's child")
	}
	if err := plug.SetFault(""); err != nil {
		t.Fatal(err)
	}
	path := fixture(t, "replay.jsonl")
	const cfg = `{"logLevel":"error"}`
	arm := func(p string) {
		if err := plug.SetFault(p); err != nil {
			t.Fatal(err)
		}
	}
	wantPanic := func(entry, msg string) {
		t.Helper()
		if !strings.Contains(msg, "injected fault at "+entry) || !strings.Contains(msg, "panic") {
			t.Errorf("%s: last error %q should carry the panic", entry, msg)
		}
	}

	// init
	arm("init")
	s, rc := plug.Init(cfg)
	if rc != harness.Failure {
		t.Errorf("init: rc=%d, want failure", rc)
	}
	wantPanic("init", plug.LastError(s))
	plug.Destroy(s)
	arm("")

	s = initOK(t, cfg)

	// open
	arm("open")
	if _, rc := plug.Open(s, fileURI(path)); rc != harness.Failure {
		t.Errorf("open: rc=%d, want failure", rc)
	}
	wantPanic("open", plug.LastError(s))
	arm("")

	i := openOK(t, s, fileURI(path))

	// next_batch
	arm("next_batch")
	if evts, rc := plug.NextBatch(s, i); rc != harness.Failure || len(evts) != 0 {
		t.Errorf("next_batch: rc=%d with %d events, want failure with 0", rc, len(evts))
	}
	wantPanic("next_batch", plug.LastError(s))
	arm("")

	// Recover: the instance still works.
	store := harness.NewEventStore(256, "docker")
	defer store.Free()
	raw, rc := plug.NextBatchRaw(s, i)
	if rc != harness.Success && rc != harness.EOF || len(raw) == 0 {
		t.Fatalf("next_batch after a contained panic: rc=%d, %d events", rc, len(raw))
	}
	store.AddRaw(raw[0], 5, 1)

	// extract
	id, f := fieldByName(t, mustFields(t), "docker.type")
	req := []harness.Request{{ID: id, Name: f.Name, Type: harness.TypeString}}
	arm("extract")
	if res := plug.Extract(s, store, 0, req, false); res.RC != harness.Failure {
		t.Errorf("extract: rc=%d, want failure", res.RC)
	}
	wantPanic("extract", plug.LastError(s))
	arm("")
	if res := plug.Extract(s, store, 0, req, false); res.RC != harness.Success || res.Values[0].Strs[0] != "container" {
		t.Errorf("extract after a contained panic: %+v", res)
	}

	// Repeated extractions of an event are answered in C from its value
	// table (abi/extract.c) without entering Go: with a panic armed at
	// Go's extract, docker.type (asked above) is still answered; a field
	// not asked yet enters Go and meets the panic.
	arm("extract")
	for k := 0; k < 3; k++ {
		if res := plug.Extract(s, store, 0, req, false); res.RC != harness.Success || res.Values[0].Strs[0] != "container" {
			t.Fatalf("extract %d of a field in the value table with Go's extract armed to panic: %+v (it entered Go): %s", k, res, plug.LastError(s))
		}
	}
	aid, af := fieldByName(t, mustFields(t), "docker.action")
	if res := plug.Extract(s, store, 0, []harness.Request{{ID: aid, Name: af.Name, Type: harness.TypeString}}, false); res.RC != harness.Failure {
		t.Errorf("extract of a field not in the value table with a panic armed: rc=%d, want failure", res.RC)
	}
	wantPanic("extract", plug.LastError(s))
	arm("")

	// What the table computes for a new event, before it is asked: the
	// values asked for in at least half of the last 16 events. docker.type
	// is asked on 16 events, docker.scope on the last of them only; on a
	// 17th event, once its first call has filled the table, docker.type is
	// answered in C and docker.scope enters Go (and meets the panic).
	evs := harness.NewEventStore(17, "docker")
	defer evs.Free()
	scope, scopeF := fieldByName(t, mustFields(t), "docker.scope")
	scopeReq := []harness.Request{{ID: scope, Name: scopeF.Name, Type: harness.TypeString}}
	for k := 0; k < 17; k++ {
		evs.AddBytes(makeEvent([]byte(sampleEvent), 322, 2), uint64(1000+k))
		if k < 16 {
			if res := plug.Extract(s, evs, k, req, false); res.RC != harness.Success {
				t.Fatalf("event %d: %+v", k, res)
			}
		}
	}
	if res := plug.Extract(s, evs, 15, scopeReq, false); res.RC != harness.Success {
		t.Fatalf("docker.scope: %+v", res)
	}
	if res := plug.Extract(s, evs, 16, []harness.Request{{ID: aid, Name: af.Name, Type: harness.TypeString}}, false); res.RC != harness.Success {
		t.Fatalf("first call of event 16: %+v", res)
	}
	arm("extract")
	if res := plug.Extract(s, evs, 16, req, false); res.RC != harness.Success || res.Values[0].Strs[0] != "container" {
		t.Errorf("a field asked on every event was not computed with the event's first call: %+v: %s", res, plug.LastError(s))
	}
	if res := plug.Extract(s, evs, 16, scopeReq, false); res.RC != harness.Failure {
		t.Errorf("a field asked once in 16 events was computed before it was asked: rc=%d", res.RC)
	}
	arm("")

	// event_to_string: no failure code in the API; the string carries it.
	arm("event_to_string")
	wantPanic("event_to_string", plug.EventToString(s, store, 0))
	arm("")

	// progress
	arm("progress")
	_, str := plug.Progress(s, i)
	wantPanic("progress", str)
	arm("")

	// list_open_params
	arm("list_open_params")
	if _, rc := plug.ListOpenParams(s); rc != harness.Failure {
		t.Errorf("list_open_params: rc=%d, want failure", rc)
	}
	wantPanic("list_open_params", plug.LastError(s))
	arm("")

	// get_metrics: no error channel, zero metrics.
	arm("get_metrics")
	if m := plug.Metrics(s); len(m) != 0 {
		t.Errorf("get_metrics under a panic returned %d metrics", len(m))
	}
	arm("")
	if m := plug.MetricsMap(s); m["panics"] < 8 {
		t.Errorf("panics metric = %d, want >= 8", m["panics"])
	}

	// close (void): the process survives, the last error carries it.
	i2 := func() harness.Instance {
		i2, rc := plug.Open(s, fileURI(path))
		if rc != harness.Success {
			t.Fatalf("open: %s", plug.LastError(s))
		}
		return i2
	}()
	arm("close")
	plug.Close(s, i2)
	arm("")
	wantPanic("close", plug.LastError(s))

	// destroy (void): the process survives.
	s2 := initOK(t, cfg)
	_ = s2
	arm("destroy")
	s3, rc := plug.Init(cfg)
	if rc != harness.Success {
		t.Fatal(plug.LastError(s3))
	}
	plug.Destroy(s3)
	arm("")

	// An idle live next_batch is answered in C (abi/nextbatch.c) and never
	// enters Go: with a panic armed at Go's next_batch, idle calls still
	// time out; the first call with an event queued enters Go and meets
	// it; disarmed, the event is delivered.
	d := sourcetest.New(t, "1.44")
	ls := initOK(t, `{"logLevel":"error","waitMs":5}`)
	li := openOK(t, ls, d.Endpoint())
	d.WaitConn(t)
	if _, rc := plug.NextBatch(ls, li); rc != harness.Timeout { // in Go: publishes the wait
		t.Fatalf("first idle live next_batch: rc=%d: %s", rc, plug.LastError(ls))
	}
	arm("next_batch")
	for k := 0; k < 50; k++ {
		if evts, rc := plug.NextBatch(ls, li); rc != harness.Timeout || len(evts) != 0 {
			t.Fatalf("idle live next_batch %d with Go's next_batch armed to panic: rc=%d with %d events (it entered Go): %s",
				k, rc, len(evts), plug.LastError(ls))
		}
	}
	// The same with the waiting thread interrupted by signals every 100 µs
	// (poll returns EINTR on each; a Go runtime in the process sends
	// SIGURG to preempt, at random): the wait goes on in C, for the time
	// left, and still never enters Go.
	func() {
		defer runtime.UnlockOSThread()
		stop := signalThread(lockedThread(), 100*time.Microsecond)
		defer stop()
		for k := 0; k < 50; k++ {
			start := time.Now()
			evts, rc := plug.NextBatch(ls, li)
			if rc != harness.Timeout || len(evts) != 0 {
				t.Fatalf("idle live next_batch %d interrupted by signals, Go's next_batch armed to panic: rc=%d with %d events (it entered Go): %s",
					k, rc, len(evts), plug.LastError(ls))
			}
			if el := time.Since(start); el < 5*time.Millisecond {
				t.Fatalf("idle live next_batch %d interrupted by signals returned after %v, before its waitMs 5", k, el)
			}
		}
		if n := stop(); n < 50 {
			t.Fatalf("only %d signals were sent during 50 waits", n)
		}
	}()
	ts := uint64(time.Now().UnixNano())
	d.Send(fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":"f1"},"time":%d,"timeNano":%d}`, ts/1e9, ts))
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, rc := plug.NextBatch(ls, li)
		if rc == harness.Failure {
			break
		}
		if rc != harness.Timeout || time.Now().After(deadline) {
			t.Fatalf("live next_batch with an event queued and a panic armed: rc=%d, want failure", rc)
		}
	}
	wantPanic("next_batch", plug.LastError(ls))
	arm("")
	if evts, rc := plug.NextBatch(ls, li); rc != harness.Success || len(evts) != 1 {
		t.Errorf("live next_batch after the contained panic: rc=%d with %d events, want the queued event", rc, len(evts))
	}

	// Everything still works after all that.
	s4 := initOK(t, cfg)
	i4 := openOK(t, s4, fileURI(path))
	if evts, rc := plug.NextBatch(s4, i4); len(evts) == 0 || (rc != harness.Success && rc != harness.EOF) {
		t.Errorf("after the fault tour: rc=%d, %d events", rc, len(evts))
	}
}
