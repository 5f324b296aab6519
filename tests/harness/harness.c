#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>
#include <string.h>
#include <stdatomic.h>
#include "harness.h"

harness_api h_api;

static char h_err[1024];

// --- SIGURG chaining -------------------------------------------------------
// Each Go runtime in the process (the harness's and the plugin's) installs
// a SIGURG handler for asynchronous preemption; the plugin's, installed at
// dlopen, replaces the host's, and ignores SIGURG on threads it does not own.
// The host runtime would then never preempt its goroutines, and a GC
// waiting for a goroutine in a tight loop hangs the process. We chain: our
// handler calls every runtime's handler; each acts only on its own threads.
#define H_MAX_CHAIN 4
static struct sigaction h_chain[H_MAX_CHAIN];
static int h_nchain;

static void h_urg(int sig, siginfo_t* info, void* ctx) {
	for (int i = 0; i < h_nchain; i++) {
		if (h_chain[i].sa_flags & SA_SIGINFO) {
			h_chain[i].sa_sigaction(sig, info, ctx);
		} else if (h_chain[i].sa_handler != SIG_IGN && h_chain[i].sa_handler != SIG_DFL) {
			h_chain[i].sa_handler(sig);
		}
	}
}

static int h_is_handler(const struct sigaction* sa) {
	if (sa->sa_flags & SA_SIGINFO) return sa->sa_sigaction != NULL;
	return sa->sa_handler != SIG_IGN && sa->sa_handler != SIG_DFL;
}

static void* h_sym(const char* name) { return dlsym(h_api.lib, name); }

const char* h_load(const char* path) {
	if (h_api.lib != NULL) {
		snprintf(h_err, sizeof h_err, "a plugin is already loaded in this process");
		return h_err;
	}
	struct sigaction before, after;
	sigaction(SIGURG, NULL, &before);
	void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(h_err, sizeof h_err, "dlopen %s: %s", path, dlerror());
		return h_err;
	}
	sigaction(SIGURG, NULL, &after);
	if (h_is_handler(&before) && h_is_handler(&after) &&
	    (after.sa_flags & SA_SIGINFO) && after.sa_sigaction != before.sa_sigaction) {
		h_chain[h_nchain++] = before;
		h_chain[h_nchain++] = after;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = h_urg;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigfillset(&sa.sa_mask);
		sigaction(SIGURG, &sa, NULL);
	}
	h_api.lib = lib;
	h_api.get_required_api_version = (plugin_get_required_api_version_fn)h_sym("plugin_get_required_api_version");
	h_api.get_name = (plugin_get_str_fn)h_sym("plugin_get_name");
	h_api.get_description = (plugin_get_str_fn)h_sym("plugin_get_description");
	h_api.get_contact = (plugin_get_str_fn)h_sym("plugin_get_contact");
	h_api.get_version = (plugin_get_str_fn)h_sym("plugin_get_version");
	h_api.get_event_source = (plugin_get_str_fn)h_sym("plugin_get_event_source");
	h_api.get_extract_event_sources = (plugin_get_str_fn)h_sym("plugin_get_extract_event_sources");
	h_api.get_fields = (plugin_get_str_fn)h_sym("plugin_get_fields");
	h_api.get_id = (plugin_get_id_fn)h_sym("plugin_get_id");
	h_api.get_init_schema = (plugin_get_init_schema_fn)h_sym("plugin_get_init_schema");
	h_api.init = (plugin_init_fn)h_sym("plugin_init");
	h_api.destroy = (plugin_destroy_fn)h_sym("plugin_destroy");
	h_api.get_last_error = (plugin_get_last_error_fn)h_sym("plugin_get_last_error");
	h_api.open = (plugin_open_fn)h_sym("plugin_open");
	h_api.close = (plugin_close_fn)h_sym("plugin_close");
	h_api.next_batch = (plugin_next_batch_fn)h_sym("plugin_next_batch");
	h_api.get_progress = (plugin_get_progress_fn)h_sym("plugin_get_progress");
	h_api.list_open_params = (plugin_list_open_params_fn)h_sym("plugin_list_open_params");
	h_api.event_to_string = (plugin_event_to_string_fn)h_sym("plugin_event_to_string");
	h_api.extract_fields = (plugin_extract_fields_fn)h_sym("plugin_extract_fields");
	h_api.get_metrics = (plugin_get_metrics_fn)h_sym("plugin_get_metrics");
	h_api.set_fault = (void (*)(const char*))h_sym("docker_test_set_fault");
	return NULL;
}

int h_has(const char* name) { return h_api.lib != NULL && dlsym(h_api.lib, name) != NULL; }

