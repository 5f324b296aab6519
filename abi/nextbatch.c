#include <errno.h>
#include <poll.h>
#include <time.h>
#include "nextbatch.h"
#include "_cgo_export.h"

docker_wait_slot docker_wait_slots[DOCKER_WAIT_SLOTS];

static int docker_wait_ready(int fd, int wait_ms);

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
			if (docker_wait_ready(w->fd_plus_one - 1, w->wait_ms) == 0) {
				*nevts = 0;
				*evts = w->evts;
				return SS_PLUGIN_TIMEOUT;
			}
		}
	}
	return docker_next_batch((uintptr_t)s, hi, nevts, evts);
}

// docker_wait_ready polls fd for POLLIN for wait_ms: 0 when nothing came in
// that time, else what poll returned (> 0 ready, < 0 an error for Go to
// meet). A signal interrupting the wait (EINTR: each Go runtime in the
// process preempts with SIGURG, and poll is never restarted) is not an
// answer: the wait goes on for the time left on the monotonic clock, so an
// idle call never enters Go and never returns before wait_ms.
static int docker_wait_ready(int fd, int wait_ms) {
	struct timespec start, now;
	if (clock_gettime(CLOCK_MONOTONIC, &start) != 0) return -1;
	int64_t deadline_ns = (int64_t)start.tv_sec * 1000000000 + start.tv_nsec + (int64_t)wait_ms * 1000000;
	int left_ms = wait_ms;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
		int r = poll(&p, 1, left_ms);
		if (r >= 0 || errno != EINTR) return r;
		if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return -1;
		int64_t left_ns = deadline_ns - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
		if (left_ns <= 0) return 0;
		left_ms = (int)((left_ns + 999999) / 1000000); // rounded up: never short of the deadline
	}
}
