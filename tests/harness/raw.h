// raw.h: low-level access to a loaded plugin for the conformance suite
// (tests/conformance). Unlike the rest of the harness, nothing here reads
// what the plugin returns: pointers come back as integers, to be probed with
// h_safe_read before Go touches them, and every output the plugin must set
// is pre-filled with a sentinel so that one it never sets is caught. All
// pointers cross as uintptr_t (see harness.h).
#ifndef DOCKER_HARNESS_RAW_H
#define DOCKER_HARNESS_RAW_H

#include <stddef.h>
#include <stdint.h>
#include "harness.h"

// Sentinels written into outputs before a call.
#define H_RC_UNSET 0x5ca1ab1e
#define H_NEVTS_UNSET 0xffffffffu
#define H_PCT_UNSET 0xffffffffu
#define H_RES_LEN_UNSET 0xdeadbeefdeadbeefull
#define H_PTR_UNSET ((uintptr_t)0x5ca1ab1e)

// h_safe_read copies up to n bytes from src into dst without ever faulting:
// the bytes go through a pipe, and the kernel answers EFAULT where a read
// would segfault. Returns how many leading bytes were readable.
size_t h_safe_read(uintptr_t src, void* dst, size_t n);

uintptr_t h_init_raw(const char* config, int32_t* rc);
uintptr_t h_open_raw(uintptr_t s, const char* params, int32_t* rc);
int32_t h_next_batch_raw(uintptr_t s, uintptr_t i, uint32_t* nevts, uintptr_t* evts);
uintptr_t h_get_last_error_raw(uintptr_t s);
uintptr_t h_get_progress_raw(uintptr_t s, uintptr_t i, uint32_t* pct);
uintptr_t h_list_open_params_raw(uintptr_t s, int32_t* rc);
uintptr_t h_get_metrics_raw(uintptr_t s, uint32_t* n);
uintptr_t h_event_to_string_raw(uintptr_t s, uintptr_t evt, uint64_t num, const char* src);
int32_t h_extract_raw(uintptr_t s, uintptr_t evt, uint64_t num, const char* src, uint32_t n,
                      ss_plugin_extract_field* fields, int with_offsets, uintptr_t* starts, uintptr_t* lengths);

// h_fixup_event does to a batch event what libscap's source plugin engine
// (source_plugin.c, next()) does in place before Falco sees it: a zero
// plugin id parameter becomes the plugin's id (set_id), tid becomes -1 for
// plugin events, a timestamp of UINT64_MAX becomes now. A plugin that hands
// out read-only memory crashes here, as it would crash Falco.
void h_fixup_event(uintptr_t evt, uint32_t plugin_id, int is_plugin_event, int set_id);

// h_free frees memory the harness allocated (an integer address).
void h_free(uintptr_t p);

// Messages received through log_fn by the inits of this file.
uint64_t h_raw_log_count(void);

#endif
