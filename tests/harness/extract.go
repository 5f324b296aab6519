package harness

/*
#include <stdlib.h>
#include <string.h>
#include "harness.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// EventStore holds events in C memory the way Falco holds the event it is
// processing: a copy of the plugin's batch event with the plugin id
// parameter filled in, an event number, and the source name. Free it when
// done.
type EventStore struct {
	inputs *C.ss_plugin_event_input // [cap]
	bufs   []unsafe.Pointer
	sizes  map[int]int // event k's buffer size, for Overwrite
	src    *C.char
	n, cap int
}

// NewEventStore allocates room for capacity events of source src.
func NewEventStore(capacity int, src string) *EventStore {
	return &EventStore{
		inputs: (*C.ss_plugin_event_input)(C.calloc(C.size_t(capacity), C.sizeof_ss_plugin_event_input)),
		src:    C.CString(src),
		cap:    capacity,
	}
}

// Len is the number of stored events.
func (s *EventStore) Len() int { return s.n }

// AddRaw copies a batch event (plugin id filled in) with event number num.
func (s *EventStore) AddRaw(r RawEvent, pluginID uint32, num uint64) int {
	size := uint32(r.ptr.len)
	buf := C.malloc(C.size_t(size))
	C.h_copy_event(r.ptr, C.uint32_t(pluginID), buf, C.uint32_t(size))
	return s.add(buf, num)
}

// AddBytes stores an arbitrary event image (e.g. a hostile one built by a
// test) with event number num; srcOverride, if not nil, replaces the source.
func (s *EventStore) AddBytes(raw []byte, num uint64) int {
	return s.AddBytesCap(raw, num, len(raw)+1)
}

// AddBytesCap is AddBytes in a buffer of size bytes, which Overwrite can
// refill with another event later.
func (s *EventStore) AddBytesCap(raw []byte, num uint64, size int) int {
	if size < len(raw) {
		size = len(raw)
	}
	buf := C.malloc(C.size_t(size))
	copy(unsafe.Slice((*byte)(buf), len(raw)), raw)
	k := s.add(buf, num)
	if s.sizes == nil {
		s.sizes = map[int]int{}
	}
	s.sizes[k] = size
	return k
}

// Overwrite replaces event k with raw, in place, and numbers it num: the
// way Falco's plugin source reuses one buffer for every event it reads.
func (s *EventStore) Overwrite(k int, raw []byte, num uint64) {
	if len(raw) > s.sizes[k] {
		panic("harness: Overwrite beyond the event's buffer")
	}
	in := s.input(k)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(in.evt)), len(raw)), raw)
	in.evtnum = C.uint64_t(num)
}

func (s *EventStore) add(buf unsafe.Pointer, num uint64) int {
	if s.n == s.cap {
		panic("harness: event store full")
	}
	in := s.input(s.n)
	in.evt = (*C.ss_plugin_event)(buf)
	in.evtnum = C.uint64_t(num)
	in.evtsrc = s.src
	s.bufs = append(s.bufs, buf)
	s.n++
	return s.n - 1
}

// SetSource sets event k's source name (nil source when src is "").
func (s *EventStore) SetSource(k int, src string) {
	in := s.input(k)
	if src == "" {
		in.evtsrc = nil
		return
	}
	c := C.CString(src)
	s.bufs = append(s.bufs, unsafe.Pointer(c))
	in.evtsrc = c
}

// SetNum sets event k's event number.
func (s *EventStore) SetNum(k int, num uint64) { s.input(k).evtnum = C.uint64_t(num) }

func (s *EventStore) input(k int) *C.ss_plugin_event_input {
	return (*C.ss_plugin_event_input)(unsafe.Add(unsafe.Pointer(s.inputs), uintptr(k)*C.sizeof_ss_plugin_event_input))
}

// Reset drops the stored events (their memory is freed), keeping the store.
func (s *EventStore) Reset() {
	for _, b := range s.bufs {
		C.free(b)
	}
	s.bufs = s.bufs[:0]
	s.n = 0
}

// Free releases the C memory.
func (s *EventStore) Free() {
	for _, b := range s.bufs {
		C.free(b)
	}
	s.bufs = nil
	C.free(unsafe.Pointer(s.inputs))
	C.free(unsafe.Pointer(s.src))
	s.inputs, s.src, s.n = nil, nil, 0
}

// Request is one field to extract.
type Request struct {
	ID      uint32
	Name    string
	Type    uint32
	Arg     string
	HasArg  bool
	IsList  bool
	ArgIdx  uint64
	Garbage bool // leave res/res_len as garbage before the call, to check the plugin sets them
}

// Value is one extracted result.
type Value struct {
	Present bool // res_len > 0
	Strs    []string
	U64s    []uint64
	Bools   []bool // FTYPE_BOOL: ss_plugin_bool (uint32) values
}

// ExtractResult is what one plugin_extract_fields call produced.
type ExtractResult struct {
	RC      int32
	Values  []Value
	Offsets [][2]uint32 // when offsets were requested
}

// Extract calls plugin_extract_fields once for event k with all reqs, and
// copies the results out before returning.
func (p *Plugin) Extract(s State, store *EventStore, k int, reqs []Request, withOffsets bool) ExtractResult {
	n := len(reqs)
	fields := (*C.ss_plugin_extract_field)(C.calloc(C.size_t(n+1), C.sizeof_ss_plugin_extract_field))
	defer C.free(unsafe.Pointer(fields))
	flds := unsafe.Slice(fields, n+1)
	var cstrs []unsafe.Pointer
	defer func() {
		for _, c := range cstrs {
			C.free(c)
		}
	}()
	for i, r := range reqs {
		f := &flds[i]
		name := C.CString(r.Name)
		cstrs = append(cstrs, unsafe.Pointer(name))
		f.field_id = C.uint32_t(r.ID)
		f.field = name
		f.ftype = C.uint32_t(r.Type)
		if r.HasArg {
			a := C.CString(r.Arg)
			cstrs = append(cstrs, unsafe.Pointer(a))
			f.arg_key = a
			f.arg_present = 1
			f.arg_index = C.uint64_t(r.ArgIdx)
		}
		if r.IsList {
			f.flist = 1
		}
		if r.Garbage {
			f.res_len = 0xdeadbeef
		}
	}
	var offs *C.ss_plugin_extract_value_offsets
	if withOffsets {
		offs = (*C.ss_plugin_extract_value_offsets)(C.calloc(1, C.sizeof_ss_plugin_extract_value_offsets))
		defer C.free(unsafe.Pointer(offs))
	}
	rc := int32(C.h_extract(C.uintptr_t(s), store.input(k), C.uint32_t(n), fields, offs))
	res := ExtractResult{RC: rc}
	if rc != Success {
		return res
	}
	res.Values = make([]Value, n)
	for i, r := range reqs {
		f := &flds[i]
		cnt := int(f.res_len)
		if cnt == 0 {
			continue
		}
		v := Value{Present: true}
		resPtr := *(*unsafe.Pointer)(unsafe.Pointer(&f.res))
		switch r.Type {
		case TypeString:
			for _, sp := range unsafe.Slice((**C.char)(resPtr), cnt) {
				v.Strs = append(v.Strs, C.GoString(sp))
			}
		case TypeBool:
			for _, b := range unsafe.Slice((*uint32)(resPtr), cnt) {
				v.Bools = append(v.Bools, b != 0)
			}
		default:
			v.U64s = append(v.U64s, unsafe.Slice((*uint64)(resPtr), cnt)...)
		}
		res.Values[i] = v
	}
	if withOffsets && offs.start != nil && offs.length != nil {
		st := unsafe.Slice(offs.start, n)
		ln := unsafe.Slice(offs.length, n)
		for i := 0; i < n; i++ {
			res.Offsets = append(res.Offsets, [2]uint32{uint32(st[i]), uint32(ln[i])})
		}
	}
	return res
}

// ExtractRaw calls plugin_extract_fields for event k with the one string
// field r and returns its first value as the plugin's C string (nil when it
// has none), which a test reads again after later calls to see how long the
// plugin keeps a value valid.
func (p *Plugin) ExtractRaw(s State, store *EventStore, k int, r Request) (int32, CStr) {
	f := (*C.ss_plugin_extract_field)(C.calloc(1, C.sizeof_ss_plugin_extract_field))
	defer C.free(unsafe.Pointer(f))
	name := C.CString(r.Name)
	defer C.free(unsafe.Pointer(name))
	f.field_id, f.field, f.ftype = C.uint32_t(r.ID), name, C.uint32_t(r.Type)
	if r.HasArg {
		a := C.CString(r.Arg)
		defer C.free(unsafe.Pointer(a))
		f.arg_key, f.arg_present = a, 1
	}
	rc := int32(C.h_extract(C.uintptr_t(s), store.input(k), 1, f, nil))
	if rc != Success || f.res_len == 0 {
		return rc, CStr{}
	}
	return rc, CStr{*(**C.char)(*(*unsafe.Pointer)(unsafe.Pointer(&f.res)))}
}

// CStr is a C string the plugin returned (ExtractRaw).
type CStr struct{ p *C.char }

// String reads it now ("" for none).
func (c CStr) String() string { return goStr(c.p) }

// EventToString calls plugin_event_to_string for event k.
func (p *Plugin) EventToString(s State, store *EventStore, k int) string {
	return goStr(C.h_event_to_string(C.uintptr_t(s), store.input(k)))
}

// BenchFields is a prebuilt C request array for the extraction benchmark.
type BenchFields struct {
	fields *C.ss_plugin_extract_field
	n      int
	cstrs  []unsafe.Pointer
}

// NewBenchFields builds the request array once.
func NewBenchFields(reqs []Request) *BenchFields {
	b := &BenchFields{n: len(reqs)}
	b.fields = (*C.ss_plugin_extract_field)(C.calloc(C.size_t(len(reqs)+1), C.sizeof_ss_plugin_extract_field))
	flds := unsafe.Slice(b.fields, len(reqs))
	for i, r := range reqs {
		name := C.CString(r.Name)
		b.cstrs = append(b.cstrs, unsafe.Pointer(name))
		flds[i].field_id = C.uint32_t(r.ID)
		flds[i].field = name
		flds[i].ftype = C.uint32_t(r.Type)
		if r.IsList {
			flds[i].flist = 1
		}
		if r.HasArg {
			a := C.CString(r.Arg)
			b.cstrs = append(b.cstrs, unsafe.Pointer(a))
			flds[i].arg_key = a
			flds[i].arg_present = 1
		}
	}
	return b
}

// Free releases the C memory.
func (b *BenchFields) Free() {
	for _, c := range b.cstrs {
		C.free(c)
	}
	C.free(unsafe.Pointer(b.fields))
}

// BenchExtract runs rounds × every stored event × fields in a C loop: one
// field per call (onePerCall) or all fields in one call.
func (p *Plugin) BenchExtract(s State, store *EventStore, f *BenchFields, rounds uint64, onePerCall bool) int32 {
	one := C.int(0)
	if onePerCall {
		one = 1
	}
	return int32(C.h_bench_extract(C.uintptr_t(s), store.inputs, C.uint32_t(store.n), f.fields, C.uint32_t(f.n), C.uint64_t(rounds), one))
}

// BenchNextBatch calls plugin_next_batch calls times in a C loop and returns
// the last return code and the events delivered.
func (p *Plugin) BenchNextBatch(s State, i Instance, calls uint64) (int32, uint64) {
	var events C.uint64_t
	rc := C.h_bench_next_batch(C.uintptr_t(s), C.uintptr_t(i), C.uint64_t(calls), &events)
	return int32(rc), uint64(events)
}

// BenchEmpty calls an exported function that does nothing (plugin_get_id)
// calls times in a C loop: the floor of any ABI call.
func (p *Plugin) BenchEmpty(calls uint64) uint64 { return uint64(C.h_bench_empty(C.uint64_t(calls))) }

// BenchFalco replays instance i through next_batch until EOF or maxEvents,
// making f's extraction calls (one field per call) on every event as Falco's
// rule evaluation does (see h_bench_falco), and sleeping pause after each
// event. evtnum is the next event number and is advanced. It returns the
// last return code (EOF at the end of the file, or an extraction's failure),
// the events delivered and the calls made.
func (p *Plugin) BenchFalco(s State, i Instance, f *BenchFields, maxEvents uint64, pause time.Duration, evtnum *uint64) (rc int32, events, calls uint64) {
	var ev, cl, num C.uint64_t
	num = C.uint64_t(*evtnum)
	rc = int32(C.h_bench_falco(C.uintptr_t(s), C.uintptr_t(i), C.uint32_t(p.ID()), f.fields, C.uint32_t(f.n),
		C.uint64_t(maxEvents), C.uint32_t(pause.Microseconds()), &num, &ev, &cl))
	*evtnum = uint64(num)
	return rc, uint64(ev), uint64(cl)
}
