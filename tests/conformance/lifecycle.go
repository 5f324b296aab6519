package conformance

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// metricsPhase: the metrics check's last snapshot and its verdict, then
// get_metrics from another thread while next_batch runs.
func (c *child) metricsPhase() {
	c.phase("metrics", "metrics.concurrent")
	if !c.m.syms["get_metrics"] {
		c.skip("plugin_get_metrics not exported (optional)", "metrics", "metrics.concurrent")
		return
	}
	c.metricsSnapshot("after the events")
	if c.want("metrics") {
		if n := len(c.metrics); n > 0 && len(c.metrics[n-1]) > 0 {
			var names []string
			for _, m := range c.metrics[n-1] {
				names = append(names, m.name+"="+m.value)
			}
			c.f.note("metrics", "%d metrics after the events: %s", len(names), listSome(names, 12))
		} else {
			c.f.note("metrics", "no metric reported")
		}
		c.report("metrics")
	}
	if c.want("metrics.concurrent") {
		if b := c.batchFaulted(); b != "" && c.m.sourcing {
			c.skip("plugin_next_batch crashed or hung (see "+b+")", "metrics.concurrent")
			return
		}
		c.concurrentMetrics()
		c.report("metrics.concurrent")
	}
}

// concurrentMetrics calls get_metrics in a loop on a second thread while the
// main thread runs next_batch (open, batches until EOF, close, again) or,
// for an extractor, extraction. Well-formedness is checked here only when
// the metrics check passed (one violation, one check).
func (c *child) concurrentMetrics() {
	const id = "metrics.concurrent"
	var inCall atomic.Int32
	var stop atomic.Bool
	var calls, overlaps atomic.Int64
	sink := c.f
	if c.f.status("metrics") == Fail {
		sink = newFindings()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go c.guard(func() {
		defer wg.Done()
		for !stop.Load() {
			c.sideCrumb("plugin_get_metrics")
			if inCall.Load() == 1 {
				overlaps.Add(1)
			}
			c.readMetrics(sink, id, "on a second thread")
			c.sideCrumb("")
			calls.Add(1)
			runtime.Gosched()
		}
	})
	deadline := time.Now().Add(c.opts.ConcurrentTime)
	params := c.openParamsValue()
	opens := 0
	// At most maxOpens instances (a source that ends at once would
	// otherwise be reopened thousands of times); the last one is kept
	// until the deadline, answering EOF.
	const maxOpens = 50
	for time.Now().Before(deadline) {
		if c.m.sourcing && c.f.status("open") != Fail && !c.faulted["open"] {
			c.crumb(id, "", "plugin_open("+quote(params)+") (while get_metrics runs on another thread)", "")
			i, rc := c.p.OpenRaw(c.state, params)
			if rc != harness.Success {
				c.crumb(id, "", "plugin_close after a failed plugin_open", "")
				c.p.Close(c.state, i)
				c.f.note(id, "plugin_open failed again: %s", rcName(rc))
				break
			}
			opens++
			c.inst = i
			for time.Now().Before(deadline) {
				inCall.Store(1)
				rc, _, ok := c.nextBatch(id, "plugin_next_batch (while get_metrics runs on another thread)", false)
				inCall.Store(0)
				if !ok || (rc == harness.EOF && opens < maxOpens) {
					break
				}
			}
			c.crumb(id, "", "plugin_close (while get_metrics runs on another thread)", "")
			c.p.Close(c.state, i)
			continue
		}
		// An extractor: extraction is its event-loop work.
		e := harness.CBytes(pluginEvent(999999, []byte("{}")))
		src := harness.NewCString("conformance")
		f0 := c.m.fields[0]
		c.crumb(id, "", "plugin_extract_fields (while get_metrics runs on another thread)", "")
		inCall.Store(1)
		c.p.ExtractPtr(c.state, e, 1, src, []harness.RawField{{ID: f0.ID, Name: f0.Name, Type: f0.Code, List: f0.List}}, false)
		inCall.Store(0)
		src.Free()
		harness.FreePtr(e)
	}
	c.crumb(id, id, "waiting for plugin_get_metrics to return on the second thread", "")
	stop.Store(true)
	wg.Wait()
	c.f.note(id, "%d get_metrics calls on a second thread, %d of them while a next_batch or extract call ran (%d instances opened)", calls.Load(), overlaps.Load(), opens)
}

func (c *child) openParamsValue() string {
	if c.opts.OpenParams != nil {
		return *c.opts.OpenParams
	}
	return ""
}

// usage is what the lifecycle checks watch.
type usage struct{ fds, threads, rss int64 }

func measure() usage {
	var u usage
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		u.fds = int64(len(ents))
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
				u.threads, _ = strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			u.rss = pages * int64(os.Getpagesize())
		}
	}
	return u
}

