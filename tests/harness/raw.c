#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "raw.h"

static int h_probe[2] = {-1, -1};
static pthread_mutex_t h_probe_mu = PTHREAD_MUTEX_INITIALIZER;

size_t h_safe_read(uintptr_t src, void* dst, size_t n) {
	size_t done = 0;
	pthread_mutex_lock(&h_probe_mu);
	if (h_probe[0] < 0 && pipe2(h_probe, O_CLOEXEC) != 0) {
		pthread_mutex_unlock(&h_probe_mu);
		return 0;
	}
	while (done < n) {
		size_t chunk = n - done;
		if (chunk > 4096) chunk = 4096;
		// A write from a partly readable range stops at the first fault
		// and returns what it copied; from an unreadable one, EFAULT.
		ssize_t w = write(h_probe[1], (const char*)(src + done), chunk);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		size_t got = 0;
		while (got < (size_t)w) {
			ssize_t r = read(h_probe[0], (char*)dst + done + got, (size_t)w - got);
			if (r < 0 && errno == EINTR) continue;
			if (r <= 0) goto out; // cannot happen with a pipe we just wrote
			got += (size_t)r;
		}
		done += (size_t)w;
		if ((size_t)w < chunk) break;
	}
out:
	pthread_mutex_unlock(&h_probe_mu);
	return done;
}

// The owner and logger passed at init, as Falco passes them.
static char h_raw_owner[16];
static const char* h_raw_owner_last_error(ss_plugin_owner_t* o) { (void)o; return NULL; }
static _Atomic uint64_t h_raw_logs;
static void h_raw_log(ss_plugin_owner_t* o, const char* component, const char* msg, ss_plugin_log_severity sev) {
	(void)o; (void)component; (void)msg; (void)sev;
	atomic_fetch_add(&h_raw_logs, 1);
}
uint64_t h_raw_log_count(void) { return atomic_load(&h_raw_logs); }

uintptr_t h_init_raw(const char* config, int32_t* rc) {
	ss_plugin_init_input in;
	memset(&in, 0, sizeof in);
	in.config = config;
	in.owner = h_raw_owner;
	in.get_owner_last_error = h_raw_owner_last_error;
	in.log_fn = h_raw_log;
	ss_plugin_rc r = (ss_plugin_rc)H_RC_UNSET;
	ss_plugin_t* s = h_api.init(&in, &r);
	*rc = (int32_t)r;
	return (uintptr_t)s;
}

uintptr_t h_open_raw(uintptr_t s, const char* params, int32_t* rc) {
	ss_plugin_rc r = (ss_plugin_rc)H_RC_UNSET;
	ss_instance_t* i = h_api.open((ss_plugin_t*)s, params, &r);
	*rc = (int32_t)r;
	return (uintptr_t)i;
}

int32_t h_next_batch_raw(uintptr_t s, uintptr_t i, uint32_t* nevts, uintptr_t* evts) {
	uint32_t n = H_NEVTS_UNSET;
	ss_plugin_event** e = (ss_plugin_event**)H_PTR_UNSET;
	int32_t rc = (int32_t)h_api.next_batch((ss_plugin_t*)s, (ss_instance_t*)i, &n, &e);
	*nevts = n;
	*evts = (uintptr_t)e;
	return rc;
}

uintptr_t h_get_last_error_raw(uintptr_t s) { return (uintptr_t)h_api.get_last_error((ss_plugin_t*)s); }

uintptr_t h_get_progress_raw(uintptr_t s, uintptr_t i, uint32_t* pct) {
	uint32_t p = H_PCT_UNSET;
	const char* str = h_api.get_progress((ss_plugin_t*)s, (ss_instance_t*)i, &p);
	*pct = p;
	return (uintptr_t)str;
}

uintptr_t h_list_open_params_raw(uintptr_t s, int32_t* rc) {
	ss_plugin_rc r = (ss_plugin_rc)H_RC_UNSET;
	const char* out = h_api.list_open_params((ss_plugin_t*)s, &r);
	*rc = (int32_t)r;
	return (uintptr_t)out;
}

uintptr_t h_get_metrics_raw(uintptr_t s, uint32_t* n) {
	uint32_t k = 0; // sinsp_plugin::get_metrics starts from 0 too
	ss_plugin_metric* m = h_api.get_metrics((ss_plugin_t*)s, &k);
	*n = k;
	return (uintptr_t)m;
}

uintptr_t h_event_to_string_raw(uintptr_t s, uintptr_t evt, uint64_t num, const char* src) {
	ss_plugin_event_input in;
	in.evt = (const ss_plugin_event*)evt;
	in.evtnum = num;
	in.evtsrc = src;
	return (uintptr_t)h_api.event_to_string((ss_plugin_t*)s, &in);
}

int32_t h_extract_raw(uintptr_t s, uintptr_t evt, uint64_t num, const char* src, uint32_t n,
                      ss_plugin_extract_field* fields, int with_offsets, uintptr_t* starts, uintptr_t* lengths) {
	ss_plugin_event_input ev;
	ev.evt = (const ss_plugin_event*)evt;
	ev.evtnum = num;
	ev.evtsrc = src;
	ss_plugin_field_extract_input in;
	memset(&in, 0, sizeof in);
	in.owner = h_raw_owner;
	in.get_owner_last_error = h_raw_owner_last_error;
	in.num_fields = n;
	in.fields = fields;
	// sinsp_filter_check_plugin::extract_nocache: both arrays start NULL.
	ss_plugin_extract_value_offsets offs = {NULL, NULL};
	in.value_offsets = with_offsets ? &offs : NULL;
	int32_t rc = (int32_t)h_api.extract_fields((ss_plugin_t*)s, &ev, &in);
	*starts = (uintptr_t)offs.start;
	*lengths = (uintptr_t)offs.length;
	return rc;
}

void h_fixup_event(uintptr_t evt, uint32_t plugin_id, int is_plugin_event, int set_id) {
	ss_plugin_event* e = (ss_plugin_event*)evt;
	if (is_plugin_event) {
		if (set_id) memcpy((char*)e + sizeof(ss_plugin_event) + 8, &plugin_id, sizeof plugin_id);
		uint64_t tid = (uint64_t)-1;
		memcpy(&e->tid, &tid, sizeof tid);
	}
	uint64_t ts;
	memcpy(&ts, &e->ts, sizeof ts);
	if (ts == UINT64_MAX) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		memcpy(&e->ts, &ts, sizeof ts);
	}
}

void h_free(uintptr_t p) { free((void*)p); }
