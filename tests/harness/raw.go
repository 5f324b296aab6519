package harness

/*
#include <stdlib.h>
#include <string.h>
#include "raw.h"
*/
import "C"

import "unsafe"

// This file is the raw layer the conformance suite (tests/conformance) drives
// a plugin of unknown quality through: pointers the plugin returns are kept
// as Ptr (an integer, never dereferenced by Go) and read with SafeRead, which
// cannot fault; outputs the plugin must set are pre-filled with the sentinels
// below so that an output left unset is seen as such.

// Ptr is an address the plugin returned, not yet known to be readable.
type Ptr uintptr

// Sentinels written into outputs before a call (see raw.h).
const (
	RCUnset     int32  = C.H_RC_UNSET
	NEvtsUnset  uint32 = C.H_NEVTS_UNSET
	PctUnset    uint32 = C.H_PCT_UNSET
	ResLenUnset uint64 = C.H_RES_LEN_UNSET
	PtrUnset    Ptr    = C.H_PTR_UNSET
)

// More field types of the plugin API (see harness.go for the others).
const (
	TypeIPAddr uint32 = 40
	TypeIPNet  uint32 = 41
)

// EventHeaderSize is sizeof(ss_plugin_event), the packed event header.
const EventHeaderSize = C.sizeof_ss_plugin_event

// SafeRead returns the readable prefix of the n bytes at p (nil for none).
func SafeRead(p Ptr, n int) []byte {
	if n <= 0 || p == 0 {
		return nil
	}
	buf := make([]byte, n)
	got := C.h_safe_read(C.uintptr_t(p), unsafe.Pointer(&buf[0]), C.size_t(n))
	return buf[:int(got)]
}

// StrState says what a C string pointer turned out to be.
type StrState int

const (
	StrOK         StrState = iota
	StrNull                // the pointer is NULL
	StrUnreadable          // it points to memory that cannot be read
	StrTooLong             // no NUL within the limit
)

func (s StrState) String() string {
	switch s {
	case StrNull:
		return "NULL"
	case StrUnreadable:
		return "unreadable"
	case StrTooLong:
		return "not NUL-terminated within the limit"
	}
	return "ok"
}

// SafeCString reads the NUL-terminated string at p, at most max bytes,
// without faulting: page by page, so that a string ending just before an
// unmapped page is still read whole.
func SafeCString(p Ptr, max int) (string, StrState) {
	if p == 0 {
		return "", StrNull
	}
	var out []byte
	addr := uintptr(p)
	for len(out) <= max {
		chunk := 4096 - int(addr%4096)
		b := SafeRead(Ptr(addr), chunk)
		for i, c := range b {
			if c == 0 {
				return string(append(out, b[:i]...)), StrOK
			}
		}
		if len(b) < chunk {
			return string(out), StrUnreadable
		}
		out = append(out, b...)
		addr += uintptr(chunk)
	}
	return string(out[:max]), StrTooLong
}

// InfoPtr calls an info getter (H_NAME, ...) and returns its raw pointer (0
// also when the symbol is absent: check Has first).
func (p *Plugin) InfoPtr(which int) Ptr { return Ptr(unsafe.Pointer(C.h_info(C.int(which)))) }

// Info getter selectors for InfoPtr.
const (
	InfoRequiredAPI    = C.H_REQ_API
	InfoName           = C.H_NAME
	InfoDescription    = C.H_DESC
	InfoContact        = C.H_CONTACT
	InfoVersion        = C.H_VERSION
	InfoEventSource    = C.H_EVT_SOURCE
	InfoExtractSources = C.H_EXTRACT_SOURCES
	InfoFields         = C.H_FIELDS
)

// InitSchemaPtr calls plugin_get_init_schema (type pre-set to NONE, as
// sinsp_plugin::get_init_schema does).
func (p *Plugin) InitSchemaPtr() (Ptr, int32) {
	var t C.int32_t
	s := C.h_init_schema(&t)
	return Ptr(unsafe.Pointer(s)), int32(t)
}

// InitRaw calls plugin_init with rc pre-set to RCUnset.
func (p *Plugin) InitRaw(config string) (State, int32) {
	c := C.CString(config)
	defer C.free(unsafe.Pointer(c))
	var rc C.int32_t
	s := C.h_init_raw(c, &rc)
	return State(s), int32(rc)
}

// OpenRaw calls plugin_open with rc pre-set to RCUnset.
func (p *Plugin) OpenRaw(s State, params string) (Instance, int32) {
	c := C.CString(params)
	defer C.free(unsafe.Pointer(c))
	var rc C.int32_t
	i := C.h_open_raw(C.uintptr_t(s), c, &rc)
	return Instance(i), int32(rc)
}

// NextBatchPtr calls plugin_next_batch with nevts pre-set to NEvtsUnset
// and the array pointer to PtrUnset, and returns them as the plugin left
// them.
func (p *Plugin) NextBatchPtr(s State, i Instance) (rc int32, n uint32, evts Ptr) {
	var cn C.uint32_t
	var ce C.uintptr_t
	rc = int32(C.h_next_batch_raw(C.uintptr_t(s), C.uintptr_t(i), &cn, &ce))
	return rc, uint32(cn), Ptr(ce)
}

