// Package harness loads a Falco plugin .so with dlopen and drives its C ABI
// the way Falco does. It is the project's own loader: the conformance tests,
// the benchmarks and `make run` (tests/cmd/plugin-run) all use it.
//
// Facts this package is built around (two Go runtimes in one process, the
// host's and the plugin's):
//   - State handles are kept as uintptr, never in pointer-typed variables.
//   - The plugin's runtime takes over SIGURG at dlopen; harness.c chains
//     SIGURG to both runtimes so the host's preemption (and GC) keeps working.
//   - dlclose does nothing for a Go .so: one plugin per process, and tests
//     that need fresh global state run in a child process.
//   - A panic that escapes the plugin kills this process.
//   - No thread of this process may exit once it has called into the plugin:
//     so no goroutine may end while locked to its thread (a Go runtime ends
//     such a thread). The plugin's runtime drops the M it bound to the
//     thread from a pthread key destructor, after this runtime has torn its
//     own M down, and a signal pending then faults in this runtime's handler.
package harness

/*
#cgo CFLAGS: -O2 -Wall
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "harness.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Return codes of the plugin API.
const (
	Success      int32 = 0
	Failure      int32 = 1
	Timeout      int32 = -1
	EOF          int32 = 2
	NotSupported int32 = 3
)

// Field types of the plugin API.
const (
	TypeUint64  uint32 = 8
	TypeString  uint32 = 9
	TypeRelTime uint32 = 20
	TypeAbsTime uint32 = 21
	TypeBool    uint32 = 25
)

// PayloadOffset is where a plugin event's payload starts.
const PayloadOffset = C.DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET

// State and Instance are the plugin's opaque handles.
type (
	State    uintptr
	Instance uintptr
)

// Plugin is the loaded library.
type Plugin struct {
	Path string
}

var (
	loadMu sync.Mutex
	loaded *Plugin
)

// Load dlopens path. Only one plugin can be loaded per process; loading the
// same path again returns the same Plugin.
func Load(path string) (*Plugin, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded != nil {
		if loaded.Path == path {
			return loaded, nil
		}
		return nil, fmt.Errorf("harness: %s already loaded in this process; cannot also load %s", loaded.Path, path)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.h_load(cpath); msg != nil {
		return nil, errors.New(C.GoString(msg))
	}
	loaded = &Plugin{Path: path}
	return loaded, nil
}

// Has reports whether the library exports symbol.
func (p *Plugin) Has(symbol string) bool {
	c := C.CString(symbol)
	defer C.free(unsafe.Pointer(c))
	return C.h_has(c) != 0
}

// MissingSymbols returns which of names the library does not export.
func (p *Plugin) MissingSymbols(names ...string) []string {
	var out []string
	for _, n := range names {
		if !p.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

func goStr(c *C.char) string {
	if c == nil {
		return ""
	}
	return C.GoString(c)
}

func (p *Plugin) RequiredAPIVersion() string { return goStr(C.h_info(C.H_REQ_API)) }
func (p *Plugin) Name() string               { return goStr(C.h_info(C.H_NAME)) }
func (p *Plugin) Description() string        { return goStr(C.h_info(C.H_DESC)) }
func (p *Plugin) Contact() string            { return goStr(C.h_info(C.H_CONTACT)) }
func (p *Plugin) Version() string            { return goStr(C.h_info(C.H_VERSION)) }
func (p *Plugin) ID() uint32                 { return uint32(C.h_id()) }

// EventSource is "" for plugins without the event sourcing capability.
func (p *Plugin) EventSource() string { return goStr(C.h_info(C.H_EVT_SOURCE)) }

// ExtractSources is the JSON array of compatible sources ("" if absent).
func (p *Plugin) ExtractSources() string { return goStr(C.h_info(C.H_EXTRACT_SOURCES)) }

// FieldsJSON is plugin_get_fields' raw JSON.
func (p *Plugin) FieldsJSON() string { return goStr(C.h_info(C.H_FIELDS)) }

// Field is one entry of plugin_get_fields.
type Field struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	IsList bool   `json:"isList"`
	Arg    struct {
		IsRequired bool `json:"isRequired"`
		IsIndex    bool `json:"isIndex"`
		IsKey      bool `json:"isKey"`
	} `json:"arg"`
	Display    string   `json:"display"`
	Desc       string   `json:"desc"`
	Properties []string `json:"properties"`
}

// TypeCode is the ss_plugin_field_type of the field's declared type name.
func (f Field) TypeCode() uint32 {
	switch f.Type {
	case "uint64":
		return TypeUint64
	case "abstime":
		return TypeAbsTime
	case "reltime":
		return TypeRelTime
	case "bool":
		return TypeBool
	}
	return TypeString
}

// Fields decodes plugin_get_fields.
func (p *Plugin) Fields() ([]Field, error) {
	var out []Field
	if err := json.Unmarshal([]byte(p.FieldsJSON()), &out); err != nil {
		return nil, fmt.Errorf("plugin_get_fields: %w", err)
	}
	return out, nil
}

// InitSchema returns the schema and its type (1 = JSON).
func (p *Plugin) InitSchema() (string, int) {
	var t C.int32_t
	s := goStr(C.h_init_schema(&t))
	return s, int(t)
}

// Init calls plugin_init. On failure the state is still returned (Falco
// reads the last error from it, then destroys it).
func (p *Plugin) Init(config string) (State, int32) {
	c := C.CString(config)
	defer C.free(unsafe.Pointer(c))
	var rc C.int32_t
	s := C.h_init(c, &rc)
	return State(s), int32(rc)
}

// Destroy calls plugin_destroy.
func (p *Plugin) Destroy(s State) { C.h_destroy(C.uintptr_t(s)) }

// LastError calls plugin_get_last_error.
func (p *Plugin) LastError(s State) string { return goStr(C.h_get_last_error(C.uintptr_t(s))) }

// Open calls plugin_open.
func (p *Plugin) Open(s State, params string) (Instance, int32) {
	c := C.CString(params)
	defer C.free(unsafe.Pointer(c))
	var rc C.int32_t
	i := C.h_open(C.uintptr_t(s), c, &rc)
	return Instance(i), int32(rc)
}

// Close calls plugin_close.
func (p *Plugin) Close(s State, i Instance) { C.h_close(C.uintptr_t(s), C.uintptr_t(i)) }

// RawEvent points at one event of the last batch (C memory owned by the
// plugin, valid until the next NextBatch on that instance).
type RawEvent struct{ ptr *C.ss_plugin_event }

// Event is a copy of one batch event.
type Event struct {
	TS      uint64
	TID     uint64
	Type    uint16
	NParams uint32
	Len     uint32
	Data    []byte // the payload
	Raw     []byte // the whole event, header included
}

// NextBatch calls plugin_next_batch and copies the events out.
func (p *Plugin) NextBatch(s State, i Instance) ([]Event, int32) {
	raw, rc := p.NextBatchRaw(s, i)
	out := make([]Event, len(raw))
	for k, r := range raw {
		out[k] = r.Copy()
	}
	return out, rc
}

// NextBatchRaw calls plugin_next_batch without copying.
func (p *Plugin) NextBatchRaw(s State, i Instance) ([]RawEvent, int32) {
	var n C.uint32_t
	var evts **C.ss_plugin_event
	rc := int32(C.h_next_batch(C.uintptr_t(s), C.uintptr_t(i), &n, &evts))
	if n == 0 || evts == nil {
		return nil, rc
	}
	ptrs := unsafe.Slice(evts, int(n))
	out := make([]RawEvent, n)
	for k := range ptrs {
		out[k] = RawEvent{ptrs[k]}
	}
	return out, rc
}

// Copy copies the event (header fields parsed, payload bounded by len).
func (r RawEvent) Copy() Event {
	e := r.ptr
	base := unsafe.Pointer(e)
	total := uint32(e.len)
	ev := Event{
		TS:      uint64(e.ts),
		TID:     uint64(e.tid),
		Type:    uint16(e._type),
		NParams: *(*uint32)(unsafe.Add(base, 22)),
		Len:     total,
	}
	if total >= PayloadOffset && total < 1<<30 {
		ev.Raw = C.GoBytes(base, C.int(total))
		dataLen := *(*uint32)(unsafe.Add(base, C.sizeof_ss_plugin_event+4))
		if uint64(dataLen) <= uint64(total)-PayloadOffset {
			ev.Data = ev.Raw[PayloadOffset : PayloadOffset+dataLen]
		}
	}
	return ev
}

// Progress calls plugin_get_progress; pct is in hundredths of a percent.
func (p *Plugin) Progress(s State, i Instance) (uint32, string) {
	var pct C.uint32_t
	str := C.h_get_progress(C.uintptr_t(s), C.uintptr_t(i), &pct)
	return uint32(pct), goStr(str)
}

// ListOpenParams calls plugin_list_open_params.
func (p *Plugin) ListOpenParams(s State) (string, int32) {
	var rc C.int32_t
	out := C.h_list_open_params(C.uintptr_t(s), &rc)
	return goStr(out), int32(rc)
}

// Metric is one plugin_get_metrics entry.
type Metric struct {
	Name      string
	Monotonic bool
	ValueType uint32
	U64       uint64
}

// Metrics calls plugin_get_metrics.
func (p *Plugin) Metrics(s State) []Metric {
	var n C.uint32_t
	arr := C.h_get_metrics(C.uintptr_t(s), &n)
	if arr == nil || n == 0 {
		return nil
	}
	out := make([]Metric, n)
	for k, m := range unsafe.Slice(arr, int(n)) {
		out[k] = Metric{
			Name:      goStr(m.name),
			Monotonic: m._type == C.SS_PLUGIN_METRIC_TYPE_MONOTONIC,
			ValueType: uint32(m.value_type),
			U64:       *(*uint64)(unsafe.Pointer(&m.value)),
		}
	}
	return out
}

// MetricsMap returns the metrics by name.
func (p *Plugin) MetricsMap(s State) map[string]uint64 {
	out := map[string]uint64{}
	for _, m := range p.Metrics(s) {
		out[m.Name] = m.U64
	}
	return out
}

// SetFault arms the fault-injection build's panic point ("" disarms).
func (p *Plugin) SetFault(point string) error {
	if !p.Has("docker_test_set_fault") {
		return errors.New("harness: the loaded plugin is not a fault-injection build")
	}
	c := C.CString(point)
	defer C.free(unsafe.Pointer(c))
	C.h_set_fault(c)
	return nil
}

// LogCount is the number of messages the plugin sent through log_fn.
func LogCount() uint64 { return uint64(C.h_log_count()) }
