package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// Every symbol plugin_loader.c resolves (SYM_RESOLVE), in its order.
var loaderSymbols = []string{"get_required_api_version", "get_version", "get_last_error", "get_name", "get_description",
	"get_contact", "get_init_schema", "init", "destroy", "get_id", "get_event_source", "open", "close", "next_batch",
	"get_progress", "list_open_params", "event_to_string", "get_fields", "extract_fields", "get_extract_event_sources",
	"get_extract_event_types", "get_parse_event_types", "get_parse_event_sources", "parse_event",
	"get_async_event_sources", "get_async_events", "set_async_event_handler", "dump_state", "set_config",
	"get_metrics", "capture_open", "capture_close", "get_required_event_schema_version"}

// plugin_check_required_symbols.
var requiredSymbols = []string{"get_required_api_version", "get_version", "get_name", "get_description",
	"get_contact", "init", "destroy", "get_last_error"}

// The newest plugin API (libs plugin_api.h PLUGIN_API_VERSION_*) and the
// first Falco that accepts each minor (plugin API facts of this project).
const fwMajor, fwMinor, fwPatch = 3, 12, 0

var minFalco = []struct {
	minor uint64
	falco string
}{{0, "0.35"}, {2, "0.37"}, {6, "0.38.1"}, {7, "0.39"}, {10, "0.40"}, {11, "0.41"}, {12, "0.42"}}

// Field types libsinsp knows (plugin.cpp s_pt_lut) and their codes.
var fieldTypes = map[string]uint32{"string": harness.TypeString, "uint64": harness.TypeUint64,
	"reltime": harness.TypeRelTime, "abstime": harness.TypeAbsTime, "bool": harness.TypeBool,
	"ipaddr": harness.TypeIPAddr, "ipnet": harness.TypeIPNet}

// The fields Falco adds to every event source (sinsp_filtercheck_gen_event.cpp).
var genericFields = strings.Fields(`evt.num evt.time evt.time.s evt.time.iso8601 evt.datetime evt.datetime.s
	evt.rawtime evt.rawtime.s evt.rawtime.ns evt.reltime evt.reltime.s evt.reltime.ns evt.pluginname
	evt.plugininfo evt.source evt.is_async evt.asynctype evt.hostname`)

// Field classes of libsinsp and of the container plugin Falco ships.
var takenClasses = map[string]bool{"evt": true, "proc": true, "thread": true, "fd": true, "fdlist": true,
	"fs": true, "user": true, "group": true, "container": true, "k8s": true}