// cycles runs warm-up cycles, then n measured in two halves, and judges the
// growth: a leak of about one fd or thread per cycle (at least n/2 in all,
// still n/4 in the second half) is a FAIL; RSS that keeps growing (more than
// 32 MiB in all, 8 MiB in the second half) a WARN.
func (c *child) cycles(id string, n int, cycle func(k int) bool) {
	for k := 0; k < 3; k++ {
		if !cycle(k) {
			return
		}
	}
	u0 := measure()
	for k := 0; k < n/2; k++ {
		if !cycle(3 + k) {
			return
		}
	}
	u1 := measure()
	for k := 0; k < n/2; k++ {
		if !cycle(3 + n/2 + k) {
			return
		}
	}
	u2 := measure()
	for _, r := range []struct {
		what       string
		a, b, cval int64
	}{{"open fds", u0.fds, u1.fds, u2.fds}, {"threads", u0.threads, u1.threads, u2.threads}} {
		if r.cval-r.a >= int64(n/2) && r.cval-r.b >= int64(n/4) {
			c.f.fail(id, r.what, "%s grew %d -> %d -> %d over %d cycles: a leak of about one per cycle (Falco re-runs init and open on every config reload)", r.what, r.a, r.b, r.cval, n)
		}
	}
	const mib = 1 << 20
	if u2.rss-u0.rss > 32*mib && u2.rss-u1.rss > 8*mib {
		c.f.warn(id, "rss", "RSS grew %.1f -> %.1f -> %.1f MiB over %d cycles", float64(u0.rss)/mib, float64(u1.rss)/mib, float64(u2.rss)/mib, n)
	}
	c.f.note(id, "%d cycles: fds %d -> %d -> %d, threads %d -> %d -> %d, RSS %.1f -> %.1f -> %.1f MiB", n,
		u0.fds, u1.fds, u2.fds, u0.threads, u1.threads, u2.threads, float64(u0.rss)/mib, float64(u1.rss)/mib, float64(u2.rss)/mib)
}

func (c *child) lifecyclePhase() {
	const oc, id = "lifecycle.open-close", "lifecycle.init-destroy"
	c.phase(oc, id)
	switch {
	case !c.want(oc):
	case !c.m.sourcing:
		c.skip("no event sourcing capability", oc)
	case c.f.status("open") == Fail || c.faulted["open"]:
		c.skip("plugin_open failed (see open)", oc)
	default:
		params := c.openParamsValue()
		c.cycles(oc, c.opts.OpenCloseCycles, func(k int) bool {
			c.crumb(oc, "", fmt.Sprintf("plugin_open(%s) (cycle %d)", quote(params), k), "")
			i, rc := c.p.OpenRaw(c.state, params)
			if rc != harness.Success {
				msg := ""
				if rc == harness.Failure {
					msg = c.lastErr(c.state, "plugin_open (cycle)")
				}
				c.f.fail(oc, "open", "plugin_open failed on cycle %d (rc %s): %s", k, rcName(rc), oneLine(msg, 100))
				c.crumb(oc, "", "plugin_close after a failed plugin_open", "")
				c.p.Close(c.state, i)
				return false
			}
			c.inst = i
			for j := 0; j < 2 && c.batchFaulted() == ""; j++ {
				c.nextBatch(oc, fmt.Sprintf("plugin_next_batch (cycle %d)", k), false)
			}
			c.crumb(oc, "", fmt.Sprintf("plugin_close (cycle %d)", k), "")
			c.p.Close(c.state, i)
			return true
		})
		c.report(oc)
	}
	if c.want(id) {
		cfg := c.initCfg
		c.cycles(id, c.opts.InitDestroyCycles, func(k int) bool {
			c.crumb(id, "", fmt.Sprintf("plugin_init(%s) (cycle %d)", quote(cfg), k), "")
			s, rc := c.p.InitRaw(cfg)
			if rc != harness.Success {
				msg := ""
				if rc == harness.Failure && s != 0 {
					msg = c.lastErr(s, "plugin_init (cycle)")
				}
				c.f.fail(id, "init", "plugin_init failed on cycle %d (rc %s): %s", k, rcName(rc), oneLine(msg, 100))
				if s != 0 {
					c.crumb(id, "", "plugin_destroy after a failed plugin_init", "")
					c.p.Destroy(s)
				}
				return false
			}
			c.crumb(id, "", fmt.Sprintf("plugin_destroy (cycle %d)", k), "")
			c.p.Destroy(s)
			return true
		})
		c.report(id)
	}
}
