package abi

/*
#include <stdlib.h>
#include <string.h>
#include "extract.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/ptr"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"

	"github.com/falco-docker/docker-plugin/internal/escape"
	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/fields"
)

// Aliases for the non-cgo files of the package.
type cEventInput = C.ss_plugin_event_input

// arena is C memory for extraction results. The API says result memory must
// stay valid until the next plugin_extract_fields call; an arena is reset
// only when its values can no longer be asked for (see extraction). When
// it needs more than the current block, a bigger block replaces it and the
// old one is kept until the next reset (values already given point into it).
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

// finish writes the collected values into the arena as the result array
// Falco reads (const char*[], uint64_t[] or ss_plugin_bool[]) and returns it with its length.
// No value is (nil, 0): Falco shows <NA>.
func (s *valueSink) finish() (unsafe.Pointer, uint64, error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	n := len(s.strs) + len(s.u64s) + len(s.bools)
	if n == 0 {
		return nil, 0, nil
	}
	arr := s.a.alloc(uintptr(n) * 8)
	if arr == nil {
		return nil, 0, errArenaExhausted
	}
	switch {
	case len(s.strs) > 0:
		copy(unsafe.Slice((*unsafe.Pointer)(arr), n), s.strs)
	case len(s.bools) > 0:
		copy(unsafe.Slice((*uint32)(arr), n), s.bools)
	default:
		copy(unsafe.Slice((*uint64)(arr), n), s.u64s)
	}
	return arr, uint64(n), nil
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

// extraction is a plugin state's field extraction: the parsed event, the
// per-event value table C answers from (extract.h, extract.c), and the
// arenas its values live in.
//
// Falco evaluates every rule of the docker source on every event, asking
// for one field per plugin_extract_fields call, and the same fields again
// and again (docker.type and docker.action.name in nearly every rule). So
// the first call for an event parses it once and fills the table with the
// values of the fields asked for in at least half of the last 16 events;
// the following calls are answered in C without entering Go. A field asked
// less often (Falco short-circuits and/or: a rule's container-context
// fields are asked only for the events its first conditions let through)
// costs one call into Go when it is asked, which adds it: computing it for
// every event would cost more (the context member is decoded on first use).
//
// Memory: values of the current event live in arenas[cur] and stay valid
// while it is the current event and during the next one (the arena of the
// event before is reset only when a third event starts), so a value is
// valid until the next call whatever that call is for, as the API requires.
// Values that are not cached (more key arguments than the table holds) live
// in the call arena, reset at the start of each call that enters Go.
type extraction struct {
	c      *C.docker_xcache // C memory, never nil after newExtraction
	handle uintptr          // the slot c is published in (0: none yet)
	arenas [2]arena
	cur    int
	call   arena
	sink   valueSink
	evt    event.Event

	// Which of the last 16 events asked for each field id and each
	// (field, key) pair (bit 0: the last one), for fill.
	hist    [C.DOCKER_XMAX_FIELDS]uint16
	argHist [C.DOCKER_XMAX_ARGS]uint16
}

// fillFrom is how many of the last 16 events must have asked for a value
// for fill to compute it for a new event.
const fillFrom = 8

func newExtraction() (*extraction, error) {
	if len(fields.Table) > C.DOCKER_XMAX_FIELDS {
		return nil, fmt.Errorf("internal error: %d fields, the extraction table holds %d (DOCKER_XMAX_FIELDS)", len(fields.Table), C.DOCKER_XMAX_FIELDS)
	}
	c := (*C.docker_xcache)(C.calloc(1, C.sizeof_docker_xcache))
	if c == nil {
		return nil, errors.New("cannot allocate the extraction table")
	}
	c.nfields = C.uint32_t(len(fields.Table))
	for i, f := range fields.Table {
		c.ftype[i] = C.uint32_t(fieldTypeCode(f.Type))
		if f.ArgRequired {
			c.has_arg[i] = 1
		}
	}
	return &extraction{c: c}, nil
}

// publish makes the table answerable in C for calls on state handle h.
func (x *extraction) publish(h uintptr) {
	if h != x.handle && h > 0 && h < C.DOCKER_XCACHE_SLOTS {
		x.unpublish()
		C.docker_xcaches[h] = x.c
		x.handle = h
	}
}

func (x *extraction) unpublish() {
	if x.handle != 0 {
		C.docker_xcaches[x.handle] = nil
		x.handle = 0
	}
}

// free releases everything; the state is being destroyed.
func (x *extraction) free() {
	x.unpublish()
	for i := range x.arenas {
		x.arenas[i].free()
	}
	x.call.free()
	for k := range x.c.args {
		C.free(unsafe.Pointer(x.c.args[k].key))
	}
	C.free(unsafe.Pointer(x.c.off_start))
	C.free(unsafe.Pointer(x.c.off_len))
	C.free(unsafe.Pointer(x.c))
	x.c = nil
}

//export docker_extract_fields
func docker_extract_fields(h C.uintptr_t, in *C.ss_plugin_event_input, req *C.ss_plugin_field_extract_input, start C.uint32_t) (rc C.ss_plugin_rc) {
	p, _ := handleValue(uintptr(h)).(*pluginState)
	if p == nil {
		return C.SS_PLUGIN_FAILURE // no state to carry a last error
	}
	if err := p.extract(uintptr(h), in, req, int(start)); err != nil {
		p.counters.ExtractErrors.Add(1)
		p.SetLastError(err)
		return C.SS_PLUGIN_FAILURE
	}
	return C.SS_PLUGIN_SUCCESS
}

// extract does the part of a plugin_extract_fields call C could not: the
// fields of req from start on.
func (p *pluginState) extract(h uintptr, in *C.ss_plugin_event_input, req *C.ss_plugin_field_extract_input, start int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError("plugin_extract_fields", r)
		}
	}()
	faultpoint("extract")
	if req == nil {
		return errors.New("plugin_extract_fields: NULL input")
	}
	n := int(req.num_fields)
	if n > 0 && req.fields == nil {
		return errors.New("plugin_extract_fields: NULL fields")
	}
	x := p.x
	x.publish(h)
	x.call.reset()
	if req.value_offsets != nil {
		if err := x.offsets(req.value_offsets, n); err != nil {
			return err
		}
	}
	flds := unsafe.Slice(req.fields, n)
	var e *event.Event
	for i := start; i < n; i++ {
		if err := p.extractField(&flds[i], in, &e); err != nil {
			return err
		}
	}
	return nil
}

// offsets reports "no offsets" (all {0,0}), which the API allows, in
// arrays kept for the purpose.
func (x *extraction) offsets(o *C.ss_plugin_extract_value_offsets, n int) error {
	c := x.c
	if n > int(c.off_cap) {
		C.free(unsafe.Pointer(c.off_start))
		C.free(unsafe.Pointer(c.off_len))
		c.off_start = (*C.uint32_t)(C.calloc(C.size_t(n), 4))
		c.off_len = (*C.uint32_t)(C.calloc(C.size_t(n), 4))
		c.off_cap = C.uint32_t(n)
		if c.off_start == nil || c.off_len == nil {
			C.free(unsafe.Pointer(c.off_start))
			C.free(unsafe.Pointer(c.off_len))
			c.off_start, c.off_len, c.off_cap = nil, nil, 0
			return errArenaExhausted
		}
	} else if n > 0 {
		C.memset(unsafe.Pointer(c.off_start), 0, C.size_t(n)*4)
		C.memset(unsafe.Pointer(c.off_len), 0, C.size_t(n)*4)
	}
	o.start, o.length = c.off_start, c.off_len
	return nil
}

// extractField answers one requested field: from the table, or computed
// (and kept in the table when it can hold it). *e is the parsed event,
// looked up by the first field of the call that gets that far.
func (p *pluginState) extractField(f *C.ss_plugin_extract_field, in *C.ss_plugin_event_input, e **event.Event) error {
	f.res_len = 0
	x := p.x
	id := uint32(f.field_id)
	if int(id) >= len(fields.Table) {
		return fields.ErrUnknownField{ID: uint64(id)}
	}
	fd := &fields.Table[id]
	if f.ftype != x.c.ftype[id] {
		return fmt.Errorf("field %s: requested as type %d, declared %s", fd.Name, f.ftype, fd.Type)
	}
	if *e == nil {
		var err error
		if *e, err = p.parsed(in); err != nil {
			return err
		}
	}
	hasArg := f.arg_present != 0
	var arg string
	if hasArg {
		arg = ptr.GoString(unsafe.Pointer(f.arg_key))
	}
	var slot *C.docker_xval
	if !fd.ArgRequired {
		slot = &x.c.vals[id]
	} else if hasArg && arg != "" {
		slot = x.argSlot(id, arg)
	}
	gen := x.c.gen
	if slot == nil || slot.gen != gen {
		a := &x.call
		if slot != nil {
			a = &x.arenas[x.cur]
		}
		res, n, err := x.compute(a, id, arg, hasArg, *e)
		if err != nil {
			return err
		}
		if slot == nil {
			return setResult(f, res, n)
		}
		slot.res, slot.res_len, slot.gen = res, C.uint64_t(n), gen
	}
	slot.used = gen
	return setResult(f, slot.res, uint64(slot.res_len))
}

func setResult(f *C.ss_plugin_extract_field, res unsafe.Pointer, n uint64) error {
	if n > 1 && f.flist == 0 {
		return fmt.Errorf("internal error: %d values for a non-list field", n)
	}
	*(*unsafe.Pointer)(unsafe.Pointer(&f.res)) = res
	f.res_len = C.uint64_t(n)
	return nil
}

// compute extracts field id of e into arena a.
func (x *extraction) compute(a *arena, id uint32, arg string, hasArg bool, e *event.Event) (unsafe.Pointer, uint64, error) {
	x.sink.begin(a, uint32(x.c.ftype[id]), e.Plain())
	if err := fields.Extract(uint64(id), arg, hasArg, e, &x.sink); err != nil {
		return nil, 0, fmt.Errorf("field %s: %w", fields.Table[id].Name, err)
	}
	return x.sink.finish()
}

// argSlot is the table's entry for field id with key argument key, added
// if there is room; nil when the table is full (the value is then computed
// for each call, uncached).
func (x *extraction) argSlot(id uint32, key string) *C.docker_xval {
	c := x.c
	for k := 0; k < int(c.nargs); k++ {
		a := &c.args[k]
		if uint32(a.field_id) == id && ptr.GoString(unsafe.Pointer(a.key)) == key {
			return &a.val
		}
	}
	if int(c.nargs) == len(c.args) {
		return nil
	}
	ck := (*C.char)(C.malloc(C.size_t(len(key) + 1)))
	if ck == nil {
		return nil
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(ck)), len(key)), key)
	*(*byte)(unsafe.Add(unsafe.Pointer(ck), len(key))) = 0
	a := &c.args[c.nargs]
	a.key, a.field_id, a.val = ck, C.uint32_t(id), C.docker_xval{}
	c.nargs++
	return &a.val
}

// parsed returns the parsed view of the event in, parsing it (and filling
// the table for it) when it is not the current one.
func (p *pluginState) parsed(in *C.ss_plugin_event_input) (*event.Event, error) {
	x := p.x
	c := x.c
	if in != nil && in.evt != nil && c.evt != nil && in.evt == c.evt && in.evtnum == c.evtnum &&
		in.evtsrc == c.evtsrc && in.evt.len == C.uint32_t(c.evtlen) {
		return &x.evt, nil
	}
	// A new event: values of the table are stale from here on.
	x.record()
	c.gen++
	c.evt = nil
	data, err := payload(in)
	if err != nil {
		return nil, err
	}
	x.evt.Parse(data)
	x.cur ^= 1
	x.arenas[x.cur].reset()
	c.evt, c.evtnum, c.evtsrc, c.evtlen = in.evt, in.evtnum, in.evtsrc, C.uint32_t(in.evt.len)
	x.fill()
	return &x.evt, nil
}

// record notes, as the current event ends, which values it was asked for
// (C and Go mark a value used with the generation that asked for it).
func (x *extraction) record() {
	c := x.c
	for id := range x.hist[:c.nfields] {
		x.hist[id] = x.hist[id]<<1 | asked(&c.vals[id], c.gen)
	}
	for k := range x.argHist[:c.nargs] {
		x.argHist[k] = x.argHist[k]<<1 | asked(&c.args[k].val, c.gen)
	}
}

func asked(v *C.docker_xval, gen C.uint64_t) uint16 {
	if gen != 0 && v.used == gen {
		return 1
	}
	return 0
}

// fill computes, for the new current event, the values asked for in at
// least fillFrom of the last 16 events. A value that fails is left out:
// the call that asks for it computes it again and reports the error.
func (x *extraction) fill() {
	c := x.c
	gen := c.gen
	a := &x.arenas[x.cur]
	for id := uint32(0); id < uint32(c.nfields); id++ {
		if v := &c.vals[id]; c.has_arg[id] == 0 && bits.OnesCount16(x.hist[id]) >= fillFrom {
			if res, n, err := x.compute(a, id, "", false, &x.evt); err == nil {
				v.res, v.res_len, v.gen = res, C.uint64_t(n), gen
			}
		}
	}
	for k := 0; k < int(c.nargs); k++ {
		if ar := &c.args[k]; bits.OnesCount16(x.argHist[k]) >= fillFrom {
			key := ptr.GoString(unsafe.Pointer(ar.key))
			if res, n, err := x.compute(a, uint32(ar.field_id), key, true, &x.evt); err == nil {
				ar.val.res, ar.val.res_len, ar.val.gen = res, C.uint64_t(n), gen
			}
		}
	}
}
