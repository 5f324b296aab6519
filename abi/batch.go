package abi

/*
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "plugin_abi.h"

// Slots come straight from mmap, not calloc: glibc raises its mmap
// threshold after the first large free, and a calloc served from the heap
// memsets (touches) every byte, so each plugin_open would make the whole
// batch resident and closing would not give it back.
static void* docker_slots_alloc(size_t size) {
	void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}
static void docker_slots_free(void* p, size_t size) {
	if (p != NULL) munmap(p, size);
}
*/
import "C"

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
)

// payloadOffset is where the payload of a plugin event starts: the packed
// 26-byte header, two uint32 parameter lengths, the uint32 plugin id.
const payloadOffset = C.DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET

// The SDK and our header must agree on the layout we write.
var _ = [1]struct{}{}[payloadOffset-sdk.PluginEventPayloadOffset]

// batch is one open instance's event batch: the ss_plugin_event* array Falco
// reads after plugin_next_batch, and one fixed-size slot per event, all
// allocated once (two mallocs) in newBatch and freed once in Free.
//
// Why slots of maxEventSize: the array returned by next_batch must stay valid
// until the next call, and events are copied straight from the source's read
// buffer into their slot (one memmove) with the header filled in place. The
// slots are one private anonymous mapping: pages an event never reaches
// cost no resident memory, and close returns all of them to the system.
//
// batch implements sdk.EventWriters (what the SDK's next_batch glue calls)
// and source.Batch (what sources write into).
type batch struct {
	ptrs     **C.ss_plugin_event // [capacity] pointers into slots
	slots    unsafe.Pointer      // capacity * slotSize bytes
	slotSize uintptr
	maxData  int
	capacity int
	n        int
	writers  []slotWriter // sdk.EventWriter views, for completeness of the interface
	freed    bool
}

func newBatch(capacity, maxData int) (*batch, error) {
	if capacity < 1 || maxData < 1 || maxData > 1<<30 {
		return nil, fmt.Errorf("event batch: invalid capacity %d or event size %d", capacity, maxData)
	}
	slotSize := (uintptr(payloadOffset) + uintptr(maxData) + 7) &^ 7
	b := &batch{slotSize: slotSize, maxData: maxData, capacity: capacity}
	b.ptrs = (**C.ss_plugin_event)(C.calloc(C.size_t(capacity), C.size_t(unsafe.Sizeof(uintptr(0)))))
	b.slots = C.docker_slots_alloc(C.size_t(uintptr(capacity) * slotSize))
	if b.ptrs == nil || b.slots == nil {
		C.free(unsafe.Pointer(b.ptrs))
		C.docker_slots_free(b.slots, C.size_t(uintptr(capacity)*slotSize))
		return nil, fmt.Errorf("event batch: cannot allocate %d events of %d bytes", capacity, maxData)
	}
	ptrs := unsafe.Slice(b.ptrs, capacity)
	b.writers = make([]slotWriter, capacity)
	for i := range ptrs {
		evt := (*C.ss_plugin_event)(unsafe.Add(b.slots, uintptr(i)*slotSize))
		evt.ts = C.uint64_t(^uint64(0))
		evt.tid = C.uint64_t(^uint64(0))
		evt._type = C.DOCKER_PLUGIN_EVENT_CODE
		*nparams(evt) = 2
		evt.len = C.uint32_t(payloadOffset)
		params := unsafe.Slice((*uint32)(unsafe.Add(unsafe.Pointer(evt), C.sizeof_ss_plugin_event)), 3)
		params[0] = 4 // plugin id parameter: 4 bytes, filled by the framework
		params[1] = 0 // payload length
		params[2] = 0 // plugin id
		ptrs[i] = evt
		b.writers[i] = slotWriter{b: b, i: i}
	}
	return b, nil
}

// nparams points at the header's nparams member: it sits at the unaligned
// offset 22 of the packed struct, which cgo cannot express as a field.
func nparams(evt *C.ss_plugin_event) *uint32 {
	return (*uint32)(unsafe.Add(unsafe.Pointer(evt), 22))
}

func (b *batch) slot(i int) *C.ss_plugin_event {
	return (*C.ss_plugin_event)(unsafe.Add(b.slots, uintptr(i)*b.slotSize))
}

func (b *batch) setPayload(evt *C.ss_plugin_event, data []byte) {
	n := copy(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(evt), payloadOffset)), b.maxData), data)
	*(*uint32)(unsafe.Add(unsafe.Pointer(evt), C.sizeof_ss_plugin_event+4)) = uint32(n)
	evt.len = C.uint32_t(payloadOffset + n)
}

// reset empties the batch before a next_batch call.
func (b *batch) reset() { b.n = 0 }

// Cap implements source.Batch.
func (b *batch) Cap() int { return b.capacity }

// Len implements source.Batch (and sdk.EventWriters' Len, see below).
func (b *batch) Len() int { return b.capacity }

// Add implements source.Batch: the event is copied into the next slot.
// Sources never pass more than maxData bytes (they drop and count larger
// events); a longer slice would be truncated by the copy, never overflow.
func (b *batch) Add(data []byte, ts uint64) {
	evt := b.slot(b.n)
	evt.ts = C.uint64_t(ts)
	b.setPayload(evt, data)
	b.n++
}

// Get implements sdk.EventWriters.
func (b *batch) Get(i int) sdk.EventWriter { return &b.writers[i] }

// ArrayPtr implements sdk.EventWriters: the ss_plugin_event** Falco reads.
func (b *batch) ArrayPtr() unsafe.Pointer { return unsafe.Pointer(b.ptrs) }

// Free implements sdk.EventWriters. Idempotent.
func (b *batch) Free() {
	if b.freed {
		return
	}
	b.freed = true
	C.free(unsafe.Pointer(b.ptrs))
	C.docker_slots_free(b.slots, C.size_t(uintptr(b.capacity)*b.slotSize))
	b.ptrs, b.slots = nil, nil
}

// sourceBatch adapts batch to source.Batch, whose Len is the number of
// events added (sdk.EventWriters' Len is the capacity).
type sourceBatch struct{ *batch }

func (s sourceBatch) Len() int { return s.n }

// slotWriter is the sdk.EventWriter view of one slot: Writer appends with a
// single copy per Write call.
type slotWriter struct {
	b *batch
	i int
}

func (w *slotWriter) Writer() io.Writer {
	w.b.setPayload(w.b.slot(w.i), nil)
	return w
}

func (w *slotWriter) Write(p []byte) (int, error) {
	evt := w.b.slot(w.i)
	lenPtr := (*uint32)(unsafe.Add(unsafe.Pointer(evt), C.sizeof_ss_plugin_event+4))
	cur := int(*lenPtr)
	if cur+len(p) > w.b.maxData {
		return 0, fmt.Errorf("event larger than maxEventSize %d", w.b.maxData)
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(evt), payloadOffset+cur)), len(p)), p)
	*lenPtr = uint32(cur + len(p))
	evt.len = C.uint32_t(payloadOffset + cur + len(p))
	return len(p), nil
}

func (w *slotWriter) SetTimestamp(ts uint64) { w.b.slot(w.i).ts = C.uint64_t(ts) }