var (
	bestFieldRe  = regexp.MustCompile(`^[a-z]+[a-z0-9_]*(\.[a-z]+[a-z0-9_]*)+$`)
	grammarRe    = regexp.MustCompile(`^[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+$`)
	regNameRe    = regexp.MustCompile(`^[a-z]+[a-z0-9-_\-]*$`)
	regSourceRe  = regexp.MustCompile(`^[a-z]+[a-z0-9_]*$`)
	semverRe     = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	strictAPIRe  = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	promMetricRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// field is one parsed entry of plugin_get_fields.
type field struct {
	ID          uint32
	Name        string
	Type        string
	Code        uint32
	List        bool
	ArgRequired bool
	ArgIndex    bool
	ArgKey      bool
}

func (f field) takesArg() bool { return f.ArgIndex || f.ArgKey }

// meta is what the static checks learnt about the plugin.
type meta struct {
	syms           map[string]bool
	name, version  string
	apiVersion     string
	id             uint32
	source         string
	sourcing       bool // open, close and next_batch present
	extraction     bool // get_fields and extract_fields present, fields parse
	fields         []field
	extractSources []string
	schemaType     int32
	schema         map[string]any // the JSON schema, when it parses
	caps           []string
}

// readStr calls an info getter under a crumb and reads its string safely.
func (c *child) readStr(check string, which int, sym string) (string, harness.StrState) {
	if !c.m.syms[sym] {
		return "", harness.StrNull
	}
	c.crumb(check, "", "plugin_"+sym, "")
	return harness.SafeCString(c.p.InfoPtr(which), 1<<20)
}

// static runs the checks that need no plugin state; false when Falco would
// refuse the plugin so badly that nothing else can be called.
func (c *child) static() bool {
	ids := []string{"symbols.required", "api-version.parse", "api-version.compatible", "version.parse", "capabilities",
		"source.identity", "fields.schema", "fields.overlap", "extract-sources.json", "init-schema.json",
		"fields.naming", "fields.unique", "fields.class", "info.naming", "init-schema.docs", "info.plugin"}
	c.phase(ids...)
	for _, id := range ids {
		if c.faulted[id] {
			// A getter the loader calls crashed or hung: Falco dies
			// loading the plugin, nothing more can be learnt.
			c.skipRest("the plugin crashes or hangs when Falco loads it (see " + id + ")")
			return false
		}
	}
	f := c.f
	m := &c.m
	m.syms = map[string]bool{}
	var optional []string
	for _, s := range loaderSymbols {
		m.syms[s] = c.p.Has("plugin_" + s)
	}
	var missing []string
	for _, s := range requiredSymbols {
		if !m.syms[s] {
			missing = append(missing, "plugin_"+s)
		}
	}
	for _, s := range loaderSymbols {
		if m.syms[s] && !contains(requiredSymbols, s) {
			optional = append(optional, s)
		}
	}
	if len(missing) == 0 {
		f.note("symbols.required", "the %d required symbols are exported", len(requiredSymbols))
	} else {
		f.fail("symbols.required", "missing", "missing %s: Falco refuses the plugin (\"required symbol not implemented\")", strings.Join(missing, ", "))
	}

	// Identity strings: libsinsp copies each into a std::string.
	strs := map[string]string{}
	for _, g := range []struct {
		sym   string
		which int
	}{{"get_name", harness.InfoName}, {"get_description", harness.InfoDescription}, {"get_contact", harness.InfoContact}} {
		s, st := c.readStr("symbols.required", g.which, g.sym)
		if m.syms[g.sym] && (st == harness.StrUnreadable || st == harness.StrTooLong) {
			f.fail("symbols.required", g.sym, "plugin_%s returns a string that is %s: libsinsp copies it and crashes", g.sym, st)
		}
		strs[g.sym] = s
	}
	m.name = strs["get_name"]

	// Required API version.
	if m.syms["get_required_api_version"] {
		s, st := c.readStr("api-version.parse", harness.InfoRequiredAPI, "get_required_api_version")
		m.apiVersion = s
		c.apiVersion(s, st)
	} else {
		c.skip("plugin_get_required_api_version is missing (see symbols.required)", "api-version.parse", "api-version.compatible")
	}
	// Plugin version.
	if m.syms["get_version"] {
		s, st := c.readStr("version.parse", harness.InfoVersion, "get_version")
		m.version = s
		switch {
		case st != harness.StrOK:
			f.fail("version.parse", "version", "plugin_get_version returns a string that is %s: Falco crashes or refuses the plugin", st)
		case !scanVersion(s).ok:
			f.fail("version.parse", "version", "version %q does not read as %%u.%%u.%%u: Falco refuses the plugin (\"plugin provided an invalid version string\")", s)
		case !semverRe.MatchString(s):
			f.warn("version.parse", "semver", "version %q is accepted by Falco but is not semver (X.Y.Z)", s)
		default:
			f.note("version.parse", "version %s", s)
		}
	} else {
		c.skip("plugin_get_version is missing (see symbols.required)", "version.parse")
	}

	c.capabilities()
	c.sourceIdentity()
	c.fieldsJSON()
	c.extractSources()
	c.initSchema()
	c.naming(strs)

	c.infoPlugin(optional)
	c.report(ids...)
	c.send(message{Plugin: &PluginInfo{Path: c.opts.Plugin, Name: m.name, Version: m.version,
		RequiredAPIVersion: m.apiVersion, ID: m.id, EventSource: m.source, Capabilities: m.caps, Fields: len(m.fields)}})
	if len(missing) > 0 {
		c.skipRest("Falco refuses the plugin: required symbols are missing (see symbols.required)")
		return false
	}
	return true
}

func (c *child) apiVersion(s string, st harness.StrState) {
	f := c.f
	if st != harness.StrOK {
		f.fail("api-version.parse", "api", "plugin_get_required_api_version returns a string that is %s: the loader's sscanf crashes or refuses it", st)
		c.skip("the required API version does not parse (see api-version.parse)", "api-version.compatible")
		return
	}
	v := scanVersion(s)
	if !v.ok {
		f.fail("api-version.parse", "api", "required API version %q does not read as %%u.%%u.%%u: Falco refuses the plugin (\"invalid required API version\")", s)
		c.skip("the required API version does not parse (see api-version.parse)", "api-version.compatible")
		return
	}
	if !strictAPIRe.MatchString(s) {
		f.warn("api-version.parse", "strict", "required API version %q is read as %d.%d.%d but is not plain X.Y.Z", s, v.major, v.minor, v.patch)
	} else {
		f.note("api-version.parse", "%q", s)
	}
	switch {
	case v.major != fwMajor:
		f.fail("api-version.compatible", "major", "required API version %s: major %d, Falco's plugin API is %d.x (\"major versions disagree\")", s, v.major, fwMajor)
	case v.minor > fwMinor || (v.minor == fwMinor && v.patch > fwPatch):
		f.fail("api-version.compatible", "newer", "required API version %s is newer than the newest plugin API %d.%d.%d: no released Falco loads it", s, fwMajor, fwMinor, fwPatch)
	default:
		falco := ""
		for _, x := range minFalco {
			if v.minor >= x.minor {
				falco = x.falco
			}
		}
		f.note("api-version.compatible", "requires plugin API %s: Falco >= %s", s, falco)
	}
}

func (c *child) capabilities() {
	m, f := &c.m, c.f
	has := func(s ...string) bool {
		for _, x := range s {
			if !m.syms[x] {
				return false
			}
		}
		return true
	}
	anyOf := func(s ...string) bool {
		for _, x := range s {
			if m.syms[x] {
				return true
			}
		}
		return false
	}
	if has("open", "close", "next_batch") {
		m.sourcing = true
		m.caps = append(m.caps, "event sourcing")
	} else if anyOf("open", "close", "next_batch") {
		f.fail("capabilities", "sourcing", "event sourcing: must implement all of plugin_open, plugin_close and plugin_next_batch (open %v, close %v, next_batch %v): \"broken plugin capabilities\"",
			m.syms["open"], m.syms["close"], m.syms["next_batch"])
	}
	if has("get_fields", "extract_fields") {
		m.extraction = true
		m.caps = append(m.caps, "field extraction")
	} else if m.syms["extract_fields"] {
		f.fail("capabilities", "extraction", "field extraction: plugin_extract_fields without plugin_get_fields: \"broken plugin capabilities\"")
	}
	if m.syms["parse_event"] {
		m.caps = append(m.caps, "event parsing")
	}
	if has("get_async_events", "set_async_event_handler") {
		m.caps = append(m.caps, "async events")
	} else if m.syms["set_async_event_handler"] {
		f.fail("capabilities", "async", "async events: plugin_set_async_event_handler without plugin_get_async_events: \"broken plugin capabilities\"")
	}
	if has("capture_open", "capture_close") {
		m.caps = append(m.caps, "capture listening")
	} else if m.syms["capture_open"] {
		f.fail("capabilities", "capture", "capture listening: plugin_capture_open without plugin_capture_close: \"broken plugin capabilities\"")
	}
	if len(m.caps) == 0 && f.status("capabilities") != Fail {
		f.fail("capabilities", "none", "no capability: Falco refuses the plugin (\"plugin does not implement any capability\")")
	}
	if len(m.caps) > 0 {
		f.note("capabilities", "%s", strings.Join(m.caps, ", "))
	}
}

func (c *child) sourceIdentity() {
	m, f := &c.m, c.f
	if !m.sourcing {
		c.skip("no event sourcing capability", "source.identity")
		return
	}
	hasID := false
	if m.syms["get_id"] {
		c.crumb("source.identity", "", "plugin_get_id", "")
		m.id = c.p.ID()
		hasID = m.id != 0
	}
	hasSource := false
	if m.syms["get_event_source"] {
		c.crumb("source.identity", "", "plugin_get_event_source", "")
		s, st := harness.SafeCString(c.p.InfoPtr(harness.InfoEventSource), 1<<20)
		switch st {
		case harness.StrNull:
			f.fail("source.identity", "null", "plugin_get_event_source returns NULL: the loader calls strlen on it and crashes")
		case harness.StrOK:
			m.source = s
			hasSource = s != ""
		default:
			f.fail("source.identity", "null", "plugin_get_event_source returns a string that is %s: the loader calls strlen on it and crashes", st)
		}
	}
	switch {
	case hasID != hasSource:
		f.fail("source.identity", "pair", "id %d and event source %q: must implement both plugin_get_id and plugin_get_event_source or neither (\"broken plugin capabilities\")", m.id, m.source)
	case m.source == "syscall":
		f.fail("source.identity", "syscall", "event source \"syscall\" is reserved: Falco refuses the plugin")
	case hasID:
		f.note("source.identity", "id %d, event source %q", m.id, m.source)
	default:
		f.note("source.identity", "no id and no event source: produces events of the syscall source")
	}
}

// fieldsJSON parses plugin_get_fields as libsinsp does and fills m.fields.
func (c *child) fieldsJSON() {
	m := &c.m
	if !m.extraction {
		c.skip("no field extraction capability", "fields.schema", "fields.overlap", "fields.naming", "fields.unique", "fields.class")
		m.extraction = false
		return
	}
	c.crumb("fields.schema", "", "plugin_get_fields", "")
	s, st := harness.SafeCString(c.p.InfoPtr(harness.InfoFields), 64<<20)
	fields, ok := checkFieldsJSON(c.f, s, st)
	m.fields = fields
	if !ok {
		m.extraction = false
		c.skip("plugin_get_fields is refused (see fields.schema)", "fields.overlap", "fields.naming", "fields.unique", "fields.class")
		return
	}
	checkFieldNames(c.f, fields)
}

// checkFieldsJSON applies resolve_dylib_symbols' rules to the fields JSON;
// ok is false when Falco would refuse it.
func checkFieldsJSON(f *findings, s string, st harness.StrState) ([]field, bool) {
	const id = "fields.schema"
	if st != harness.StrOK {
		f.fail(id, "ptr", "plugin_get_fields returns a string that is %s (\"get_fields returned a null string\")", st)
		return nil, false
	}
	var raw []map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		f.fail(id, "json", "plugin_get_fields is not a JSON array of objects (\"get_fields returned an invalid JSON\"): %s", errOr(err, "trailing data"))
		return nil, false
	}
	if len(raw) == 0 {
		f.fail(id, "empty", "no field: \"plugins with extraction capability must export at least one field\"")
		return nil, false
	}
	var out []field
	bad := false
	for k, e := range raw {
		fl := field{ID: uint32(k)}
		str := func(key string, required bool) (string, bool) {
			v, ok := e[key]
			if !ok || string(v) == "null" {
				if required {
					f.fail(id, "no "+key, "field %d (%s) has no %s (\"field JSON entry has no %s\")", k, fl.Name, key, key)
					return "", false
				}
				return "", true
			}
			var x string
			if json.Unmarshal(v, &x) != nil {
				f.fail(id, key+" type", "field %d (%s): %s is %s, not a string", k, fl.Name, key, v)
				return "", false
			}
			if required && x == "" {
				f.fail(id, "no "+key, "field %d (%s) has an empty %s (\"field JSON entry has no %s\")", k, fl.Name, key, key)
				return "", false
			}
			return x, true
		}
		boolean := func(obj map[string]json.RawMessage, key string) bool {
			v, ok := obj[key]
			if !ok || string(v) == "null" {
				return false
			}
			var b bool
			if json.Unmarshal(v, &b) != nil {
				f.fail(id, key, "field %d (%s): %s is %s, not a boolean (\"%s property is not boolean\")", k, fl.Name, key, v, key)
				bad = true
			}
			return b
		}
		var ok bool
		if fl.Name, ok = str("name", true); !ok {
			bad = true
		}
		if fl.Type, ok = str("type", true); !ok {
			bad = true
		} else if code, known := fieldTypes[fl.Type]; !known {
			f.fail(id, "type", "field %s: invalid field type %q (string, uint64, reltime, abstime, bool, ipaddr, ipnet)", fl.Name, fl.Type)
			bad = true
		} else {
			fl.Code = code
		}
		if _, ok = str("desc", true); !ok {
			bad = true
		}
		if _, ok = str("display", false); !ok {
			bad = true
		}
		fl.List = boolean(e, "isList")
		boolean(e, "addOutput")
		if a, ok := e["arg"]; ok && string(a) != "null" {
			var arg map[string]json.RawMessage
			if json.Unmarshal(a, &arg) != nil {
				f.fail(id, "arg", "field %s: arg is %s, not an object", fl.Name, a)
				bad = true
			} else {
				fl.ArgRequired = boolean(arg, "isRequired")
				fl.ArgIndex = boolean(arg, "isIndex")
				fl.ArgKey = boolean(arg, "isKey")
				if fl.ArgRequired && !fl.takesArg() {
					f.fail(id, "arg kind", "field %s: arg has isRequired true, but none of isKey nor isIndex is true", fl.Name)
					bad = true
				}
			}
		}
		if p, ok := e["properties"]; ok && string(p) != "null" {
			var props []string
			if json.Unmarshal(p, &props) != nil {
				f.fail(id, "properties", "field %s: properties is %s, not an array of strings", fl.Name, p)
				bad = true
			}
		}
		out = append(out, fl)
	}
	if bad {
		return out, false
	}
	types := map[string]int{}
	lists, args := 0, 0
	for _, x := range out {
		types[x.Type]++
		if x.List {
			lists++
		}
		if x.takesArg() {
			args++
		}
	}
	f.note(id, "%d fields (%s), %d lists, %d with an argument", len(out), countMap(types), lists, args)
	return out, true
}

