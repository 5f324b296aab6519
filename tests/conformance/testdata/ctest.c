// ctest.c: the conformance suite's own test plugin, in C against the
// project's plugin_abi.h. Built as is, it is a correct source + extraction
// plugin that passes every check. Built with -DV_<NAME>, it breaks exactly
// one rule, and the suite must report exactly that check as FAIL (see
// variants_test.go). Some variants (V_CAPITAL_FIELDS, V_NO_SCHEMA, ...) break
// only best practices, and must give WARN or INFO, never FAIL.
//
// Events: payload "evt <n>" (n from 0), 8 per batch, a TIMEOUT every third
// call, EOF after "events" (init config, default 50) events, sticky.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "plugin_abi.h"

#define CTEST_ID 998
#define BATCH 8
#define MAXEVT 256

typedef struct {
	char lasterr[256];
	int events;
	char evtstr[128];
	// extraction outputs, valid until the next extract call
	uint64_t u64[16];
	uint32_t b32[16];
	const char* strs[16];
	char name[16][64];
	ss_plugin_byte_buffer bufs[16];
	uint8_t addr[4];
	uint32_t* off_start;
	uint32_t* off_len;
	uint32_t off_cap;
	ss_plugin_metric metrics[2];
	_Atomic uint64_t produced;
} state;

typedef struct {
	int next, total, calls, eof;
	char* mem; // BATCH events of MAXEVT bytes
	ss_plugin_event* ptrs[BATCH];
	char pct[32];
} instance;

static _Atomic int in_next_batch;

#define EXPORT __attribute__((visibility("default")))

EXPORT const char* plugin_get_required_api_version(void) {
#if defined(V_API_GARBAGE)
	return "three";
#elif defined(V_API_NEWER)
	return "3.99.0";
#else
	return "3.11.0";
#endif
}

EXPORT const char* plugin_get_version(void) {
#ifdef V_VERSION_BAD
	return "v1";
#else
	return "0.1.0";
#endif
}

EXPORT const char* plugin_get_name(void) { return "ctest"; }
EXPORT const char* plugin_get_description(void) { return "the conformance suite's C test plugin"; }

#ifndef V_MISSING_CONTACT
EXPORT const char* plugin_get_contact(void) { return "github.com/falco-docker/docker-plugin"; }
#endif

EXPORT uint32_t plugin_get_id(void) { return CTEST_ID; }

EXPORT const char* plugin_get_event_source(void) {
#if defined(V_NULL_SOURCE)
	return NULL;
#elif defined(V_SYSCALL_SOURCE)
	return "syscall";
#else
	return "ctest";
#endif
}

EXPORT const char* plugin_get_extract_event_sources(void) {
#ifdef V_EXTRACT_SOURCES_BAD
	return "{\"ctest\": 1}";
#else
	return "[\"ctest\"]";
#endif
}

#if defined(V_CAPITAL_FIELDS)
#define F_NAME "ctest.Name"
#define F_TAGS "ctest.initContainers.tags"
#else
#define F_NAME "ctest.name"
#define F_TAGS "ctest.tags"
#endif
#if defined(V_FIELD_BAD_TYPE)
#define F_N_TYPE "int"
#else
#define F_N_TYPE "uint64"
#endif
#if defined(V_FIELD_ARG_KIND)
#define F_ATTR_ARG "{\"isRequired\": true}"
#else
#define F_ATTR_ARG "{\"isRequired\": true, \"isKey\": true}"
#endif

enum { F_N, F_NAMEF, F_EVEN, F_TS, F_AGE, F_TAGSF, F_TAG, F_ATTR, F_ADDR, F_EXTRA, NFIELDS };

