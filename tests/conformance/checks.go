// Package conformance drives any Falco plugin .so (event sourcing, field
// extraction or both) through the plugin C ABI and reports, check by check,
// what Falco would refuse, what would break or crash it (FAIL), what goes
// against the plugin best practices (WARN) and what the plugin supports
// (INFO).
//
// Every FAIL check is derived from the code that enforces it: the plugin
// loader and plugin API of falcosecurity/libs (userspace/plugin/
// plugin_loader.c, plugin_api.h, plugin_types.h), libsinsp's plugin code
// (plugin.cpp, plugin_filtercheck.cpp), libscap's source plugin engine
// (source_plugin.c) and Falco's own start-up (init_inspectors.cpp); each
// check names its rule and that source. Where Falco is lenient (field names
// with capital letters, a plugin without an init schema) the suite is too:
// WARN or INFO, never FAIL.
//
// The plugin runs in a child process (the current executable re-executed,
// see ChildMain): a plugin that crashes or hangs is reported as a FAIL of
// the check that was running, with the signal and the last plugin call, and
// the suite goes on in a fresh child with the checks that remain.
package conformance

// Status is the outcome of a check (and, in Check.Level, the worst outcome
// it can give).
type Status string

const (
	Pass Status = "PASS"
	Info Status = "INFO"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

func (s Status) rank() int {
	switch s {
	case Info:
		return 1
	case Warn:
		return 2
	case Fail:
		return 3
	}
	return 0
}

// Check describes one check: what it enforces and where the rule comes from.
type Check struct {
	ID     string `json:"id"`
	Level  Status `json:"level"`
	Title  string `json:"title"`
	Rule   string `json:"rule"`
	Source string `json:"source"`
}

// Where the rules come from (falcosecurity/libs and falcosecurity/falco at
// the revisions read for this suite: libs 48dfd53cd, plugin API 3.12.0;
// Falco 13074749).
const (
	srcLoader      = "libs userspace/plugin/plugin_loader.c"
	srcPluginCpp   = "libs userspace/libsinsp/plugin.cpp"
	srcAPIH        = "libs userspace/plugin/plugin_api.h"
	srcTypesH      = "libs userspace/plugin/plugin_types.h"
	srcSourceC     = "libs userspace/libscap/engine/source_plugin/source_plugin.c"
	srcScapC       = "libs userspace/libscap/scap.c"
	srcFilterCheck = "libs userspace/libsinsp/plugin_filtercheck.cpp"
	srcGenEvent    = "libs userspace/libsinsp/sinsp_filtercheck_gen_event.cpp"
	srcParser      = "libs userspace/libsinsp/filter/parser.cpp"
	srcFalcoInit   = "falco userspace/falco/app/actions/init_inspectors.cpp"
	srcBest        = "falco.org/docs/plugins/best-practices"
	srcRegistry    = "falcosecurity/plugins docs/registering-a-plugin.md"
)

// Catalog is every check, in the order they run and are reported.
var Catalog = []Check{
	{"load", Fail, "the library loads",
		"dlopen(path, RTLD_LOCAL|RTLD_NOW) succeeds: every symbol the library needs resolves", srcLoader + " plugin_load"},
	{"symbols.required", Fail, "required symbols",
		"plugin_get_required_api_version, _get_version, _get_name, _get_description, _get_contact, _init, _destroy, _get_last_error are exported; name, description and contact are NULL or readable strings (libsinsp copies them)",
		srcLoader + " plugin_check_required_symbols; " + srcPluginCpp + " resolve_dylib_symbols"},
	{"api-version.parse", Fail, "required API version string",
		`plugin_get_required_api_version returns a string sscanf reads as "%u.%u.%u" (a NULL crashes the loader's sscanf)`,
		srcLoader + " plugin_check_required_api_version"},
	{"api-version.compatible", Fail, "required API version accepted by Falco",
		"same major as the framework (3) and a minor.patch no newer than the newest plugin API (3.12.0); the minimum Falco is reported",
		srcLoader + " plugin_check_required_api_version"},
	{"version.parse", Fail, "plugin version string",
		`plugin_get_version returns a string sscanf reads as "%u.%u.%u" ("plugin provided an invalid version string"); WARN when not strict semver`,
		srcPluginCpp + " resolve_dylib_symbols"},
	{"capabilities", Fail, "capabilities are complete",
		"open/close/next_batch all or none; extract_fields with get_fields; set_async_event_handler with get_async_events; capture_open with capture_close; at least one capability",
		srcLoader + " plugin_get_capabilities; " + srcPluginCpp + " resolve_dylib_symbols"},
	{"source.identity", Fail, "plugin id and event source",
		`a source plugin has both a non-zero id and a non-empty event source, or neither; the source is not NULL (strlen) and not "syscall"`,
		srcLoader + " plugin_get_capabilities; " + srcPluginCpp + " resolve_dylib_symbols"},
	{"fields.schema", Fail, "plugin_get_fields JSON",
		"a non-NULL JSON array of at least one field; each with non-empty string name, type (string, uint64, reltime, abstime, bool, ipaddr, ipnet) and desc; isList/addOutput booleans; arg an object of booleans where isRequired needs isIndex or isKey; properties an array of strings",
		srcPluginCpp + " resolve_dylib_symbols, resolve_dylib_field_arg"},
	{"fields.overlap", Fail, "no field overlaps Falco's generic fields",
		"no field is named as one of the evt.* fields Falco adds to every source (evt.num, evt.time, evt.source, ...): Falco exits with \"supports extraction of field ... that is overlapping\"",
		srcFalcoInit + " populate_filterchecks; " + srcGenEvent},
	{"extract-sources.json", Fail, "plugin_get_extract_event_sources JSON",
		"empty, or a JSON array of strings",
		srcPluginCpp + " resolve_dylib_json_strlist"},
	{"init-schema.json", Fail, "plugin_get_init_schema",
		"a non-empty schema of type JSON is a JSON object (Falco validates init_config against it); no other schema type with a non-empty schema",
		srcPluginCpp + " validate_config, validate_config_json_schema"},
	{"fields.naming", Warn, "field names",
		"names match [a-z]+[a-z0-9_]*(\\.[a-z]+[a-z0-9_]*)+; a name outside the rule grammar [a-zA-Z]+[a-zA-Z0-9_]*(\\.[a-zA-Z]+[a-zA-Z0-9_]*)+ cannot appear in a rule condition",
		srcBest + " (Fields Naming Conventions); " + srcParser + " RGX_FIELDNAME"},
	{"fields.unique", Warn, "field names are unique",
		"no name is declared twice (the filtercheck resolves a name to its first declaration)", srcPluginCpp + " resolve_dylib_symbols"},
	{"fields.class", Warn, "field class",
		"fields are not in a class libsinsp or the container plugin already has (evt, proc, thread, fd, fdlist, fs, user, group, container, k8s)",
		srcBest + " (Fields Naming Conventions)"},
	{"info.naming", Warn, "identity strings",
		"name matches ^[a-z]+[a-z0-9-_\\-]*$, event and extract sources ^[a-z]+[a-z0-9_]*$, description and contact are set, version is semver",
		srcRegistry},
	{"init-schema.docs", Warn, "init schema documents its properties",
		"each property of the JSON schema has a title and a description (default, examples optional); INFO when the plugin has no schema",
		srcBest + " (Configuration in Source Plugins)"},
	{"info.plugin", Info, "what the plugin is and supports", "", ""},
	{"init", Fail, "plugin_init with the given config",
		"init with the schema's defaults (or HARNESS_INIT) sets rc to SS_PLUGIN_SUCCESS (Falco exits on \"could not initialize plugin\"); rc is always set",
		srcAPIH + " init; " + srcPluginCpp + " sinsp_plugin::init"},
	{"init.other-configs", Fail, "plugin_init with other configs does not crash",
		"init with Falco's empty config (\"{}\" when the plugin has a schema, \"\" otherwise) and, without a schema, with a config that is not JSON: success or a failure, never a crash or a hang",
		srcPluginCpp + " validate_config"},
	{"open-params.list", Fail, "plugin_list_open_params",
		"rc is set; on success an empty string or a JSON array of objects, each with a non-empty string \"value\"",
		srcPluginCpp + " sinsp_plugin::list_open_params"},
	{"open.bad-params", Fail, "open with bad params, then close",
		"plugin_open with params it cannot use fails cleanly (or succeeds) and plugin_close(state, whatever open returned, NULL included) follows without a crash",
		srcScapC + " scap_open (scap_close after a failed init); " + srcSourceC + " close_engine"},
	{"open", Fail, "plugin_open with the given params",
		"open with HARNESS_OPEN (default \"\") sets rc to SS_PLUGIN_SUCCESS; rc is always set",
		srcAPIH + " open; " + srcSourceC + " init"},
	{"next-batch.contract", Fail, "plugin_next_batch return values",
		"rc is SUCCESS, FAILURE, TIMEOUT or EOF; nevts is always set; SUCCESS has at least one event; nevts > 0 comes with a readable array of non-NULL event pointers; FAILURE ends the source",
		srcSourceC + " next (\"unexpected 0 size event\"); " + srcAPIH + " next_batch"},
	{"next-batch.eof", Fail, "EOF is sticky",
		"after EOF, every further call returns EOF with zero events",
		srcBest + " (Managing the NextBatch Loop); " + srcSourceC + " next"},
	{"next-batch.blocking", Fail, "plugin_next_batch returns in bounded time",
		"no call blocks longer than the bound (5 s unless set; Falco's event loop and shutdown wait for it); WARN when TIMEOUT takes more than 50 ms (median) or answers in microseconds (Falco spins)",
		srcBest + " (Managing the NextBatch Loop)"},
	{"events.type", Fail, "event type",
		"a plugin with an id produces only plugin events (type 322) with 2 parameters (\"malformed plugin event produced by plugin\")",
		srcSourceC + " next"},
	{"events.plugin-id", Fail, "event plugin id",
		"the plugin id parameter of each plugin event is 0 (Falco fills it) or the plugin's own id; never 0 for a plugin without one",
		srcSourceC + " next (\"unexpected plugin ID in plugin event\")"},
	{"events.length", Fail, "event length and parameters",
		"len covers the header, 2 parameter lengths, a 4-byte plugin id parameter and the payload (payload at PLUGIN_EVENT_PAYLOAD_OFFSET 38), all readable; WARN on trailing bytes",
		srcAPIH + " PLUGIN_EVENT_PAYLOAD_OFFSET; " + srcSourceC + " next"},
	{"events.timestamp", Warn, "event timestamps",
		"ts is set (UINT64_MAX asks Falco to stamp the event; 0 is 1970)", srcSourceC + " next"},
	{"events.writable", Fail, "events are writable",
		"Falco writes into each batch event in place (tid = -1, plugin id, ts): the memory must be writable",
		srcSourceC + " next"},
	{"extract.values", Fail, "every field on every event",
		"each declared field extracted (one field per call as Falco's filtercheck does, with and without value offsets, and all at once) on every event produced: rc SUCCESS or FAILURE, res_len set and at most 1 unless isList, res readable, strings non-NULL and NUL-terminated, ipaddr 4 or 16 bytes, offsets readable",
		srcFilterCheck + " extract_nocache; " + srcTypesH + " ss_plugin_extract_field"},
	{"extract.args", Fail, "field arguments Falco accepts",
		"fields that take an argument are extracted with the arguments a rule can give them (empty, long, unusual keys; indexes 0, 1, huge): no crash, values as in extract.values",
		srcFilterCheck + " parse_field_name, extract_arg_index, extract_arg_key"},
	{"extract.unknown", Warn, "requests Falco never sends",
		"unknown field ids, a name that does not match the id, a missing required argument, an event of another source, zero fields: an error or no value, not a crash",
		srcAPIH + " extract_fields"},
	{"extract.hostile", Fail, "extraction on hostile events of its source",
		"extraction of every field on events of the plugin's source with empty, truncated, random and non-UTF-8 payloads (what a capture file may hold): no crash, values as in extract.values",
		srcAPIH + " get_version (\"events written in pre-existing capture files must always be readable\")"},
	{"event-to-string", Fail, "plugin_event_to_string",
		"on every event: NULL (Falco falls back to the payload) or a readable NUL-terminated string",
		srcPluginCpp + " sinsp_plugin::event_to_string"},
	{"progress", Fail, "plugin_get_progress",
		"progress_pct is set and within 0..10000; the string is NULL or readable; WARN when progress goes backwards",
		srcAPIH + " get_progress"},
	{"info.events", Info, "what the plugin produced", "", ""},
	{"metrics", Fail, "plugin_get_metrics",
		"num_metrics > 0 comes with a readable array; each metric has a readable non-empty name, type MONOTONIC or NON_MONOTONIC, a known value type; WARN for names Prometheus cannot take or duplicates",
		srcAPIH + " get_metrics; " + srcPluginCpp + " sinsp_plugin::get_metrics"},
	{"metrics.concurrent", Fail, "plugin_get_metrics from another thread",
		"get_metrics called from another thread while next_batch runs (Falco's web server and stats threads do) does not crash",
		srcPluginCpp + " sinsp_plugin::get_metrics"},
	{"lifecycle.open-close", Fail, "open/close cycles",
		"repeated open, next_batch, close (Falco reopens on every config reload) leave fds and threads bounded; WARN when RSS keeps growing",
		srcAPIH + " open, close"},
	{"lifecycle.init-destroy", Fail, "init/destroy cycles",
		"repeated init and destroy leave fds and threads bounded; WARN when RSS keeps growing",
		srcAPIH + " init, destroy"},
	{"last-error", Fail, "plugin_get_last_error after a failure",
		"after every failed call, get_last_error returns a readable string (FAIL when unreadable); WARN when it is NULL or empty (Falco prints the reason from it)",
		srcAPIH + " get_last_error; " + srcSourceC + " next"},
}

// check returns the catalog entry with that id.
func check(id string) Check {
	for _, c := range Catalog {
		if c.ID == id {
			return c
		}
	}
	panic("conformance: unknown check " + id)
}
