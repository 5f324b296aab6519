#ifndef DOCKER_NEXTBATCH_H
#define DOCKER_NEXTBATCH_H

#include <stdint.h>
#include "plugin_abi.h"

// One slot per instance handle value (the SDK's cgo.Handle: 1..255).
#define DOCKER_WAIT_SLOTS 256

// What plugin_next_batch needs to answer an idle call without entering Go:
// the plugin state the instance is bound to, the descriptor that polls
// readable while its source has events queued, the wait, and the batch
// array to hand back with zero events. fd_plus_one is 0 when the instance
// has no such descriptor (replay, or not yet published). Written by Go
// (nextbatch.go) from inside plugin_next_batch and plugin_close, read by C
// in plugin_next_batch: calls Falco never makes concurrently for one
// instance.
typedef struct {
	uintptr_t state;
	int fd_plus_one;
	int wait_ms;
	ss_plugin_event** evts;
} docker_wait_slot;

extern docker_wait_slot docker_wait_slots[DOCKER_WAIT_SLOTS];

#endif
