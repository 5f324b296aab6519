package conformance

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

func TestMain(m *testing.M) {
	// Run re-executes this test binary as the child that loads the plugin.
	ChildMain()
	os.Exit(m.Run())
}

// The catalog is what the README and the report rely on: unique ids, a
// level each, and a rule and its source for every FAIL and WARN check.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Catalog {
		if seen[c.ID] {
			t.Errorf("check %s listed twice", c.ID)
		}
		seen[c.ID] = true
		switch c.Level {
		case Fail, Warn:
			if c.Rule == "" || c.Source == "" || c.Title == "" {
				t.Errorf("check %s: a %s check needs a title, a rule and a source", c.ID, c.Level)
			}
		case Info:
		default:
			t.Errorf("check %s: level %q", c.ID, c.Level)
		}
	}
}

func TestScanVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want [3]uint64
	}{
		{"3.11.0", true, [3]uint64{3, 11, 0}},
		{"0.5.0", true, [3]uint64{0, 5, 0}},
		{" 3. 2.1", true, [3]uint64{3, 2, 1}},     // %u skips white space
		{"3.11.0-rc1", true, [3]uint64{3, 11, 0}}, // the rest is ignored
		{"+3.1.0", true, [3]uint64{3, 1, 0}},
		{"3.x.0", false, [3]uint64{}},
		{"three", false, [3]uint64{}},
		{"3.11", false, [3]uint64{}},
		{"v1", false, [3]uint64{}},
		{"", false, [3]uint64{}},
		{"3 .1.0", false, [3]uint64{}}, // a literal '.' does not skip white space
	} {
		v := scanVersion(tc.in)
		if v.ok != tc.ok || (v.ok && [3]uint64{v.major, v.minor, v.patch} != tc.want) {
			t.Errorf("scanVersion(%q) = %+v, want ok=%v %v", tc.in, v, tc.ok, tc.want)
		}
	}
}

// k8saudit's field names (capital letters, accepted by Falco's rule grammar)
// and fields libsinsp refuses.
func TestFieldsJSON(t *testing.T) {
	k8saudit := `[
	 {"type":"string","name":"ka.req.pod.initContainers.image","isList":true,"arg":{"isIndex":true},"desc":"images"},
	 {"type":"string","name":"ka.user.name","desc":"user","display":"User"},
	 {"type":"uint64","name":"ka.response.code","desc":"code","addOutput":true,"properties":["info"]}]`
	for _, tc := range []struct {
		name, json string
		ok         bool
		fail, warn []string // check ids expected at that status
		detail     string
	}{
		{"k8saudit", k8saudit, true, nil, []string{"fields.naming"}, "outside the best-practice regex"},
		{"not a name for a rule", `[{"type":"string","name":"kafield","desc":"d"},{"type":"string","name":"a.b-c","desc":"d"}]`, true, nil, []string{"fields.naming"}, "unusable in a condition"},
		{"duplicate", `[{"type":"string","name":"a.b","desc":"d"},{"type":"uint64","name":"a.b","desc":"d"}]`, true, nil, []string{"fields.unique"}, ""},
		{"taken class", `[{"type":"string","name":"proc.mine","desc":"d"}]`, true, nil, []string{"fields.class"}, ""},
		{"overlap", `[{"type":"string","name":"evt.plugininfo","desc":"d"}]`, true, []string{"fields.overlap"}, []string{"fields.class"}, ""},
		{"no desc", `[{"type":"string","name":"a.b"}]`, false, []string{"fields.schema"}, nil, "no desc"},
		{"bad type", `[{"type":"int","name":"a.b","desc":"d"}]`, false, []string{"fields.schema"}, nil, "invalid field type"},
		{"isList not bool", `[{"type":"string","name":"a.b","desc":"d","isList":"yes"}]`, false, []string{"fields.schema"}, nil, "not a boolean"},
		{"arg kind", `[{"type":"string","name":"a.b","desc":"d","arg":{"isRequired":true}}]`, false, []string{"fields.schema"}, nil, "none of isKey nor isIndex"},
		{"properties", `[{"type":"string","name":"a.b","desc":"d","properties":"hidden"}]`, false, []string{"fields.schema"}, nil, "not an array of strings"},
		{"empty", `[]`, false, []string{"fields.schema"}, nil, "at least one field"},
		{"object", `{"name":"a.b"}`, false, []string{"fields.schema"}, nil, "not a JSON array"},
		{"trailing", `[{"type":"string","name":"a.b","desc":"d"}] x`, false, []string{"fields.schema"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFindings()
			fields, ok := checkFieldsJSON(f, tc.json, harness.StrOK)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v: %+v", ok, tc.ok, f.result("fields.schema"))
			}
			if ok {
				checkFieldNames(f, fields)
			}
			got := map[Status][]string{}
			for _, c := range []string{"fields.schema", "fields.overlap", "fields.naming", "fields.unique", "fields.class"} {
				got[f.status(c)] = append(got[f.status(c)], c)
				if tc.detail != "" && f.status(c) != Pass && !strings.Contains(strings.Join(f.result(c).Details, "\n"), tc.detail) &&
					(contains(tc.fail, c) || contains(tc.warn, c)) && c != "fields.class" {
					t.Errorf("%s details %q, want them to mention %q", c, f.result(c).Details, tc.detail)
				}
			}
			if strings.Join(got[Fail], ",") != strings.Join(tc.fail, ",") || strings.Join(got[Warn], ",") != strings.Join(tc.warn, ",") {
				t.Errorf("FAIL %v WARN %v, want FAIL %v WARN %v", got[Fail], got[Warn], tc.fail, tc.warn)
			}
		})
	}
	// The flags reach the requests.
	fields, _ := checkFieldsJSON(newFindings(), k8saudit, harness.StrOK)
	if f := fields[0]; !f.List || !f.ArgIndex || f.ArgRequired || f.Code != harness.TypeString {
		t.Errorf("k8saudit field 0 parsed as %+v", f)
	}
}

