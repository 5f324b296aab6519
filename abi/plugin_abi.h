// SPDX-License-Identifier: Apache-2.0
//
// plugin_abi.h: this project's own declarations of the subset of Falco's
// plugin API (plugin_api.h / plugin_types.h, API 3.11.0) that libdocker.so
// and its test harness use.
//
// Why our own header: the plugin side (abi/) hand-exports the symbols the SDK
// has no package for (plugin_get_metrics) and reads event/extract structs
// directly on its hot paths; the harness (tests/) drives the ABI exactly as
// Falco does. Both must agree on one layout, checked here at compile time
// against the offsets of the upstream definitions, so a drift is a build
// error instead of a corrupted read.
//
// Layout facts (x86-64 / aarch64, LP64):
//   - ss_plugin_event is packed (26 bytes). A plugin event (type 322) is the
//     header, two uint32 parameter lengths (4, payload length), the uint32
//     plugin id (filled by the framework), then the payload: the payload
//     starts at byte 38.
//   - ss_plugin_field_extract_input carries an inline 4-pointer table reader
//     vtable; value_offsets (API 3.11.0) sits at byte 72.
#ifndef DOCKER_PLUGIN_ABI_H
#define DOCKER_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef enum ss_plugin_rc {
	SS_PLUGIN_SUCCESS = 0,
	SS_PLUGIN_FAILURE = 1,
	SS_PLUGIN_TIMEOUT = -1,
	SS_PLUGIN_EOF = 2,
	SS_PLUGIN_NOT_SUPPORTED = 3,
} ss_plugin_rc;

typedef enum ss_plugin_schema_type {
	SS_PLUGIN_SCHEMA_NONE = 0,
	SS_PLUGIN_SCHEMA_JSON = 1,
} ss_plugin_schema_type;

typedef enum ss_plugin_field_type {
	FTYPE_UINT64 = 8,
	FTYPE_STRING = 9,
	FTYPE_RELTIME = 20,
	FTYPE_ABSTIME = 21,
	FTYPE_BOOL = 25,
	FTYPE_IPADDR = 40,
	FTYPE_IPNET = 41,
} ss_plugin_field_type;

typedef uint32_t ss_plugin_bool;
typedef void ss_plugin_t;
typedef void ss_instance_t;
typedef void ss_plugin_owner_t;

// The event type code of plugin events (PPME_PLUGINEVENT_E).
#define DOCKER_PLUGIN_EVENT_CODE 322
// Byte offset of the payload inside a plugin event (see above).
#define DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET 38

#pragma pack(push, 1)
typedef struct ss_plugin_event {
	uint64_t ts;      // nanoseconds since the epoch
	uint64_t tid;     // (uint64_t)-1 for plugin events
	uint32_t len;     // whole event length, header included
	uint16_t type;    // 322 for plugin events
	uint32_t nparams; // 2 for plugin events
} ss_plugin_event;
#pragma pack(pop)

typedef struct ss_plugin_event_input {
	const ss_plugin_event* evt;
	uint64_t evtnum;
	const char* evtsrc;
} ss_plugin_event_input;

typedef struct ss_plugin_byte_buffer {
	uint32_t len;
	const void* ptr;
} ss_plugin_byte_buffer;

typedef struct ss_plugin_extract_value_offsets {
	uint32_t* start;
	uint32_t* length;
} ss_plugin_extract_value_offsets;

typedef struct ss_plugin_extract_field {
	union {
		const char** str;
		uint64_t* u64;
		uint32_t* u32;
		ss_plugin_bool* boolean;
		ss_plugin_byte_buffer* buf;
	} res;
	uint64_t res_len;
	uint32_t field_id;
	const char* field;
	const char* arg_key;
	uint64_t arg_index;
	ss_plugin_bool arg_present;
	uint32_t ftype;
	ss_plugin_bool flist;
} ss_plugin_extract_field;

typedef enum ss_plugin_log_severity {
	SS_PLUGIN_LOG_SEV_FATAL = 1,
	SS_PLUGIN_LOG_SEV_CRITICAL = 2,
	SS_PLUGIN_LOG_SEV_ERROR = 3,
	SS_PLUGIN_LOG_SEV_WARNING = 4,
	SS_PLUGIN_LOG_SEV_NOTICE = 5,
	SS_PLUGIN_LOG_SEV_INFO = 6,
	SS_PLUGIN_LOG_SEV_DEBUG = 7,
	SS_PLUGIN_LOG_SEV_TRACE = 8,
} ss_plugin_log_severity;

typedef void (*ss_plugin_log_fn_t)(ss_plugin_owner_t* o, const char* component,
                                   const char* msg, ss_plugin_log_severity sev);

typedef struct ss_plugin_init_input {
	const char* config;
	ss_plugin_owner_t* owner;
	const char* (*get_owner_last_error)(ss_plugin_owner_t* o);
	const void* tables; // const ss_plugin_init_tables_input*, unused here
	ss_plugin_log_fn_t log_fn;
} ss_plugin_init_input;

