package abi

/*
#include <stdlib.h>
#include <string.h>
#include "plugin_abi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/ptr"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"

	"github.com/falco-docker/docker-plugin/internal/escape"
	"github.com/falco-docker/docker-plugin/internal/fields"
)

// Aliases for the non-cgo files of the package.
type (
	extractField = C.ss_plugin_extract_field
	cEventInput  = C.ss_plugin_event_input
)

// extractPool implements sdk.ExtractRequestPool for the SDK's
// plugin_extract_fields glue, which asks Get(field_id) for every requested
// field, points it at the C ss_plugin_extract_field (SetPtr), and calls
// pluginState.Extract with it.
//
// Unlike the SDK's default pool (a map, one malloc'ed result buffer per field
// id, values boxed in interface{}), requests are preallocated per field id
// and results go to the plugin's C arena, written through typed methods: no
// allocation per call. Field ids outside the table get a shared request that
// Extract rejects with a clear error.
type extractPool struct {
	reqs    []extractRequest // index = field id
	unknown extractRequest

	// value_offsets (API 3.11.0): arrays of {start,length} per requested
	// field. We report {0,0}, "no offsets", which the API allows.
	offStart, offLen unsafe.Pointer
	offCap           uint32

	// newCall is set by MakeOffsetArrayPtrs, which the glue calls first in a
	// call when the framework passes value_offsets: a sure call boundary.
	newCall bool
}

func newExtractPool() *extractPool {
	p := &extractPool{reqs: make([]extractRequest, len(fields.Table))}
	for i := range p.reqs {
		p.reqs[i].field = &fields.Table[i]
	}
	return p
}

func (p *extractPool) Get(i int) sdk.ExtractRequest {
	if i >= 0 && i < len(p.reqs) {
		return &p.reqs[i]
	}
	return &p.unknown
}

func (p *extractPool) MakeOffsetArrayPtrs(offsets unsafe.Pointer, n uint32) {
	if n > p.offCap {
		C.free(p.offStart)
		C.free(p.offLen)
		p.offStart = C.calloc(C.size_t(n), 4)
		p.offLen = C.calloc(C.size_t(n), 4)
		p.offCap = n
	} else if n > 0 {
		C.memset(p.offStart, 0, C.size_t(n)*4)
		C.memset(p.offLen, 0, C.size_t(n)*4)
	}
	o := (*C.ss_plugin_extract_value_offsets)(offsets)
	o.start = (*C.uint32_t)(p.offStart)
	o.length = (*C.uint32_t)(p.offLen)
	p.newCall = true
}

func (p *extractPool) Free() {
	C.free(p.offStart)
	C.free(p.offLen)
	p.offStart, p.offLen, p.offCap = nil, nil, 0
}

// extractRequest implements sdk.ExtractRequest over one C
// ss_plugin_extract_field. Values are written with setString/setUint64
// (typed, no interface boxing); SetValue exists for the interface only.
type extractRequest struct {
	req   *C.ss_plugin_extract_field
	field *fields.Field // nil for unknown ids
	start *C.uint32_t
	len   *C.uint32_t
}

func (r *extractRequest) SetPtr(p unsafe.Pointer) { r.req = (*C.ss_plugin_extract_field)(p) }
func (r *extractRequest) SetOffsetPtrs(start, length unsafe.Pointer) {
	r.start, r.len = (*C.uint32_t)(start), (*C.uint32_t)(length)
}
func (r *extractRequest) FieldID() uint64   { return uint64(r.req.field_id) }
func (r *extractRequest) FieldType() uint32 { return uint32(r.req.ftype) }
func (r *extractRequest) Field() string     { return ptr.GoString(unsafe.Pointer(r.req.field)) }
func (r *extractRequest) ArgKey() string    { return ptr.GoString(unsafe.Pointer(r.req.arg_key)) }
func (r *extractRequest) ArgIndex() uint64  { return uint64(r.req.arg_index) }
func (r *extractRequest) ArgPresent() bool  { return r.req.arg_present != 0 }
func (r *extractRequest) IsList() bool      { return r.req.flist != 0 }
func (r *extractRequest) WantOffset() bool  { return r.start != nil && r.len != nil }
func (r *extractRequest) SetValueOffset(start, length uint32) {
	if r.WantOffset() {
		*r.start, *r.len = C.uint32_t(start), C.uint32_t(length)
	}
}

// SetValue implements sdk.ExtractRequest for completeness; the plugin's own
// path never boxes values. It panics on a type the field cannot hold, as the
// SDK's does (and the guard turns that into an error).
func (r *extractRequest) SetValue(v any) {
	panic(fmt.Sprintf("abi: SetValue(%T) is not supported; use the typed sink", v))
}

// arena is C memory for extraction results. The API says result memory must
// stay valid until the next plugin_extract_fields call; the SDK's glue does
// not say where a call starts, so Extract detects call boundaries (see
// pluginState.beginField) and resets the arena there. When a call needs
// more than the current block, a bigger block replaces it and the old one is
// kept until the next reset (values of this call still point into it).
type arena struct {
	base    unsafe.Pointer
	size    uintptr
	off     uintptr
	retired []unsafe.Pointer
}

const arenaInitial = 64 << 10

func (a *arena) reset() {
	for i, p := range a.retired {
		C.free(p)
		a.retired[i] = nil
	}
	a.retired = a.retired[:0]
	a.off = 0
}

// alloc returns n bytes aligned to 8, or nil when C memory is exhausted.
func (a *arena) alloc(n uintptr) unsafe.Pointer {
	n = (n + 7) &^ 7
	if a.base == nil || a.off+n > a.size {
		size := a.size * 2
		if size < arenaInitial {
			size = arenaInitial
		}
		for size < n {
			size *= 2
		}
		nb := C.malloc(C.size_t(size))
		if nb == nil {
			return nil
		}
		if a.base != nil {
			a.retired = append(a.retired, a.base)
		}
		a.base, a.size, a.off = nb, size, 0
	}
	p := unsafe.Add(a.base, a.off)
	a.off += n
	return p
}

func (a *arena) free() {
	a.reset()
	C.free(a.base)
	a.base, a.size, a.off = nil, 0, 0
}

var errArenaExhausted = errors.New("cannot allocate memory for extracted values")

// valueSink implements fields.Sink for one request: values are copied into
// the arena at once (strings escaped and NUL-terminated), and their pointers
// collected so that finish can write the result array Falco reads.
//
// Strings are escaped on the way (package escape): field values are bytes
// of labels, exec commands and names that whoever runs containers chooses,
// and Falco prints them in alert lines. A newline would forge a second
// output line, ESC drive the terminal, a NUL end the C string early. A value
// without such bytes is copied as is (one scan, no allocation).
type valueSink struct {
	a     *arena
	plain bool // the event's strings need no escaping (event.Plain)
	ftype uint32
	strs  []unsafe.Pointer // C string pointers of this request
	u64s  []uint64
	bools []uint32 // ss_plugin_bool values
	err   error
}

func (s *valueSink) begin(a *arena, ftype uint32, plain bool) {
	s.a, s.ftype, s.plain, s.err = a, ftype, plain, nil
	s.strs = s.strs[:0]
	s.u64s = s.u64s[:0]
	s.bools = s.bools[:0]
}

func (s *valueSink) String(v string) {
	if s.ftype != sdk.FieldTypeCharBuf {
		s.err = fmt.Errorf("field type mismatch: a string value for a field of type %d", s.ftype)
		return
	}
	n := len(v)
	if !s.plain {
		n = escape.Len(v)
	}
	p := s.a.alloc(uintptr(n) + 1)
	if p == nil {
		s.err = errArenaExhausted
		return
	}
	dst := unsafe.Slice((*byte)(p), n+1)
	if n == len(v) {
		copy(dst, v)
	} else {
		escape.Into(dst, v)
	}
	dst[n] = 0
	s.strs = append(s.strs, p)
}

func (s *valueSink) Uint64(v uint64) {
	if s.ftype != sdk.FieldTypeUint64 && s.ftype != sdk.FieldTypeAbsTime && s.ftype != sdk.FieldTypeRelTime {
		s.err = fmt.Errorf("field type mismatch: a number for a field of type %d", s.ftype)
		return
	}
	s.u64s = append(s.u64s, v)
}

// Bool collects a value of a bool field (FTYPE_BOOL: an array of
// ss_plugin_bool, uint32, 1 for true).
func (s *valueSink) Bool(v bool) {
	if s.ftype != sdk.FieldTypeBool {
		s.err = fmt.Errorf("field type mismatch: a boolean for a field of type %d", s.ftype)
		return
	}
	b := uint32(0)
	if v {
		b = 1
	}
	s.bools = append(s.bools, b)
}

// finish writes the collected values as the request's result. No value
// leaves res_len at 0: Falco shows <NA>.
func (s *valueSink) finish(req *C.ss_plugin_extract_field) error {
	if s.err != nil {
		return s.err
	}
	n := len(s.strs) + len(s.u64s) + len(s.bools)
	if n == 0 {
		req.res_len = 0
		return nil
	}
	if n > 1 && req.flist == 0 {
		return fmt.Errorf("internal error: %d values for a non-list field", n)
	}
	arr := s.a.alloc(uintptr(n) * 8)
	if arr == nil {
		return errArenaExhausted
	}
	switch {
	case len(s.strs) > 0:
		copy(unsafe.Slice((*unsafe.Pointer)(arr), n), s.strs)
	case len(s.bools) > 0:
		copy(unsafe.Slice((*uint32)(arr), n), s.bools)
	default:
		copy(unsafe.Slice((*uint64)(arr), n), s.u64s)
	}
	*(*unsafe.Pointer)(unsafe.Pointer(&req.res)) = arr
	req.res_len = C.uint64_t(n)
	return nil
}

// eventInput recovers the C ss_plugin_event_input* behind the
// sdk.EventReader the glue passes to Extract and String. The SDK's reader
// (a pointer type, so the interface's data word is that pointer) only offers
// an allocating io.ReadSeeker and panics on non-plugin events; reading the
// struct directly lets us validate the event and alias its payload for free.
func eventInput(evt sdk.EventReader) *C.ss_plugin_event_input {
	type iface struct{ tab, data unsafe.Pointer }
	return (*C.ss_plugin_event_input)((*iface)(unsafe.Pointer(&evt)).data)
}

// payload validates a plugin event and returns its payload (aliasing C
// memory, valid during the call).
func payload(in *C.ss_plugin_event_input) ([]byte, error) {
	if in == nil || in.evt == nil {
		return nil, errors.New("invalid event: NULL event")
	}
	if in.evtsrc != nil {
		src := ptr.GoString(unsafe.Pointer(in.evtsrc))
		if src != eventSource {
			return nil, fmt.Errorf("event of source %q: this plugin extracts from %q events only", src, eventSource)
		}
	}
	evt := in.evt
	if evt._type != C.DOCKER_PLUGIN_EVENT_CODE {
		return nil, fmt.Errorf("event of type %d: this plugin extracts from plugin events (type %d) only", evt._type, C.DOCKER_PLUGIN_EVENT_CODE)
	}
	if np := *nparams((*C.ss_plugin_event)(unsafe.Pointer(evt))); np != 2 || uint32(evt.len) < payloadOffset {
		return nil, fmt.Errorf("malformed plugin event: %d parameters, length %d", np, evt.len)
	}
	dataLen := *(*uint32)(unsafe.Add(unsafe.Pointer(evt), C.sizeof_ss_plugin_event+4))
	if uint64(dataLen) > uint64(evt.len)-payloadOffset {
		return nil, fmt.Errorf("malformed plugin event: payload length %d exceeds event length %d", dataLen, evt.len)
	}
	if dataLen == 0 {
		return nil, nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(evt), payloadOffset)), dataLen), nil
}