func TestSchemaDocs(t *testing.T) {
	f := newFindings()
	checkSchemaDocs(f, map[string]any{"a": map[string]any{"title": "A", "description": "d"}, "b": map[string]any{"type": "string"}})
	r := f.result("init-schema.docs")
	if r.Status != Warn || !strings.Contains(strings.Join(r.Details, " "), "without a title: b") {
		t.Errorf("got %+v", r)
	}
}

// Arguments are passed as sinsp_filter_check_plugin passes them.
func TestRequests(t *testing.T) {
	key := field{ID: 3, Name: "a.attr", Code: harness.TypeString, ArgRequired: true, ArgKey: true}
	idx := field{ID: 4, Name: "a.tag", Code: harness.TypeString, ArgIndex: true}
	if r := plainRequests(key)[0].raw; !r.KeyArg || r.ArgKey != "name" || !r.ArgPresent || r.ArgIndex != ^uint64(0) {
		t.Errorf("required key request %+v", r)
	}
	if r := plainRequests(idx)[0].raw; r.KeyArg || r.ArgPresent || r.ArgIndex != ^uint64(0) {
		t.Errorf("optional index field without an argument: %+v", r)
	}
	var idxs []uint64
	for _, r := range argRequests(idx) {
		idxs = append(idxs, r.raw.ArgIndex)
	}
	if len(idxs) != 4 || idxs[0] != 0 || idxs[1] != 1 || idxs[3] != ^uint64(0) {
		t.Errorf("index arguments %v", idxs)
	}
	for _, tc := range []struct {
		s  string
		ok bool
	}{{"0", true}, {"12", true}, {"012", false}, {"", false}, {"1a", false}, {"18446744073709551616", false}} {
		if _, ok := parseIndex(tc.s); ok != tc.ok {
			t.Errorf("parseIndex(%q) ok=%v", tc.s, ok)
		}
	}
}

func TestReportOutput(t *testing.T) {
	rep := &Report{Plugin: PluginInfo{Path: "/x/libp.so", Name: "p"}, Children: 2}
	for _, c := range Catalog {
		r := Result{Check: c, Status: Pass}
		if c.ID == "events.type" {
			r.Status = Fail
			r.Details = []string{"event of type 1"}
			r.Crash = &Crash{Signal: "SIGSEGV", LastCall: "plugin_next_batch"}
		}
		rep.Results = append(rep.Results, r)
	}
	rep.summarize()
	if !rep.Failed() || strings.Join(rep.IDs(Fail), ",") != "events.type" {
		t.Fatalf("Failed %v, FAIL ids %v", rep.Failed(), rep.IDs(Fail))
	}
	var tab, js bytes.Buffer
	if err := rep.WriteTable(&tab, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL    events.type", "crash: SIGSEGV in plugin_next_batch", "rule: a plugin with an id produces only plugin events", "1 FAIL, 0 WARN"} {
		if !strings.Contains(tab.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if r := back.Result("events.type"); r.Status != Fail || r.Crash == nil || r.Crash.Signal != "SIGSEGV" || r.Source == "" {
		t.Errorf("JSON round trip: %+v", r)
	}
}
