// harness.h: the C side of the test harness. It dlopens a plugin .so and
// calls its plugin API functions exactly as Falco does (full, current input
// structs; optional symbols looked up with dlsym and used when present).
//
// State handles cross into Go as uintptr_t, never as pointers: Go plugins
// return small integers (cgo handles), and a Go runtime that finds 0x1 in a
// pointer-typed stack slot aborts with "invalid pointer found on stack".
#ifndef DOCKER_HARNESS_H
#define DOCKER_HARNESS_H

#include <stdint.h>
#include "../../abi/plugin_abi.h"

typedef struct harness_api {
	void* lib;
	plugin_get_required_api_version_fn get_required_api_version;
	plugin_get_str_fn get_name, get_description, get_contact, get_version;
	plugin_get_str_fn get_event_source, get_extract_event_sources, get_fields;
	plugin_get_id_fn get_id;
	plugin_get_init_schema_fn get_init_schema;
	plugin_init_fn init;
	plugin_destroy_fn destroy;
	plugin_get_last_error_fn get_last_error;
	plugin_open_fn open;
	plugin_close_fn close;
	plugin_next_batch_fn next_batch;
	plugin_get_progress_fn get_progress;
	plugin_list_open_params_fn list_open_params;
	plugin_event_to_string_fn event_to_string;
	plugin_extract_fields_fn extract_fields;
	plugin_get_metrics_fn get_metrics;
	void (*set_fault)(const char*); // test builds only (docker_test_set_fault)
} harness_api;

extern harness_api h_api;

// h_load dlopens path into h_api; returns NULL or an error message.
const char* h_load(const char* path);
// h_has reports whether the named optional symbol was found.
int h_has(const char* name);

// Info getters; NULL when the symbol is absent.
enum { H_REQ_API, H_NAME, H_DESC, H_CONTACT, H_VERSION, H_EVT_SOURCE, H_EXTRACT_SOURCES, H_FIELDS };
const char* h_info(int which);
uint32_t h_id(void);
const char* h_init_schema(int32_t* type);

uintptr_t h_init(const char* config, int32_t* rc);
void h_destroy(uintptr_t s);
const char* h_get_last_error(uintptr_t s);
uintptr_t h_open(uintptr_t s, const char* params, int32_t* rc);
void h_close(uintptr_t s, uintptr_t i);
int32_t h_next_batch(uintptr_t s, uintptr_t i, uint32_t* nevts, ss_plugin_event*** evts);
const char* h_get_progress(uintptr_t s, uintptr_t i, uint32_t* pct);
const char* h_list_open_params(uintptr_t s, int32_t* rc);
const char* h_event_to_string(uintptr_t s, const ss_plugin_event_input* evt);
int32_t h_extract(uintptr_t s, const ss_plugin_event_input* evt, uint32_t n,
                  ss_plugin_extract_field* fields, ss_plugin_extract_value_offsets* offsets);
ss_plugin_metric* h_get_metrics(uintptr_t s, uint32_t* n);
void h_set_fault(const char* point);

// h_copy_event copies a batch event into dst as Falco's plugin source does:
// the same bytes, with the plugin id parameter filled in. Returns the size
// or 0 if dst is too small.
uint32_t h_copy_event(const ss_plugin_event* src, uint32_t plugin_id, void* dst, uint32_t cap);

// Loops in C, for benchmarks that measure the plugin, not the cgo call.
int32_t h_bench_next_batch(uintptr_t s, uintptr_t i, uint64_t calls, uint64_t* events);
int32_t h_bench_extract(uintptr_t s, const ss_plugin_event_input* evts, uint32_t nevts,
                        ss_plugin_extract_field* fields, uint32_t nfields, uint64_t rounds, int one_per_call);
uint64_t h_bench_empty(uint64_t calls);
// h_bench_falco replays through next_batch until EOF (or max_events) and
// makes, for each event delivered, the extraction calls of Falco's rule
// evaluation: one plugin_extract_fields call per entry of fields, one field
// per call, on a copy of the event as Falco holds it (one reused buffer,
// plugin id filled in, event numbers counting up from *evtnum). pause_us > 0
// sleeps that long after each event (a live host's pace).
int32_t h_bench_falco(uintptr_t s, uintptr_t i, uint32_t plugin_id, ss_plugin_extract_field* fields, uint32_t nfields,
                      uint64_t max_events, uint32_t pause_us, uint64_t* evtnum, uint64_t* events, uint64_t* calls);

// Logs received through the init input's log_fn.
uint64_t h_log_count(void);

#endif
