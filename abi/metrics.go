package abi

/*
#include <stdlib.h>
#include "plugin_abi.h"
*/
import "C"

import (
	"runtime/metrics"
	"sync"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/cgo"

	pmetrics "github.com/falco-docker/docker-plugin/internal/metrics"
)

// Runtime metrics of the plugin's own Go runtime (a c-shared Go library has
// its own, invisible to the host's tools): heap size, cumulative heap
// allocations (the zero-allocation tests read this), goroutines.
var runtimeMetricNames = []struct {
	sample    string
	name      string
	monotonic bool
}{
	{"/memory/classes/heap/objects:bytes", "go_heap_bytes", false},
	{"/gc/heap/allocs:objects", "go_heap_allocs", true},
	{"/gc/heap/tiny/allocs:objects", "go_heap_tiny_allocs", true},
	{"/sched/goroutines:goroutines", "go_goroutines", false},
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
	samples []metrics.Sample
}

func (m *metricsExport) init() error {
	m.n = len(pmetrics.Names) + len(runtimeMetricNames)
	m.arr = (*C.ss_plugin_metric)(C.calloc(C.size_t(m.n), C.sizeof_ss_plugin_metric))
	if m.arr == nil {
		return errMetricsAlloc
	}
	m.samples = make([]metrics.Sample, len(runtimeMetricNames))
	for i, r := range runtimeMetricNames {
		m.samples[i].Name = r.sample
	}
	m.snap = make([]pmetrics.Metric, 0, len(pmetrics.Names))
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
	metrics.Read(m.samples)
	for j, s := range m.samples {
		var v uint64
		if s.Value.Kind() == metrics.KindUint64 {
			v = s.Value.Uint64()
		}
		put(&arr[i], cMetricNames[i], v, runtimeMetricNames[j].monotonic)
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