const char* h_info(int which) {
	plugin_get_str_fn f = NULL;
	switch (which) {
	case H_REQ_API: f = h_api.get_required_api_version; break;
	case H_NAME: f = h_api.get_name; break;
	case H_DESC: f = h_api.get_description; break;
	case H_CONTACT: f = h_api.get_contact; break;
	case H_VERSION: f = h_api.get_version; break;
	case H_EVT_SOURCE: f = h_api.get_event_source; break;
	case H_EXTRACT_SOURCES: f = h_api.get_extract_event_sources; break;
	case H_FIELDS: f = h_api.get_fields; break;
	}
	return f == NULL ? NULL : f();
}

uint32_t h_id(void) { return h_api.get_id == NULL ? 0 : h_api.get_id(); }

const char* h_init_schema(int32_t* type) {
	*type = SS_PLUGIN_SCHEMA_NONE;
	if (h_api.get_init_schema == NULL) return NULL;
	ss_plugin_schema_type t = SS_PLUGIN_SCHEMA_NONE;
	const char* s = h_api.get_init_schema(&t);
	*type = (int32_t)t;
	return s;
}

// The framework passes an owner and a logger; the SDK-based plugin ignores
// them, but we pass them as Falco does.
static char h_owner[16];
static const char* h_owner_last_error(ss_plugin_owner_t* o) { (void)o; return "harness owner: no error"; }
static _Atomic uint64_t h_logs;
static void h_log(ss_plugin_owner_t* o, const char* component, const char* msg, ss_plugin_log_severity sev) {
	(void)o; (void)component; (void)msg; (void)sev;
	atomic_fetch_add(&h_logs, 1);
}
uint64_t h_log_count(void) { return atomic_load(&h_logs); }

uintptr_t h_init(const char* config, int32_t* rc) {
	ss_plugin_init_input in;
	memset(&in, 0, sizeof in);
	in.config = config;
	in.owner = h_owner;
	in.get_owner_last_error = h_owner_last_error;
	in.tables = NULL;
	in.log_fn = h_log;
	ss_plugin_rc r = SS_PLUGIN_FAILURE;
	ss_plugin_t* s = h_api.init(&in, &r);
	*rc = (int32_t)r;
	return (uintptr_t)s;
}

void h_destroy(uintptr_t s) { h_api.destroy((ss_plugin_t*)s); }
const char* h_get_last_error(uintptr_t s) { return h_api.get_last_error((ss_plugin_t*)s); }

uintptr_t h_open(uintptr_t s, const char* params, int32_t* rc) {
	ss_plugin_rc r = SS_PLUGIN_FAILURE;
	ss_instance_t* i = h_api.open((ss_plugin_t*)s, params, &r);
	*rc = (int32_t)r;
	return (uintptr_t)i;
}

void h_close(uintptr_t s, uintptr_t i) { h_api.close((ss_plugin_t*)s, (ss_instance_t*)i); }

int32_t h_next_batch(uintptr_t s, uintptr_t i, uint32_t* nevts, ss_plugin_event*** evts) {
	return (int32_t)h_api.next_batch((ss_plugin_t*)s, (ss_instance_t*)i, nevts, evts);
}

const char* h_get_progress(uintptr_t s, uintptr_t i, uint32_t* pct) {
	return h_api.get_progress((ss_plugin_t*)s, (ss_instance_t*)i, pct);
}

const char* h_list_open_params(uintptr_t s, int32_t* rc) {
	ss_plugin_rc r = SS_PLUGIN_FAILURE;
	const char* out = h_api.list_open_params((ss_plugin_t*)s, &r);
	*rc = (int32_t)r;
	return out;
}

const char* h_event_to_string(uintptr_t s, const ss_plugin_event_input* evt) {
	return h_api.event_to_string((ss_plugin_t*)s, evt);
}

int32_t h_extract(uintptr_t s, const ss_plugin_event_input* evt, uint32_t n,
                  ss_plugin_extract_field* fields, ss_plugin_extract_value_offsets* offsets) {
	ss_plugin_field_extract_input in;
	memset(&in, 0, sizeof in);
	in.owner = h_owner;
	in.get_owner_last_error = h_owner_last_error;
	in.num_fields = n;
	in.fields = fields;
	in.value_offsets = offsets;
	return (int32_t)h_api.extract_fields((ss_plugin_t*)s, evt, &in);
}

ss_plugin_metric* h_get_metrics(uintptr_t s, uint32_t* n) {
	*n = 0;
	return h_api.get_metrics((ss_plugin_t*)s, n);
}

void h_set_fault(const char* point) {
	if (h_api.set_fault != NULL) h_api.set_fault(point);
}

