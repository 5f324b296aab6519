package abi

/*
#include "nextbatch.h"
*/
import "C"

import (
	"fmt"

	"github.com/falcosecurity/plugin-sdk-go/pkg/cgo"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"

	"github.com/falco-docker/docker-plugin/internal/source"
)

// plugin_next_batch is exported by nextbatch.c, which answers idle calls on
// a live stream without entering Go, and calls docker_next_batch for all
// others. This replaces the SDK's nextbatch symbol package, whose glue
// always enters Go (see nextbatch.c for what that costs), and which would
// also panic (killing Falco) on a handle that is not a live state.

// readyFDer is the optional part of source.Source the C side waits on.
type readyFDer interface{ ReadyFD() int }

var _ readyFDer = (*source.Live)(nil)

//export docker_next_batch
func docker_next_batch(pState, iState C.uintptr_t, nevts *C.uint32_t, retEvts ***C.ss_plugin_event) (rc C.ss_plugin_rc) {
	if nevts == nil || retEvts == nil {
		return C.SS_PLUGIN_FAILURE
	}
	*nevts, *retEvts = 0, nil
	var p *pluginState
	defer func() {
		if r := recover(); r != nil {
			err := panicError("plugin_next_batch", r)
			if p != nil {
				p.SetLastError(err)
			}
			*nevts, *retEvts = 0, nil
			rc = C.SS_PLUGIN_FAILURE
		}
	}()
	p, _ = handleValue(uintptr(pState)).(*pluginState)
	if p == nil {
		return C.SS_PLUGIN_FAILURE // no state to carry a last error
	}
	i, _ := handleValue(uintptr(iState)).(*instanceState)
	if i == nil {
		p.SetLastError(fmt.Errorf("plugin_next_batch: %#x is not an open instance of this plugin", uintptr(iState)))
		return C.SS_PLUGIN_FAILURE
	}
	n, err := i.nextBatch(p)
	i.publishWait(uintptr(iState), uintptr(pState))
	if i.batch != nil {
		*retEvts = (**C.ss_plugin_event)(i.batch.ArrayPtr())
	}
	*nevts = C.uint32_t(n)
	switch err {
	case nil:
		return C.SS_PLUGIN_SUCCESS
	case sdk.ErrEOF:
		return C.SS_PLUGIN_EOF
	case sdk.ErrTimeout:
		return C.SS_PLUGIN_TIMEOUT
	}
	*nevts, *retEvts = 0, nil
	p.SetLastError(err)
	return C.SS_PLUGIN_FAILURE
}

// publishWait describes the instance to nextbatch.c, after each call that
// entered Go (the source and the plugin state change on a rebind), or
// clears its slot when it has nothing to wait on.
func (i *instanceState) publishWait(h, state uintptr) {
	if h == 0 || h >= C.DOCKER_WAIT_SLOTS {
		return
	}
	i.handle = h
	w := &C.docker_wait_slots[h]
	fd := -1
	if r, ok := i.src.(readyFDer); ok && !i.closed && i.batch != nil {
		fd = r.ReadyFD()
	}
	if fd < 0 {
		*w = C.docker_wait_slot{}
		return
	}
	w.state = C.uintptr_t(state)
	w.fd_plus_one = C.int(fd + 1)
	w.wait_ms = C.int(i.wait.Milliseconds())
	w.evts = (**C.ss_plugin_event)(i.batch.ArrayPtr())
}

// unpublishWait clears the instance's slot: called before its source (and
// the descriptor) closes and before its batch is freed, so the C side never
// polls a closed descriptor or returns a freed array; the handle value may
// be reused by the next instance.
func (i *instanceState) unpublishWait() {
	if i.handle != 0 {
		C.docker_wait_slots[i.handle] = C.docker_wait_slot{}
		i.handle = 0
	}
}

// handleValue is the value behind a handle, or nil when h is not a live
// handle: the SDK's Handle.Value panics on a free one (a closed instance, a
// destroyed state), and a caller's mistake is not an internal error.
func handleValue(h uintptr) (v any) {
	if h == 0 || h > cgo.MaxHandle {
		return nil
	}
	defer func() {
		if recover() != nil {
			v = nil
		}
	}()
	return cgo.Handle(h).Value()
}
