#ifndef DOCKER_EXTRACT_H
#define DOCKER_EXTRACT_H

#include <stdint.h>
#include "plugin_abi.h"

// One slot per plugin state handle value (the SDK's cgo.Handle: 1..255).
#define DOCKER_XCACHE_SLOTS 256
// Field ids a cache can hold (fields.Table; abi checks the table fits).
#define DOCKER_XMAX_FIELDS 128
// Distinct (field, key argument) pairs a cache can hold, e.g.
// docker.attributes[execType]; more are extracted, uncached.
#define DOCKER_XMAX_ARGS 16

// A cached result: what plugin_extract_fields writes into res and res_len.
// Valid while gen equals the cache's gen. used is the last generation the
// value was asked for (Go computes recently used values eagerly).
typedef struct {
	uint64_t gen;
	uint64_t used;
	void* res;
	uint64_t res_len;
} docker_xval;

typedef struct {
	char* key; // NUL-terminated copy in C memory; NULL: free
	uint32_t field_id;
	docker_xval val;
} docker_xarg;

// The per-event value table of one plugin state: the values of the event
// last parsed (evt, evtnum, evtsrc, evtlen identify it; evt is NULL when
// none), for each field id and for each (field, key) pair asked so far.
// Go (extract.go) fills it and owns the memory the values point to; C
// (extract.c) answers from it. Both run on the plugin state's thread only:
// Falco never calls plugin_extract_fields concurrently for one state.
typedef struct {
	uint64_t gen;
	const ss_plugin_event* evt;
	uint64_t evtnum;
	const char* evtsrc;
	uint32_t evtlen;
	uint32_t nfields;
	uint32_t ftype[DOCKER_XMAX_FIELDS];
	uint8_t has_arg[DOCKER_XMAX_FIELDS];
	docker_xval vals[DOCKER_XMAX_FIELDS];
	uint32_t nargs;
	docker_xarg args[DOCKER_XMAX_ARGS];
	// Zeroed value_offsets arrays (API 3.11.0: "no offsets").
	uint32_t off_cap;
	uint32_t* off_start;
	uint32_t* off_len;
} docker_xcache;

extern docker_xcache* docker_xcaches[DOCKER_XCACHE_SLOTS];

#endif