// checkFieldNames: overlap with Falco's generic fields (FAIL), naming,
// uniqueness and class (WARN).
func checkFieldNames(f *findings, fields []field) {
	seen := map[string]int{}
	classes := map[string]int{}
	var notBest, notGrammar []string
	for _, fl := range fields {
		if contains(genericFields, fl.Name) {
			f.fail("fields.overlap", fl.Name, "field %s overlaps the generic field Falco adds to every source: Falco exits (\"supports extraction of field '%s' that is overlapping\")", fl.Name, fl.Name)
		}
		if !bestFieldRe.MatchString(fl.Name) {
			if grammarRe.MatchString(fl.Name) {
				notBest = append(notBest, fl.Name)
			} else {
				notGrammar = append(notGrammar, fl.Name)
			}
		}
		seen[fl.Name]++
		classes[strings.SplitN(fl.Name, ".", 2)[0]]++
	}
	if len(notGrammar) > 0 {
		f.warn("fields.naming", "grammar", "%d field names outside the rule grammar, unusable in a condition: %s", len(notGrammar), listSome(notGrammar, 8))
	}
	if len(notBest) > 0 {
		f.warn("fields.naming", "best", "%d field names outside the best-practice regex (Falco accepts them): %s", len(notBest), listSome(notBest, 8))
	}
	if f.status("fields.overlap") == Pass {
		f.note("fields.overlap", "no field named as one of the %d generic evt.* fields", len(genericFields))
	}
	if len(notGrammar)+len(notBest) == 0 {
		f.note("fields.naming", "the %d names match the best-practice regex", len(fields))
	}
	var dups []string
	for n, k := range seen {
		if k > 1 {
			dups = append(dups, n)
		}
	}
	sort.Strings(dups)
	if len(dups) > 0 {
		f.warn("fields.unique", "dup", "declared more than once: %s", listSome(dups, 8))
	} else {
		f.note("fields.unique", "%d distinct names", len(seen))
	}
	var cls []string
	for cl := range classes {
		cls = append(cls, cl)
		if takenClasses[cl] {
			f.warn("fields.class", cl, "%d fields in the %s.* class, which libsinsp or the container plugin already has", classes[cl], cl)
		}
	}
	sort.Strings(cls)
	f.note("fields.class", "classes: %s", strings.Join(cls, ", "))
}