EXPORT const char* plugin_get_fields(void) {
#ifdef V_CRASH_GET_FIELDS
	*(volatile int*)0 = 1;
#endif
	return "["
	       "{\"name\": \"ctest.n\", \"type\": \"" F_N_TYPE "\", \"desc\": \"event number\", \"display\": \"N\"},"
	       "{\"name\": \"" F_NAME "\", \"type\": \"string\", \"desc\": \"event name\"},"
	       "{\"name\": \"ctest.even\", \"type\": \"bool\", \"desc\": \"even event number\"},"
	       "{\"name\": \"ctest.ts\", \"type\": \"abstime\", \"desc\": \"event time\"},"
	       "{\"name\": \"ctest.age\", \"type\": \"reltime\", \"desc\": \"event number as a duration\"},"
	       "{\"name\": \"" F_TAGS "\", \"type\": \"string\", \"isList\": true, \"desc\": \"tags\"},"
	       "{\"name\": \"ctest.tag\", \"type\": \"string\", \"arg\": {\"isRequired\": true, \"isIndex\": true}, \"desc\": \"tag by index\"},"
	       "{\"name\": \"ctest.attr\", \"type\": \"string\", \"arg\": " F_ATTR_ARG ", \"desc\": \"attribute by key\", \"properties\": [\"info\"]},"
	       "{\"name\": \"ctest.addr\", \"type\": \"ipaddr\", \"desc\": \"an address\", \"addOutput\": true}"
#if defined(V_FIELD_EVT_OVERLAP)
	       ",{\"name\": \"evt.time\", \"type\": \"string\", \"desc\": \"overlaps Falco's\"}"
#endif
	       "]";
}

EXPORT const char* plugin_get_init_schema(ss_plugin_schema_type* t) {
#if defined(V_NO_SCHEMA)
	*t = SS_PLUGIN_SCHEMA_NONE;
	return "";
#elif defined(V_SCHEMA_NOT_OBJECT)
	*t = SS_PLUGIN_SCHEMA_JSON;
	return "[1, 2]";
#else
	*t = SS_PLUGIN_SCHEMA_JSON;
#ifdef V_SCHEMA_UNDOCUMENTED
	return "{\"type\": \"object\", \"properties\": {\"events\": {\"type\": \"integer\", \"default\": 50}}}";
#else
	return "{\"type\": \"object\", \"properties\": {\"events\": {\"type\": \"integer\", \"title\": \"Events\","
	       " \"description\": \"events before EOF\", \"default\": 50}}}";
#endif
#endif
}

#ifdef V_LEAK_THREAD
static void* idle(void* arg) {
	(void)arg;
	for (;;) pause();
	return NULL;
}
#endif

EXPORT ss_plugin_t* plugin_init(const ss_plugin_init_input* in, ss_plugin_rc* rc) {
#ifdef V_INIT_CRASH_EMPTY
	if (strcmp(in->config, "{}") == 0) *(volatile int*)0 = 1;
#endif
	state* s = calloc(1, sizeof *s);
	s->events = 50;
	const char* e = in->config ? strstr(in->config, "\"events\"") : NULL;
	if (e && (e = strchr(e, ':'))) s->events = atoi(e + 1);
	if (s->events < 0 || s->events > 100000) s->events = 50;
#ifdef V_LEAK_THREAD
	pthread_t t;
	pthread_create(&t, NULL, idle, NULL);
	pthread_detach(t);
#endif
#ifndef V_INIT_RC_UNSET
	*rc = SS_PLUGIN_SUCCESS;
#else
	(void)rc;
#endif
	return s;
}

EXPORT void plugin_destroy(ss_plugin_t* st) {
	state* s = st;
	if (!s) return;
	free(s->off_start);
	free(s->off_len);
	free(s);
}

EXPORT const char* plugin_get_last_error(ss_plugin_t* st) {
#ifdef V_LASTERR_BAD
	(void)st;
	return (const char*)16;
#else
	return ((state*)st)->lasterr;
#endif
}

