#include <poll.h>
#include "nextbatch.h"
#include "_cgo_export.h"

docker_wait_slot docker_wait_slots[DOCKER_WAIT_SLOTS];

// plugin_next_batch is C so that an idle call never enters the plugin's Go
// runtime. Falco calls it in a loop on its event thread; on an idle live
// stream nearly every call only waits waitMs and times out. Done in Go,
// each such call is a cgo callback that the runtime's system monitor sees
// as a P stuck on one scheduling tick: it retakes the P during the wait,
// finds every P idle, sleeps deeply and is woken again when the call
// returns, about ten syscalls and 1-2% of a core at waitMs 5. Here the wait
// is one poll(2) on the source's readiness descriptor: if nothing is queued
// by the deadline the call returns SS_PLUGIN_TIMEOUT without Go; otherwise,
// and for every call the slot does not describe (replay, first call, another
// plugin state), docker_next_batch does the work, in Go.
ss_plugin_rc plugin_next_batch(ss_plugin_t* s, ss_instance_t* h, uint32_t* nevts, ss_plugin_event*** evts) {
	uintptr_t hi = (uintptr_t)h;
	if (hi > 0 && hi < DOCKER_WAIT_SLOTS && nevts != NULL && evts != NULL) {
		docker_wait_slot* w = &docker_wait_slots[hi];
		if (w->fd_plus_one > 0 && w->state == (uintptr_t)s && w->wait_ms > 0) {
			struct pollfd p = {.fd = w->fd_plus_one - 1, .events = POLLIN, .revents = 0};
			if (poll(&p, 1, w->wait_ms) == 0) {
				*nevts = 0;
				*evts = w->evts;
				return SS_PLUGIN_TIMEOUT;
			}
		}
	}
	return docker_next_batch((uintptr_t)s, hi, nevts, evts);
}