typedef struct ss_plugin_field_extract_input {
	ss_plugin_owner_t* owner;
	const char* (*get_owner_last_error)(ss_plugin_owner_t* o);
	uint32_t num_fields;
	ss_plugin_extract_field* fields;
	void* table_reader[4]; // ss_plugin_table_reader_vtable, unused here
	void* table_reader_ext;
	ss_plugin_extract_value_offsets* value_offsets; // API 3.11.0
} ss_plugin_field_extract_input;

typedef enum ss_plugin_metric_type {
	SS_PLUGIN_METRIC_TYPE_MONOTONIC = 0,
	SS_PLUGIN_METRIC_TYPE_NON_MONOTONIC = 1,
} ss_plugin_metric_type;

typedef enum ss_plugin_metric_value_type {
	SS_PLUGIN_METRIC_VALUE_TYPE_U32 = 0,
	SS_PLUGIN_METRIC_VALUE_TYPE_S32 = 1,
	SS_PLUGIN_METRIC_VALUE_TYPE_U64 = 2,
	SS_PLUGIN_METRIC_VALUE_TYPE_S64 = 3,
	SS_PLUGIN_METRIC_VALUE_TYPE_D = 4,
	SS_PLUGIN_METRIC_VALUE_TYPE_F = 5,
	SS_PLUGIN_METRIC_VALUE_TYPE_I = 6,
} ss_plugin_metric_value_type;

typedef union ss_plugin_metric_value {
	uint32_t u32;
	int32_t s32;
	uint64_t u64;
	int64_t s64;
	double d;
	float f;
	int i;
} ss_plugin_metric_value;

typedef struct ss_plugin_metric {
	const char* name;
	ss_plugin_metric_type type;
	ss_plugin_metric_value value;
	ss_plugin_metric_value_type value_type;
} ss_plugin_metric;

// Layout checks against the upstream definitions (plugin API 3.11.0).
_Static_assert(sizeof(ss_plugin_event) == 26, "ss_plugin_event must be packed to 26 bytes");
_Static_assert(offsetof(ss_plugin_event_input, evtsrc) == 16, "ss_plugin_event_input layout");
_Static_assert(sizeof(ss_plugin_extract_field) == 64, "ss_plugin_extract_field layout");
_Static_assert(offsetof(ss_plugin_extract_field, arg_present) == 48, "ss_plugin_extract_field layout");
_Static_assert(offsetof(ss_plugin_init_input, log_fn) == 32, "ss_plugin_init_input layout");
_Static_assert(offsetof(ss_plugin_field_extract_input, value_offsets) == 72, "ss_plugin_field_extract_input layout");
_Static_assert(sizeof(ss_plugin_metric) == 32, "ss_plugin_metric layout");
_Static_assert(offsetof(ss_plugin_metric, value_type) == 24, "ss_plugin_metric layout");

// The plugin API functions as the framework sees them (the names Falco
// resolves with dlsym). The harness declares function-pointer types from
// these; the plugin's own hand-written exports must match them.
typedef const char* (*plugin_get_required_api_version_fn)(void);
typedef const char* (*plugin_get_str_fn)(void);
typedef uint32_t (*plugin_get_id_fn)(void);
typedef const char* (*plugin_get_init_schema_fn)(ss_plugin_schema_type* schema_type);
typedef ss_plugin_t* (*plugin_init_fn)(const ss_plugin_init_input* input, ss_plugin_rc* rc);
typedef void (*plugin_destroy_fn)(ss_plugin_t* s);
typedef const char* (*plugin_get_last_error_fn)(ss_plugin_t* s);
typedef ss_instance_t* (*plugin_open_fn)(ss_plugin_t* s, const char* params, ss_plugin_rc* rc);
typedef void (*plugin_close_fn)(ss_plugin_t* s, ss_instance_t* h);
typedef ss_plugin_rc (*plugin_next_batch_fn)(ss_plugin_t* s, ss_instance_t* h, uint32_t* nevts, ss_plugin_event*** evts);
typedef const char* (*plugin_get_progress_fn)(ss_plugin_t* s, ss_instance_t* h, uint32_t* progress_pct);
typedef const char* (*plugin_list_open_params_fn)(ss_plugin_t* s, ss_plugin_rc* rc);
typedef const char* (*plugin_event_to_string_fn)(ss_plugin_t* s, const ss_plugin_event_input* evt);
typedef ss_plugin_rc (*plugin_extract_fields_fn)(ss_plugin_t* s, const ss_plugin_event_input* evt, const ss_plugin_field_extract_input* in);
typedef ss_plugin_metric* (*plugin_get_metrics_fn)(ss_plugin_t* s, uint32_t* num_metrics);

#endif // DOCKER_PLUGIN_ABI_H