uint32_t h_copy_event(const ss_plugin_event* src, uint32_t plugin_id, void* dst, uint32_t cap) {
	if (src->len > cap || src->len < DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET) return 0;
	memcpy(dst, src, src->len);
	memcpy((char*)dst + sizeof(ss_plugin_event) + 8, &plugin_id, 4);
	return src->len;
}

int32_t h_bench_next_batch(uintptr_t s, uintptr_t i, uint64_t calls, uint64_t* events) {
	uint32_t n = 0;
	ss_plugin_event** evts = NULL;
	int32_t rc = SS_PLUGIN_SUCCESS;
	*events = 0;
	for (uint64_t c = 0; c < calls; c++) {
		rc = (int32_t)h_api.next_batch((ss_plugin_t*)s, (ss_instance_t*)i, &n, &evts);
		*events += n;
		if (rc != SS_PLUGIN_SUCCESS && rc != SS_PLUGIN_TIMEOUT) break;
	}
	return rc;
}

int32_t h_bench_extract(uintptr_t s, const ss_plugin_event_input* evts, uint32_t nevts,
                        ss_plugin_extract_field* fields, uint32_t nfields, uint64_t rounds, int one_per_call) {
	ss_plugin_field_extract_input in;
	memset(&in, 0, sizeof in);
	in.owner = h_owner;
	in.get_owner_last_error = h_owner_last_error;
	for (uint64_t r = 0; r < rounds; r++) {
		for (uint32_t e = 0; e < nevts; e++) {
			if (one_per_call) {
				for (uint32_t f = 0; f < nfields; f++) {
					in.num_fields = 1;
					in.fields = &fields[f];
					int32_t rc = (int32_t)h_api.extract_fields((ss_plugin_t*)s, &evts[e], &in);
					if (rc != SS_PLUGIN_SUCCESS) return rc;
				}
			} else {
				in.num_fields = nfields;
				in.fields = fields;
				int32_t rc = (int32_t)h_api.extract_fields((ss_plugin_t*)s, &evts[e], &in);
				if (rc != SS_PLUGIN_SUCCESS) return rc;
			}
		}
	}
	return SS_PLUGIN_SUCCESS;
}

// The floor of an ABI call: an exported function of the plugin that does
// nothing but return a constant (plugin_get_id goes through cgo's C->Go
// transition like every entry point).
uint64_t h_bench_empty(uint64_t calls) {
	uint64_t sum = 0;
	for (uint64_t c = 0; c < calls; c++) sum += h_api.get_id();
	return sum;
}

int32_t h_bench_falco(uintptr_t s, uintptr_t i, uint32_t plugin_id, ss_plugin_extract_field* fields, uint32_t nfields,
                      uint64_t max_events, uint32_t pause_us, uint64_t* evtnum, uint64_t* events, uint64_t* calls) {
	ss_plugin_field_extract_input in;
	memset(&in, 0, sizeof in);
	in.owner = h_owner;
	in.get_owner_last_error = h_owner_last_error;
	in.num_fields = 1;
	ss_plugin_event_input ein;
	memset(&ein, 0, sizeof ein);
	ein.evtsrc = "docker";
	uint32_t cap = 1 << 16;
	void* buf = malloc(cap);
	*events = 0;
	*calls = 0;
	int32_t rc = SS_PLUGIN_SUCCESS;
	while (*events < max_events) {
		uint32_t n = 0;
		ss_plugin_event** evts = NULL;
		rc = (int32_t)h_api.next_batch((ss_plugin_t*)s, (ss_instance_t*)i, &n, &evts);
		if (rc != SS_PLUGIN_SUCCESS && rc != SS_PLUGIN_TIMEOUT && rc != SS_PLUGIN_EOF) break;
		for (uint32_t k = 0; k < n; k++) {
			if (evts[k]->len > cap) {
				cap = evts[k]->len;
				free(buf);
				buf = malloc(cap);
			}
			h_copy_event(evts[k], plugin_id, buf, cap);
			ein.evt = (ss_plugin_event*)buf;
			ein.evtnum = (*evtnum)++;
			for (uint32_t f = 0; f < nfields; f++) {
				in.fields = &fields[f];
				int32_t xrc = (int32_t)h_api.extract_fields((ss_plugin_t*)s, &ein, &in);
				if (xrc != SS_PLUGIN_SUCCESS) {
					free(buf);
					return xrc;
				}
			}
			*calls += nfields;
			if (pause_us > 0) {
				struct timespec ts = {.tv_sec = pause_us / 1000000, .tv_nsec = (long)(pause_us % 1000000) * 1000};
				while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
				}
			}
		}
		*events += n;
		if (rc == SS_PLUGIN_EOF) break;
	}
	free(buf);
	return rc;
}