func (c *child) extractSources() {
	m, f := &c.m, c.f
	const id = "extract-sources.json"
	if !m.syms["get_extract_event_sources"] {
		c.skip("plugin_get_extract_event_sources not exported (optional): the plugin extracts from its own source, or from every source without one", id)
		return
	}
	c.crumb(id, "", "plugin_get_extract_event_sources", "")
	s, st := harness.SafeCString(c.p.InfoPtr(harness.InfoExtractSources), 1<<20)
	switch {
	case st == harness.StrNull || (st == harness.StrOK && s == ""):
		f.note(id, "empty: the default sources")
	case st != harness.StrOK:
		f.fail(id, "ptr", "plugin_get_extract_event_sources returns a string that is %s", st)
	default:
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			f.fail(id, "json", "%q is not a JSON array of strings (\"did not return a json array\")", oneLine(s, 80))
			return
		}
		m.extractSources = list
		f.note(id, "sources %s", strings.Join(list, ", "))
	}
}

func (c *child) initSchema() {
	m, f := &c.m, c.f
	const id = "init-schema.json"
	if !m.syms["get_init_schema"] {
		c.skip("plugin_get_init_schema not exported (optional): Falco passes init_config unvalidated", id)
		f.info("init-schema.docs", "no init schema: Falco passes init_config to plugin_init unvalidated")
		return
	}
	c.crumb(id, "", "plugin_get_init_schema", "")
	ptr, typ := c.p.InitSchemaPtr()
	m.schemaType = typ
	s, st := harness.SafeCString(ptr, 16<<20)
	switch {
	case st == harness.StrNull || (st == harness.StrOK && s == ""):
		f.note(id, "empty schema (type %d): no validation", typ)
		f.info("init-schema.docs", "no init schema: Falco passes init_config to plugin_init unvalidated")
		m.schemaType = 0
	case st != harness.StrOK:
		f.fail(id, "ptr", "plugin_get_init_schema returns a string that is %s", st)
	case typ == 0:
		f.note(id, "schema type NONE: no validation")
		f.info("init-schema.docs", "no init schema (type NONE): Falco passes init_config to plugin_init unvalidated")
	case typ != 1:
		f.fail(id, "type", "schema type %d with a non-empty schema: Falco throws \"get_init_schema returned an unknown schema type\"", typ)
	default:
		var obj map[string]any
		if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
			f.fail(id, "json", "the JSON schema is not a JSON object (\"get_init_schema did not return a json object\"): %s", errOr(err, "null"))
			return
		}
		m.schema = obj
		props, _ := obj["properties"].(map[string]any)
		f.note(id, "JSON schema, %d properties", len(props))
		checkSchemaDocs(f, props)
	}
}