EXPORT const char* plugin_list_open_params(ss_plugin_t* st, ss_plugin_rc* rc) {
	(void)st;
#ifdef V_CRASH_LIST_OPEN
	*(volatile int*)0 = 1;
#endif
	*rc = SS_PLUGIN_SUCCESS;
#ifdef V_OPEN_PARAMS_BAD
	return "[{\"desc\": \"no value\"}]";
#else
	return "[{\"value\": \"seq\", \"desc\": \"a sequence of events\"}]";
#endif
}

EXPORT ss_instance_t* plugin_open(ss_plugin_t* st, const char* params, ss_plugin_rc* rc) {
	state* s = st;
#ifndef V_OPEN_FAILS
	if (strcmp(params, "") == 0 || strcmp(params, "seq") == 0) {
		instance* i = calloc(1, sizeof *i);
		i->total = s->events;
		size_t sz = BATCH * MAXEVT;
		i->mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (int k = 0; k < BATCH; k++) i->ptrs[k] = (ss_plugin_event*)(i->mem + k * MAXEVT);
#ifdef V_LEAK_FD
		open("/dev/null", O_RDONLY);
#endif
		*rc = SS_PLUGIN_SUCCESS;
		return i;
	}
#endif
	snprintf(s->lasterr, sizeof s->lasterr, "unknown open params '%.64s': want \"\" or \"seq\"", params);
	*rc = SS_PLUGIN_FAILURE;
	return NULL;
}

#ifndef V_NO_CLOSE
EXPORT void plugin_close(ss_plugin_t* st, ss_instance_t* h) {
	(void)st;
	instance* i = h;
#ifdef V_CLOSE_NULL_CRASH
	*(volatile int*)&i->next = 0;
#endif
	if (!i) return;
	munmap(i->mem, BATCH * MAXEVT);
	free(i);
}
#endif

// fill writes event n into buffer k.
static void fill(instance* i, int k, int n) {
	ss_plugin_event* e = i->ptrs[k];
	char payload[32];
	uint32_t plen = (uint32_t)snprintf(payload, sizeof payload, "evt %d", n);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	e->ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	e->tid = (uint64_t)-1;
	e->len = DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET + plen;
#ifdef V_BAD_LEN
	e->len -= 2;
#endif
	e->type = DOCKER_PLUGIN_EVENT_CODE;
#ifdef V_WRONG_EVENT_TYPE
	e->type = 1;
#endif
	e->nparams = 2;
	char* p = (char*)e + sizeof(ss_plugin_event);
	uint32_t l0 = 4, id = 0;
#ifdef V_WRONG_PLUGIN_ID
	id = 1234;
#endif
	memcpy(p, &l0, 4);
	memcpy(p + 4, &plen, 4);
	memcpy(p + 8, &id, 4);
	memcpy(p + 12, payload, plen);
}

EXPORT ss_plugin_rc plugin_next_batch(ss_plugin_t* st, ss_instance_t* h, uint32_t* nevts, ss_plugin_event*** evts) {
	state* s = st;
	instance* i = h;
	atomic_store(&in_next_batch, 1);
	i->calls++;
#ifdef V_SLOW_CALL
	if (i->calls == 3) usleep(1500 * 1000);
#endif
#ifdef V_HANG
	if (i->calls == 3)
		for (;;) pause();
#endif
#ifdef V_METRICS_RACE_CRASH
	usleep(200);
#endif
	ss_plugin_rc rc;
	if (i->eof) {
		*nevts = 0;
		rc = SS_PLUGIN_EOF;
#ifdef V_EOF_NOT_STICKY
		if (i->eof++ == 1) {
			fill(i, 0, i->next++);
			*nevts = 1;
			*evts = i->ptrs;
			rc = SS_PLUGIN_SUCCESS;
		}
#endif
		goto out;
	}
#ifdef V_BATCH_EMPTY_SUCCESS
	if (i->calls == 1) {
		*nevts = 0;
		rc = SS_PLUGIN_SUCCESS;
		goto out;
	}
#endif
	if (i->calls % 3 == 0) {
#ifndef V_NEVTS_UNSET
		*nevts = 0;
#endif
		rc = SS_PLUGIN_TIMEOUT;
		goto out;
	}
#ifdef V_READONLY_EVENTS
	mprotect(i->mem, BATCH * MAXEVT, PROT_READ | PROT_WRITE);
#endif
	int n = 0;
	while (n < BATCH && i->next < i->total) fill(i, n++, i->next++);
#ifdef V_READONLY_EVENTS
	mprotect(i->mem, BATCH * MAXEVT, PROT_READ);
#endif
	atomic_fetch_add(&s->produced, (uint64_t)n);
	*nevts = (uint32_t)n;
	*evts = i->ptrs;
	rc = SS_PLUGIN_SUCCESS;
	if (i->next >= i->total) {
		i->eof = 1;
		rc = SS_PLUGIN_EOF;
	}
out:
	atomic_store(&in_next_batch, 0);
	return rc;
}

