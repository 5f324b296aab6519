#include <string.h>
#include "extract.h"
#include "_cgo_export.h"

docker_xcache* docker_xcaches[DOCKER_XCACHE_SLOTS];

// docker_xlookup is the cached value answering f, or NULL: the field id is
// known, asked with its declared type, its value (for the key argument,
// when the field takes one) was computed for the current event, and it is
// a single value unless f accepts a list.
static inline docker_xval* docker_xlookup(docker_xcache* c, const ss_plugin_extract_field* f) {
	uint32_t id = f->field_id;
	if (id >= c->nfields || f->ftype != c->ftype[id]) return NULL;
	docker_xval* v = &c->vals[id];
	if (c->has_arg[id]) {
		v = NULL;
		if (f->arg_present && f->arg_key != NULL) {
			for (uint32_t k = 0; k < c->nargs; k++) {
				docker_xarg* a = &c->args[k];
				if (a->field_id == id && strcmp(a->key, f->arg_key) == 0) {
					v = &a->val;
					break;
				}
			}
		}
		if (v == NULL) return NULL;
	}
	if (v->gen != c->gen || (v->res_len > 1 && !f->flist)) return NULL;
	v->used = c->gen;
	return v;
}

// plugin_extract_fields is C so that Falco's rule evaluation, which asks
// for one field per call and for the same fields of an event again and
// again (69 calls per event for the shipped rules), does not enter Go for
// each call: a C->Go call alone (cgo callback, scheduler hand-off) costs
// more than an answer from the table. The first call for an event, and
// any call the table cannot answer, goes to docker_extract_fields (Go),
// which validates, parses and fills the table; so do all errors.
ss_plugin_rc plugin_extract_fields(ss_plugin_t* s, const ss_plugin_event_input* evt,
                                   const ss_plugin_field_extract_input* in) {
	uintptr_t h = (uintptr_t)s;
	uint32_t i = 0;
	docker_xcache* c = (h > 0 && h < DOCKER_XCACHE_SLOTS) ? docker_xcaches[h] : NULL;
	if (c != NULL && evt != NULL && in != NULL && evt->evt != NULL && evt->evt == c->evt &&
	    evt->evtnum == c->evtnum && evt->evtsrc == c->evtsrc && evt->evt->len == c->evtlen &&
	    (in->fields != NULL || in->num_fields == 0) &&
	    (in->value_offsets == NULL || in->num_fields <= c->off_cap)) {
		if (in->value_offsets != NULL && in->num_fields > 0) {
			memset(c->off_start, 0, in->num_fields * sizeof(uint32_t));
			memset(c->off_len, 0, in->num_fields * sizeof(uint32_t));
			in->value_offsets->start = c->off_start;
			in->value_offsets->length = c->off_len;
		}
		for (; i < in->num_fields; i++) {
			ss_plugin_extract_field* f = &in->fields[i];
			docker_xval* v = docker_xlookup(c, f);
			if (v == NULL) break;
			f->res.u64 = (uint64_t*)v->res;
			f->res_len = v->res_len;
		}
		if (i == in->num_fields) return SS_PLUGIN_SUCCESS;
	}
	return docker_extract_fields(h, (ss_plugin_event_input*)evt, (ss_plugin_field_extract_input*)in, i);
}
