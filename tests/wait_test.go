package tests

import (
	"slices"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestNextBatchWaitBounds: an idle next_batch waits waitMs, no less and not
// much more, on each of its paths: the live C wait (abi/nextbatch.c), the
// live wait in Go (an instance's first call), and a quiet FIFO replay
// (read deadline). Each call is at least waitMs (a hard bound: the waits
// never return early); the median of the calls is under 5 x waitMs, a bound
// wide enough for a loaded machine (a late wake-up delays some calls, not
// most) and still far from a wait scaled by 10.
func TestNextBatchWaitBounds(t *testing.T) {
	needDocker(t)
	const waitMs = 50
	const calls = 11
	const cfg = `{"waitMs":50,"logLevel":"error"}`
	wait := waitMs * time.Millisecond
	idle := func(t *testing.T, s harness.State, i harness.Instance, n int) []time.Duration {
		t.Helper()
		var els []time.Duration
		for k := 0; k < n; k++ {
			start := time.Now()
			evts, rc := plug.NextBatch(s, i)
			el := time.Since(start)
			if rc != harness.Timeout || len(evts) != 0 {
				t.Fatalf("idle call %d: rc=%d with %d events, want a timeout with none: %s", k, rc, len(evts), plug.LastError(s))
			}
			if el < wait {
				t.Errorf("idle call %d returned after %v, before waitMs %v", k, el, wait)
			}
			els = append(els, el)
		}
		return els
	}
	bounded := func(t *testing.T, els []time.Duration) {
		t.Helper()
		sorted := slices.Clone(els)
		slices.Sort(sorted)
		med := sorted[len(sorted)/2]
		if med > 5*wait {
			t.Errorf("median idle call %v with waitMs %v (calls: %v)", med, wait, els)
		}
		t.Logf("waitMs %v: min %v, median %v, max %v", wait, sorted[0], med, sorted[len(sorted)-1])
	}

	t.Run("live", func(t *testing.T) {
		d := sourcetest.New(t, "1.44")
		s := initOK(t, cfg)
		open := func(t *testing.T) harness.Instance {
			t.Helper()
			i, rc := plug.Open(s, d.Endpoint())
			if rc != harness.Success {
				t.Fatal(plug.LastError(s))
			}
			d.WaitConn(t)
			return i
		}
		// The first call of an instance waits in Go (and then describes the
		// wait to the C side): one fresh instance per call measures it.
		t.Run("Go wait", func(t *testing.T) {
			var els []time.Duration
			for k := 0; k < calls; k++ {
				i := open(t)
				els = append(els, idle(t, s, i, 1)...)
				plug.Close(s, i)
			}
			bounded(t, els)
		})
		t.Run("C wait", func(t *testing.T) {
			i := open(t)
			defer plug.Close(s, i)
			idle(t, s, i, 1) // in Go: publishes the wait
			bounded(t, idle(t, s, i, calls))
		})
	})

	t.Run("replay FIFO", func(t *testing.T) {
		fifo, _ := quietFIFO(t)
		s := initOK(t, cfg)
		i := openOK(t, s, fileURI(fifo))
		bounded(t, idle(t, s, i, calls))
	})
}