EXPORT const char* plugin_get_progress(ss_plugin_t* st, ss_instance_t* h, uint32_t* pct) {
	(void)st;
	instance* i = h;
	*pct = i->total ? (uint32_t)((uint64_t)i->next * 10000 / (uint64_t)i->total) : 10000;
#ifdef V_PROGRESS_OVER
	*pct += 10001;
#endif
	snprintf(i->pct, sizeof i->pct, "%d/%d", i->next, i->total);
	return i->pct;
}

// payload_n reads the event number of a payload "evt <n>"; -1 if none.
static long payload_n(const ss_plugin_event* e) {
	const char* p = (const char*)e + sizeof(ss_plugin_event);
	uint32_t plen;
	memcpy(&plen, p + 4, 4);
	if (e->len < DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET || plen > e->len - DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET) return -1;
	const char* pl = p + 12;
#ifdef V_CRASH_HOSTILE
	if (plen < 4) *(volatile int*)0 = 1;
#endif
	if (plen < 5 || plen > 24 || memcmp(pl, "evt ", 4) != 0) return -1;
	long n = 0;
	for (uint32_t k = 4; k < plen; k++) {
		if (pl[k] < '0' || pl[k] > '9') return -1;
		n = n * 10 + (pl[k] - '0');
	}
	return n;
}

EXPORT const char* plugin_event_to_string(ss_plugin_t* st, const ss_plugin_event_input* in) {
	state* s = st;
#ifdef V_BAD_EVTSTR
	(void)s;
	(void)in;
	return (const char*)16;
#else
	long n = payload_n(in->evt);
	if (n < 0) return NULL;
	snprintf(s->evtstr, sizeof s->evtstr, "ctest event %ld", n);
	return s->evtstr;
#endif
}

static const char* tags[2] = {"alpha", "beta"};