// checkSchemaDocs: every property has a title and a description.
func checkSchemaDocs(f *findings, props map[string]any) {
	var noTitle, noDesc []string
	for k, v := range props {
		p, _ := v.(map[string]any)
		if s, _ := p["title"].(string); s == "" {
			noTitle = append(noTitle, k)
		}
		if s, _ := p["description"].(string); s == "" {
			noDesc = append(noDesc, k)
		}
	}
	sort.Strings(noTitle)
	sort.Strings(noDesc)
	if len(noTitle) > 0 {
		f.warn("init-schema.docs", "title", "properties without a title: %s", listSome(noTitle, 8))
	}
	if len(noDesc) > 0 {
		f.warn("init-schema.docs", "desc", "properties without a description: %s", listSome(noDesc, 8))
	}
	if len(noTitle)+len(noDesc) == 0 {
		f.note("init-schema.docs", "%d properties, each with a title and a description", len(props))
	}
}

func (c *child) naming(strs map[string]string) {
	m, f := &c.m, c.f
	const id = "info.naming"
	if !regNameRe.MatchString(m.name) {
		f.warn(id, "name", "name %q does not match %s", m.name, regNameRe)
	}
	if m.sourcing && m.id != 0 && !regSourceRe.MatchString(m.source) {
		f.warn(id, "source", "event source %q does not match %s", m.source, regSourceRe)
	}
	for _, s := range m.extractSources {
		if !regSourceRe.MatchString(s) {
			f.warn(id, "xsource", "extract source %q does not match %s", s, regSourceRe)
		}
	}
	if strs["get_description"] == "" {
		f.warn(id, "desc", "empty description")
	}
	if strs["get_contact"] == "" {
		f.warn(id, "contact", "empty contact")
	}
	if m.version != "" && scanVersion(m.version).ok && !semverRe.MatchString(m.version) {
		f.warn(id, "semver", "version %q is not semver", m.version)
	}
	if f.status(id) == Pass {
		f.note(id, "name %q, sources, description, contact and version follow the registry's conventions", m.name)
	}
}

