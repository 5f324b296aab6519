package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestRebindToCallingState: plugin-sdk-go's open glue does not pass the
// plugin state to the plugin, which opens the instance under its newest
// state; Falco then calls next_batch with the state it really opened the
// instance from. The instance must move to that state (abi/state.go
// rebind): the events come in that state's batch size, under its
// maxEventSize, and are counted in its metrics, never in the other's.
func TestRebindToCallingState(t *testing.T) {
	needDocker(t)
	var lines []string
	for k := 0; k < 5; k++ {
		lines = append(lines, sizedEvent(t, fmt.Sprintf("r%d", k), uint64(1_700_000_200_000_000_000+k), 300))
	}
	lines = append(lines, sizedEvent(t, "big", 1_700_000_200_000_000_009, 2000)) // oversize for a only
	path := filepath.Join(t.TempDir(), "rebind.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	a := initOK(t, `{"batchSize":2,"maxEventSize":1024,"logLevel":"error"}`)
	b := initOK(t, `{"batchSize":64,"logLevel":"error"}`) // the newest: open binds to it
	i := openOK(t, a, fileURI(path))                      // as Falco does: opened from a

	var got []harness.Event
	for calls := 0; ; calls++ {
		if calls > 100 {
			t.Fatal("no EOF after 100 calls")
		}
		evts, rc := plug.NextBatch(a, i)
		if len(evts) > 2 {
			t.Fatalf("call %d: %d events in one batch: the batch size of the state the instance was opened under (64), not the caller's (2)", calls, len(evts))
		}
		got = append(got, evts...)
		if rc == harness.EOF {
			break
		}
		if rc != harness.Success && rc != harness.Timeout {
			t.Fatalf("call %d: rc=%d: %s", calls, rc, plug.LastError(a))
		}
	}
	if len(got) != 5 {
		t.Errorf("delivered %d events, want the 5 within the caller's maxEventSize 1024", len(got))
	}
	for k := 0; k < len(got) && k < 5; k++ {
		if string(got[k].Data) != lines[k] {
			t.Errorf("event %d = %.60q..., want %.60q...", k, got[k].Data, lines[k])
		}
	}
	ma, mb := plug.MetricsMap(a), plug.MetricsMap(b)
	if ma["events_received"] != 6 || ma["events_delivered"] != 5 || ma["events_oversize"] != 1 {
		t.Errorf("caller's metrics received=%d delivered=%d oversize=%d, want 6, 5, 1",
			ma["events_received"], ma["events_delivered"], ma["events_oversize"])
	}
	if mb["events_received"] != 0 || mb["events_delivered"] != 0 || mb["events_oversize"] != 0 {
		t.Errorf("the other state counted the caller's events: received=%d delivered=%d oversize=%d",
			mb["events_received"], mb["events_delivered"], mb["events_oversize"])
	}
}