EXPORT ss_plugin_rc plugin_extract_fields(ss_plugin_t* st, const ss_plugin_event_input* evt, const ss_plugin_field_extract_input* in) {
	state* s = st;
	long n = payload_n(evt->evt);
	if (in->num_fields > 16) return SS_PLUGIN_FAILURE;
	for (uint32_t k = 0; k < in->num_fields; k++) {
		ss_plugin_extract_field* f = &in->fields[k];
#ifdef V_RES_LEN_UNSET
		if (f->field_id != F_N)
#endif
			f->res_len = 0;
		if (n < 0) continue;
		switch (f->field_id) {
		case F_N:
			s->u64[k] = (uint64_t)n;
#ifdef V_RES_LEN_UNSET
			f->res.u64 = &s->u64[k];
			continue;
#endif
			f->res.u64 = &s->u64[k];
			f->res_len = 1;
			break;
		case F_NAMEF:
			snprintf(s->name[k], sizeof s->name[k], "event-%ld", n);
			s->strs[k] = s->name[k];
			f->res.str = &s->strs[k];
			f->res_len = 1;
#ifdef V_NULL_STRING
			s->strs[k] = NULL;
#endif
#ifdef V_WRONG_VALUE_TYPE
			s->u64[k] = 42;
			f->res.u64 = &s->u64[k];
#endif
#ifdef V_LIST_FOR_SCALAR
			f->res.str = tags;
			f->res_len = 2;
#endif
			break;
		case F_EVEN:
			s->b32[k] = (n % 2) == 0;
			f->res.boolean = &s->b32[k];
			f->res_len = 1;
			break;
		case F_TS:
			s->u64[k] = evt->evt->ts;
			f->res.u64 = &s->u64[k];
			f->res_len = 1;
			break;
		case F_AGE:
			s->u64[k] = (uint64_t)n * 1000000000ull;
			f->res.u64 = &s->u64[k];
			f->res_len = 1;
			break;
		case F_TAGSF:
			f->res.str = tags;
			f->res_len = 2;
			break;
		case F_TAG:
			if (f->arg_present && f->arg_index < 2) {
				f->res.str = &tags[f->arg_index];
				f->res_len = 1;
			}
			break;
		case F_ATTR:
			if (!f->arg_key) break;
#ifdef V_CRASH_EMPTY_KEY
			if (f->arg_key[0] == '\0') *(volatile int*)0 = 1;
#endif
			snprintf(s->name[k], sizeof s->name[k], "v:%.40s", f->arg_key);
			s->strs[k] = s->name[k];
			f->res.str = &s->strs[k];
			f->res_len = 1;
			break;
		case F_ADDR:
			s->addr[0] = 10, s->addr[1] = 0, s->addr[2] = 0, s->addr[3] = (uint8_t)n;
			s->bufs[k].len = 4;
			s->bufs[k].ptr = s->addr;
			f->res.buf = &s->bufs[k];
			f->res_len = 1;
			break;
		case F_EXTRA: // evt.time in V_FIELD_EVT_OVERLAP
			s->strs[k] = "now";
			f->res.str = &s->strs[k];
			f->res_len = 1;
			break;
		default:
			return SS_PLUGIN_FAILURE;
		}
	}
	if (in->value_offsets) {
		if (s->off_cap < in->num_fields) {
			s->off_start = realloc(s->off_start, 16 * sizeof(uint32_t));
			s->off_len = realloc(s->off_len, 16 * sizeof(uint32_t));
			s->off_cap = 16;
		}
		for (uint32_t k = 0; k < in->num_fields; k++) {
			// ctest.n's value is the payload's digits, from byte 4.
			s->off_start[k] = 0;
			s->off_len[k] = 0;
			if (in->fields[k].field_id == F_N && in->fields[k].res_len == 1) {
				s->off_start[k] = DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET + 4;
				s->off_len[k] = evt->evt->len - DOCKER_PLUGIN_EVENT_PAYLOAD_OFFSET - 4;
			}
		}
		in->value_offsets->start = s->off_start;
		in->value_offsets->length = s->off_len;
	}
	return SS_PLUGIN_SUCCESS;
}

EXPORT ss_plugin_metric* plugin_get_metrics(ss_plugin_t* st, uint32_t* n) {
	state* s = st;
#ifdef V_METRICS_RACE_CRASH
	if (atomic_load(&in_next_batch)) *(volatile int*)0 = 1;
#endif
	s->metrics[0].name = "events_produced";
#ifdef V_METRIC_NULL_NAME
	s->metrics[0].name = NULL;
#endif
	s->metrics[0].type = SS_PLUGIN_METRIC_TYPE_MONOTONIC;
	s->metrics[0].value_type = SS_PLUGIN_METRIC_VALUE_TYPE_U64;
	s->metrics[0].value.u64 = atomic_load(&s->produced);
	s->metrics[1].name = "events_configured";
	s->metrics[1].type = SS_PLUGIN_METRIC_TYPE_NON_MONOTONIC;
	s->metrics[1].value_type = SS_PLUGIN_METRIC_VALUE_TYPE_U32;
	s->metrics[1].value.u32 = (uint32_t)s->events;
	*n = 2;
	return s->metrics;
}