func (c *child) infoPlugin(optional []string) {
	m, f := &c.m, c.f
	const id = "info.plugin"
	f.info(id, "%s %s: %s", m.name, m.version, strings.Join(m.caps, ", "))
	if m.sourcing {
		f.info(id, "event source %q, id %d", m.source, m.id)
	}
	if m.extraction {
		f.info(id, "%d fields", len(m.fields))
	}
	f.info(id, "optional symbols: %s", strings.Join(optional, ", "))
}

// version is what sscanf("%u.%u.%u") reads from a string.
type version struct {
	major, minor, patch uint64
	ok                  bool
}

// scanVersion reads s as C's sscanf(s, "%" PRIu32 ".%" PRIu32 ".%" PRIu32)
// does: each %u skips white space, takes an optional sign and at least one
// digit; the dots must be literal; anything after the third number is
// ignored.
func scanVersion(s string) version {
	var v version
	nums := make([]uint64, 0, 3)
	i := 0
	for n := 0; n < 3; n++ {
		if n > 0 {
			if i >= len(s) || s[i] != '.' {
				return v
			}
			i++
		}
		for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
			i++
		}
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		start := i
		var x uint64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			x = x*10 + uint64(s[i]-'0')
			i++
		}
		if i == start {
			return v
		}
		if neg {
			x = uint64(uint32(-int64(x)))
		}
		nums = append(nums, uint64(uint32(x)))
	}
	return version{nums[0], nums[1], nums[2], true}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func listSome(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(", ... (%d more)", len(list)-n)
}

func countMap(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", m[k], k)
	}
	return b.String()
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