// LastErrorPtr calls plugin_get_last_error.
func (p *Plugin) LastErrorPtr(s State) Ptr { return Ptr(C.h_get_last_error_raw(C.uintptr_t(s))) }

// ProgressPtr calls plugin_get_progress with the percentage pre-set to
// PctUnset.
func (p *Plugin) ProgressPtr(s State, i Instance) (uint32, Ptr) {
	var pct C.uint32_t
	str := C.h_get_progress_raw(C.uintptr_t(s), C.uintptr_t(i), &pct)
	return uint32(pct), Ptr(str)
}

// ListOpenParamsPtr calls plugin_list_open_params with rc pre-set to
// RCUnset.
func (p *Plugin) ListOpenParamsPtr(s State) (Ptr, int32) {
	var rc C.int32_t
	out := C.h_list_open_params_raw(C.uintptr_t(s), &rc)
	return Ptr(out), int32(rc)
}

// MetricsPtr calls plugin_get_metrics (count pre-set to 0, as Falco does).
func (p *Plugin) MetricsPtr(s State) (Ptr, uint32) {
	var n C.uint32_t
	arr := C.h_get_metrics_raw(C.uintptr_t(s), &n)
	return Ptr(arr), uint32(n)
}

// MetricSize is sizeof(ss_plugin_metric).
const MetricSize = C.sizeof_ss_plugin_metric

// CString is a C copy of a Go string, for the calls below; Free it.
type CString struct{ p *C.char }

// NewCString copies s into C memory.
func NewCString(s string) CString { return CString{C.CString(s)} }

// Free releases it.
func (c CString) Free() { C.free(unsafe.Pointer(c.p)) }

// EventToStringPtr calls plugin_event_to_string for the event at evt.
func (p *Plugin) EventToStringPtr(s State, evt Ptr, num uint64, src CString) Ptr {
	return Ptr(C.h_event_to_string_raw(C.uintptr_t(s), C.uintptr_t(evt), C.uint64_t(num), src.p))
}

// FixupEvent applies libscap's in-place writes to a batch event (see raw.h).
func FixupEvent(evt Ptr, pluginID uint32, isPluginEvent, setID bool) {
	b2i := func(b bool) C.int {
		if b {
			return 1
		}
		return 0
	}
	C.h_fixup_event(C.uintptr_t(evt), C.uint32_t(pluginID), b2i(isPluginEvent), b2i(setID))
}

// CBytes copies b into C memory (with one extra NUL byte); free it with
// FreePtr.
func CBytes(b []byte) Ptr {
	buf := C.malloc(C.size_t(len(b) + 1))
	if len(b) > 0 {
		C.memcpy(buf, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	}
	*(*byte)(unsafe.Add(buf, len(b))) = 0
	return Ptr(buf)
}

// FreePtr frees memory from CBytes.
func FreePtr(p Ptr) { C.h_free(C.uintptr_t(p)) }

// RawField is one field request of ExtractPtr.
type RawField struct {
	ID         uint32
	Name       string
	Type       uint32
	List       bool
	ArgKey     string
	ArgIndex   uint64
	ArgPresent bool
	KeyArg     bool // arg_key is set (to ArgKey); otherwise NULL
}

// RawValue is what the plugin left in one ss_plugin_extract_field: res and
// res_len, both pre-set to sentinels (PtrUnset, ResLenUnset).
type RawValue struct {
	Res Ptr
	Len uint64
}

// ExtractPtr calls plugin_extract_fields once with all reqs for the event
// at evt and returns the raw outputs (and, withOffsets, the offset arrays
// the plugin set, both 0 when it set none).
func (p *Plugin) ExtractPtr(s State, evt Ptr, num uint64, src CString, reqs []RawField, withOffsets bool) (rc int32, vals []RawValue, starts, lengths Ptr) {
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
	for k, r := range reqs {
		f := &flds[k]
		name := C.CString(r.Name)
		cstrs = append(cstrs, unsafe.Pointer(name))
		f.field_id = C.uint32_t(r.ID)
		f.field = name
		f.ftype = C.uint32_t(r.Type)
		if r.List {
			f.flist = 1
		}
		if r.KeyArg {
			a := C.CString(r.ArgKey)
			cstrs = append(cstrs, unsafe.Pointer(a))
			f.arg_key = a
		}
		f.arg_index = C.uint64_t(r.ArgIndex)
		if r.ArgPresent {
			f.arg_present = 1
		}
		*(*uintptr)(unsafe.Pointer(&f.res)) = uintptr(PtrUnset)
		f.res_len = C.uint64_t(ResLenUnset)
	}
	var cst, cln C.uintptr_t
	off := C.int(0)
	if withOffsets {
		off = 1
	}
	rc = int32(C.h_extract_raw(C.uintptr_t(s), C.uintptr_t(evt), C.uint64_t(num), src.p, C.uint32_t(n), fields, off, &cst, &cln))
	vals = make([]RawValue, n)
	for k := range reqs {
		vals[k] = RawValue{Res: Ptr(*(*uintptr)(unsafe.Pointer(&flds[k].res))), Len: uint64(flds[k].res_len)}
	}
	return rc, vals, Ptr(cst), Ptr(cln)
}

// RawLogCount is the number of messages received through log_fn by plugin
// states created with InitRaw.
func RawLogCount() uint64 { return uint64(C.h_raw_log_count()) }
