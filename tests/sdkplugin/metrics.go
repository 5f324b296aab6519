package main

/*
#include <stdint.h>
#include <stdlib.h>

// ss_plugin_metric as plugin_api.h lays it out on LP64: name @0, type @8,
// value @16, value_type @24, 32 bytes.
typedef struct {
	const char* name;
	uint32_t type;
	uint64_t value;
	uint32_t value_type;
} sdktest_metric;
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/cgo"
)

// metricsBuf is the C array plugin_get_metrics returns, allocated once per
// plugin state: Falco reads it after the call returns, so it cannot be Go
// memory.
type metricsBuf struct {
	mu  sync.Mutex
	arr *C.sdktest_metric
}

var metricNames = []*C.char{C.CString("events_produced"), C.CString("instances_open")}

func newMetricsBuf() *metricsBuf {
	return &metricsBuf{arr: (*C.sdktest_metric)(C.calloc(C.size_t(len(metricNames)), C.sizeof_sdktest_metric))}
}

func (m *metricsBuf) free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	C.free(unsafe.Pointer(m.arr))
	m.arr = nil
}

//export plugin_get_metrics
func plugin_get_metrics(pState C.uintptr_t, n *C.uint32_t) *C.sdktest_metric {
	p := cgo.Handle(pState).Value().(*Plugin)
	m := p.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	ms := unsafe.Slice(m.arr, len(metricNames))
	vals := []uint64{p.produced.Load(), uint64(p.opened.Load())}
	for k := range ms {
		ms[k].name = metricNames[k]
		ms[k]._type = C.uint32_t(k) // 0 monotonic, 1 non-monotonic
		ms[k].value = C.uint64_t(vals[k])
		ms[k].value_type = 2 // u64
	}
	*n = C.uint32_t(len(ms))
	return m.arr
}
