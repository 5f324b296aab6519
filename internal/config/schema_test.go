package config

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/xeipuuv/gojsonschema"
)

func TestSchemaShape(t *testing.T) {
	s := Schema()
	if !json.Valid([]byte(s)) {
		t.Fatalf("Schema() is not valid JSON: %.300s", s)
	}
	root := gjson.Parse(s)
	for path, want := range map[string]string{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"type":                 "object",
		"additionalProperties": "false",
	} {
		if got := root.Get(gjson.Escape(path)).Raw; strings.Trim(got, `"`) != want {
			t.Errorf("schema %s = %s, want %s", path, got, want)
		}
	}
	props := root.Get("properties")
	var order []string
	props.ForEach(func(k, _ gjson.Result) bool {
		order = append(order, k.Str)
		return true
	})
	var want []string
	for _, d := range documented {
		want = append(want, d.key)
	}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("schema properties %v, want (README order) %v", order, want)
	}
	def := Default()
	for _, d := range documented {
		p := props.Get(gjson.Escape(d.key))
		if !p.IsObject() {
			t.Errorf("schema has no property %s", d.key)
			continue
		}
		for _, attr := range []string{"type", "title", "description", "default", "examples"} {
			if !p.Get(attr).Exists() {
				t.Errorf("schema property %s has no %s", d.key, attr)
			}
		}
		if got := p.Get("type").String(); got != d.typ {
			t.Errorf("schema %s type %q, README says %q", d.key, got, d.typ)
		}
		if len(strings.TrimSpace(p.Get("description").String())) < 20 {
			t.Errorf("schema %s description too short: %q", d.key, p.Get("description").String())
		}
		if d.typ == "integer" {
			if p.Get("minimum").Raw != itoa(d.min) || p.Get("maximum").Raw != itoa(d.max) {
				t.Errorf("schema %s bounds [%s, %s], README says [%d, %d]", d.key, p.Get("minimum").Raw, p.Get("maximum").Raw, d.min, d.max)
			}
		}
		// The schema's default is the value Parse("") produces.
		fieldJSON, err := json.Marshal(field(def, d.field))
		if err != nil {
			t.Fatal(err)
		}
		if got := compact(t, p.Get("default").Raw); got != string(fieldJSON) {
			t.Errorf("schema %s default %s, Parse(\"\") gives %s", d.key, got, fieldJSON)
		}
		// ... and Parse agrees that it is the default.
		if c, err := Parse(withKey(d.key, p.Get("default").Raw, "")); err != nil || !reflect.DeepEqual(c, def) {
			t.Errorf("Parse of %s's schema default %s = %+v, %v; want Default()", d.key, p.Get("default").Raw, c, err)
		}
		// Every example is a valid value on its own.
		ex := p.Get("examples").Array()
		if len(ex) == 0 {
			t.Errorf("schema %s: no examples", d.key)
		}
		for _, e := range ex {
			in := withKey(d.key, e.Raw, "")
			if _, err := Parse(in); err != nil {
				t.Errorf("schema example %s is refused: %v", in, err)
			}
			validateAgainstSchema(t, in)
		}
	}
	if got := props.Get("logLevel.enum").Raw; compact(t, got) != `["error","warning","info","debug"]` {
		t.Errorf("logLevel enum %s", got)
	}
	fp := props.Get("filters")
	if fp.Get("additionalProperties").Raw != "false" {
		t.Error("filters: additionalProperties is not false")
	}
	var fkeys []string
	fp.Get("properties").ForEach(func(k, v gjson.Result) bool {
		fkeys = append(fkeys, k.Str)
		if v.Get("type").String() != "array" || v.Get("minItems").Int() != 1 || v.Get("items.type").String() != "string" {
			t.Errorf("filters.%s: %s, want a non-empty array of strings", k.Str, v.Raw)
		}
		return true
	})
	wantKeys := append([]string(nil), FilterKeys...)
	sort.Strings(wantKeys)
	if !reflect.DeepEqual(fkeys, wantKeys) {
		t.Errorf("filters properties %v, want %v", fkeys, wantKeys)
	}
	var types []string
	for _, v := range fp.Get("properties.type.items.enum").Array() {
		types = append(types, v.String())
	}
	if !reflect.DeepEqual(types, []string{"builder", "config", "container", "daemon", "image", "network", "node", "plugin", "pod", "secret", "service", "volume"}) {
		t.Errorf("filters.type enum %v", types)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func compact(t *testing.T, raw string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		t.Fatalf("compact %q: %v", raw, err)
	}
	return b.String()
}

var (
	schemaOnce sync.Once
	schema     *gojsonschema.Schema
	schemaErr  error
)

// validateAgainstSchema checks that a config Parse accepts also passes
// the published schema (Falco validates init_config against it before
// plugin_init, so a config the schema refuses never reaches Parse).
func validateAgainstSchema(t *testing.T, in string) {
	t.Helper()
	schemaOnce.Do(func() {
		schema, schemaErr = gojsonschema.NewSchema(gojsonschema.NewStringLoader(Schema()))
	})
	if schemaErr != nil {
		t.Fatalf("Schema() does not compile as a JSON schema: %v", schemaErr)
	}
	if strings.TrimSpace(in) == "" {
		in = "{}"
	}
	res, err := schema.Validate(gojsonschema.NewStringLoader(in))
	if err != nil {
		t.Fatalf("validate %.200q: %v", in, err)
	}
	if !res.Valid() {
		t.Fatalf("Parse accepts %.200q but the schema refuses it: %v", in, res.Errors())
	}
}

func TestSchemaAcceptsWhatParseAccepts(t *testing.T) {
	for _, in := range fuzzSeeds {
		if _, err := Parse(in); err == nil {
			validateAgainstSchema(t, in)
		}
	}
}

// The schema refuses type and range errors too (what it can express).
func TestSchemaRefusesWrongTypes(t *testing.T) {
	validateAgainstSchema(t, "{}") // compiles the schema
	for _, in := range []string{
		`{"batchSize":"10"}`, `{"batchSize":0}`, `{"batchSize":4097}`, `{"failFast":1}`, `{"logLevel":"WARNING"}`,
		`{"batchsize":1}`, `{"filters":{"typ":["x"]}}`, `{"filters":{"type":["containers"]}}`, `{"filters":{"event":[]}}`,
		`{"filters":{"event":[""]}}`, `{"filters":[]}`, `{"pprofAddr":1}`, `[]`,
	} {
		res, err := schema.Validate(gojsonschema.NewStringLoader(in))
		if err != nil {
			t.Fatalf("validate %q: %v", in, err)
		}
		if res.Valid() {
			t.Errorf("the schema accepts %s", in)
		}
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse accepts %s", in)
		}
	}
}
