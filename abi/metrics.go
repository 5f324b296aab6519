package abi

/*
#include <stdlib.h>
#include "plugin_abi.h"
*/
import "C"

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/cgo"

	pmetrics "github.com/falco-docker/docker-plugin/internal/metrics"
)

// Runtime metrics of the plugin's own Go runtime (a c-shared Go library has
// its own, invisible to the host's tools). They come from
// runtime.ReadMemStats, not runtime/metrics: the runtime adds small
// allocations to its runtime/metrics counters lazily, when a P hands a
// cached span back (a GC hands back all of them), so a count read from there
// misses recent allocations and, across a GC, gains older ones (seen: 2845
// "allocations" over a replay that makes none). ReadMemStats flushes every
// P's cache first, which makes go_heap_allocs exact, at the price of a short
// stop of the plugin's runtime (17 us with 2 Ps, 67 us with 64, measured with
// Go 1.26) per get_metrics call, which Falco makes at its metrics interval
// and on each Prometheus scrape.
//
// go_heap_live_bytes, the heap the last GC found live, is what a leak grows;
// go_heap_bytes (allocated objects now, garbage not yet collected included)
// swings by the GC's pace, several MiB here between two readings of a
// steady workload. It comes from runtime/metrics, which computes it at GC.
var runtimeMetricNames = []struct {
	name      string
	monotonic bool
	sample    string                         // a runtime/metrics name, or
	value     func(*runtime.MemStats) uint64 // from ReadMemStats
}{
	{"go_heap_bytes", false, "", func(m *runtime.MemStats) uint64 { return m.HeapAlloc }},
	{"go_heap_live_bytes", false, "/gc/heap/live:bytes", nil},
	// Every heap allocation, tiny ones included: the zero-allocation tests
	// read this.
	{"go_heap_allocs", true, "", func(m *runtime.MemStats) uint64 { return m.Mallocs }},
	{"go_gc_cycles", true, "", func(m *runtime.MemStats) uint64 { return uint64(m.NumGC) }},
	{"go_goroutines", false, "", func(*runtime.MemStats) uint64 { return uint64(runtime.NumGoroutine()) }},
}

// cMetricNames are allocated once per process: the names must outlive
// every plugin state that hands them out.
var cMetricNames = func() []*C.char {
	var out []*C.char
	for _, n := range pmetrics.Names {
		out = append(out, C.CString(n))
	}
	for _, m := range runtimeMetricNames {
		out = append(out, C.CString(m.name))
	}
	return out
}()

// metricsExport is a plugin state's plugin_get_metrics array: C memory
// allocated at init, refilled on each call. plugin_get_metrics is called
// from Falco's web server thread too, hence the mutex; the returned array
// stays valid until the next call (or destroy).
type metricsExport struct {
	mu      sync.Mutex
	arr     *C.ss_plugin_metric
	n       int
	snap    []pmetrics.Metric
	mem     runtime.MemStats
	samples []metrics.Sample // one per runtimeMetricNames entry; unused ones stay empty
}

func (m *metricsExport) init() error {
	m.n = len(pmetrics.Names) + len(runtimeMetricNames)
	m.arr = (*C.ss_plugin_metric)(C.calloc(C.size_t(m.n), C.sizeof_ss_plugin_metric))
	if m.arr == nil {
		return errMetricsAlloc
	}
	m.snap = make([]pmetrics.Metric, 0, len(pmetrics.Names))
	for _, r := range runtimeMetricNames {
		if r.sample != "" {
			m.samples = append(m.samples, metrics.Sample{Name: r.sample})
		}
	}
	return nil
}

func (m *metricsExport) free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	C.free(unsafe.Pointer(m.arr))
	m.arr = nil
}

func (m *metricsExport) fill(c *pmetrics.Counters) (*C.ss_plugin_metric, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.arr == nil {
		return nil, 0
	}
	arr := unsafe.Slice(m.arr, m.n)
	m.snap = c.Snapshot(m.snap[:0])
	i := 0
	for _, s := range m.snap {
		put(&arr[i], cMetricNames[i], s.Value, s.Monotonic)
		i++
	}
	runtime.ReadMemStats(&m.mem)
	metrics.Read(m.samples)
	k := 0
	for _, r := range runtimeMetricNames {
		var v uint64
		if r.sample == "" {
			v = r.value(&m.mem)
		} else {
			if m.samples[k].Value.Kind() == metrics.KindUint64 {
				v = m.samples[k].Value.Uint64()
			}
			k++
		}
		put(&arr[i], cMetricNames[i], v, r.monotonic)
		i++
	}
	return m.arr, i
}

func put(dst *C.ss_plugin_metric, name *C.char, v uint64, monotonic bool) {
	dst.name = name
	dst._type = C.SS_PLUGIN_METRIC_TYPE_NON_MONOTONIC
	if monotonic {
		dst._type = C.SS_PLUGIN_METRIC_TYPE_MONOTONIC
	}
	dst.value_type = C.SS_PLUGIN_METRIC_VALUE_TYPE_U64
	*(*uint64)(unsafe.Pointer(&dst.value)) = v
}

//export plugin_get_metrics
func plugin_get_metrics(s C.uintptr_t, numMetrics *C.uint32_t) (out *C.ss_plugin_metric) {
	// plugin_get_metrics has no error channel: on any failure it reports
	// zero metrics.
	defer func() {
		if r := recover(); r != nil {
			_ = panicError("plugin_get_metrics", r)
			if numMetrics != nil {
				*numMetrics = 0
			}
			out = nil
		}
	}()
	if numMetrics == nil {
		return nil
	}
	*numMetrics = 0
	faultpoint("get_metrics")
	h := cgo.Handle(s)
	if s == 0 || h > cgo.MaxHandle {
		return nil
	}
	p, ok := h.Value().(*pluginState)
	if !ok {
		return nil // a failed init's state: nothing to report
	}
	p.counters.Panics.Store(panicCount.Load())
	arr, n := p.metrics.fill(&p.counters)
	*numMetrics = C.uint32_t(n)
	return arr
}
