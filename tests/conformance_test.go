package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/conformance"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestConformance runs the conformance suite (tests/conformance) on the
// plugin under test: the docker plugin, replaying a recorded engine corpus
// (so that every check runs: events, EOF, extraction), or the plugin
// HARNESS_PLUGIN names, with HARNESS_INIT and HARNESS_OPEN. No check may
// FAIL; the docker plugin also has no WARN and no skipped check.
func TestConformance(t *testing.T) {
	opts := conformance.Options{Plugin: soPath}
	if v, ok := os.LookupEnv("HARNESS_INIT"); ok {
		opts.InitConfig = &v
	}
	if v, ok := os.LookupEnv("HARNESS_OPEN"); ok {
		opts.OpenParams = &v
	} else if isDocker {
		v := fileURI(fixture(t, "engines/docker-20.10.jsonl"))
		opts.OpenParams = &v
	}
	rep, err := conformance.Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	rep.WriteTable(&tab, true)
	for _, r := range rep.Results {
		switch {
		case r.Status == conformance.Fail:
			t.Errorf("FAIL %s: %v %v (rule: %s; %s)", r.ID, r.Details, r.Crash, r.Rule, r.Source)
		case isDocker && r.Status == conformance.Warn:
			t.Errorf("WARN %s: %v", r.ID, r.Details)
		case isDocker && r.Status == conformance.Skip:
			t.Errorf("SKIP %s: %v", r.ID, r.Details)
		}
	}
	if t.Failed() || testing.Verbose() || !isDocker {
		t.Logf("conformance report:\n%s", tab.String())
	}
}

// Symbols Falco requires for the capabilities the plugin declares.
var (
	commonSymbols     = []string{"plugin_get_required_api_version", "plugin_get_version", "plugin_get_name", "plugin_get_description", "plugin_get_contact", "plugin_init", "plugin_destroy", "plugin_get_last_error"}
	sourcingSymbols   = []string{"plugin_get_id", "plugin_get_event_source", "plugin_open", "plugin_close", "plugin_next_batch"}
	extractionSymbols = []string{"plugin_get_fields", "plugin_extract_fields"}
	// Optional symbols this plugin exports.
	dockerOptional = []string{"plugin_get_init_schema", "plugin_get_progress", "plugin_event_to_string", "plugin_list_open_params", "plugin_get_extract_event_sources", "plugin_get_metrics"}
)

// Regexes of Falco's plugin best practices.
var (
	nameRe   = regexp.MustCompile(`^[a-z]+[a-z0-9-_\-]*$`)
	sourceRe = regexp.MustCompile(`^[a-z]+[a-z0-9_]*$`)
	fieldRe  = regexp.MustCompile(`^[a-z]+[a-z0-9_]*(\.[a-z]+[a-z0-9_]*)+$`)
	semverRe = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`)
)

func TestSymbols(t *testing.T) {
	if miss := plug.MissingSymbols(commonSymbols...); len(miss) > 0 {
		t.Fatalf("missing required symbols: %v", miss)
	}
	hasSourcing := plug.Has("plugin_open")
	hasExtraction := plug.Has("plugin_extract_fields")
	if !hasSourcing && !hasExtraction {
		t.Fatal("plugin has neither the sourcing nor the extraction capability")
	}
	if hasSourcing {
		if miss := plug.MissingSymbols(sourcingSymbols...); len(miss) > 0 {
			t.Errorf("sourcing capability incomplete, missing %v", miss)
		}
	}
	if hasExtraction {
		if miss := plug.MissingSymbols(extractionSymbols...); len(miss) > 0 {
			t.Errorf("extraction capability incomplete, missing %v", miss)
		}
	}
	if isDocker {
		if miss := plug.MissingSymbols(dockerOptional...); len(miss) > 0 {
			t.Errorf("docker plugin should export %v", miss)
		}
		if plug.Has("docker_test_set_fault") {
			t.Error("production build exports the test-only fault injection symbol")
		}
	}
}

// TestInfo, TestFieldsJSON and TestInitSchema hold the docker plugin to
// stricter expectations than Falco's (best practices included); any other
// plugin is judged by TestConformance, at the levels Falco itself applies.
func TestInfo(t *testing.T) {
	needDocker(t)
	v := plug.RequiredAPIVersion()
	m := semverRe.FindStringSubmatch(v)
	if m == nil || m[1] != "3" {
		t.Fatalf("required API version %q does not parse as 3.x.y", v)
	}
	if !nameRe.MatchString(plug.Name()) {
		t.Errorf("name %q does not match %s", plug.Name(), nameRe)
	}
	if !semverRe.MatchString(plug.Version()) {
		t.Errorf("version %q is not semver", plug.Version())
	}
	if plug.Description() == "" || plug.Contact() == "" {
		t.Errorf("description %q / contact %q must not be empty", plug.Description(), plug.Contact())
	}
	if plug.Has("plugin_open") {
		if plug.ID() == 0 {
			t.Error("a source plugin must have a non-zero id")
		}
		if src := plug.EventSource(); !sourceRe.MatchString(src) {
			t.Errorf("event source %q does not match %s", src, sourceRe)
		}
	}
	if es := plug.ExtractSources(); es != "" {
		var list []string
		if err := json.Unmarshal([]byte(es), &list); err != nil {
			t.Errorf("extract event sources %q: %v", es, err)
		}
		for _, s := range list {
			if !sourceRe.MatchString(s) {
				t.Errorf("extract source %q does not match %s", s, sourceRe)
			}
		}
	}
	want := map[string]string{"name": "docker", "source": "docker", "version": "0.5.0", "api": "3.11.0", "extract": `["docker"]`}
	got := map[string]string{"name": plug.Name(), "source": plug.EventSource(), "version": plug.Version(), "api": v, "extract": plug.ExtractSources()}
	for k := range want {
		if want[k] != got[k] {
			t.Errorf("%s = %q, want %q", k, got[k], want[k])
		}
	}
	if plug.ID() != 5 {
		t.Errorf("id = %d, want 5 (the registry's docker plugin id)", plug.ID())
	}
}

func TestFieldsJSON(t *testing.T) {
	needDocker(t)
	fields, err := plug.Fields()
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) == 0 {
		t.Fatal("no fields")
	}
	seen := map[string]bool{}
	types := map[string]bool{"string": true, "uint64": true, "reltime": true, "abstime": true, "bool": true, "ipaddr": true, "ipnet": true}
	for _, f := range fields {
		if !fieldRe.MatchString(f.Name) {
			t.Errorf("field %q does not match %s", f.Name, fieldRe)
		}
		if seen[f.Name] {
			t.Errorf("field %q declared twice", f.Name)
		}
		seen[f.Name] = true
		if !types[f.Type] {
			t.Errorf("field %s: unknown type %q", f.Name, f.Type)
		}
		if f.Desc == "" {
			t.Errorf("field %s has no description", f.Name)
		}
		if !strings.HasPrefix(f.Name, "docker.") {
			t.Errorf("field %s is outside the docker. class", f.Name)
		}
		if f.Display == "" {
			t.Errorf("field %s has no display name", f.Name)
		}
	}
	// The registry plugin's fields, same names, all strings, plus actor.id.
	for _, n := range strings.Fields(`docker.status docker.id docker.from docker.type docker.action docker.stack.namespace docker.node.id
		docker.swarm.task docker.swarm.taskid docker.swarm.taskname docker.swarm.servicename docker.node.statenew
		docker.node.stateold docker.attributes.container docker.attributes.image docker.attributes.name
		docker.attributes.type docker.attributes.exitcode docker.attributes.signal docker.scope docker.actor.id`) {
		found := false
		for _, f := range fields {
			if f.Name == n {
				found = true
				if f.Type != "string" {
					t.Errorf("%s has type %s, the registry plugin's is string", n, f.Type)
				}
			}
		}
		if !found {
			t.Errorf("registry-compatible field %s is missing", n)
		}
	}
}

func TestInitSchema(t *testing.T) {
	needDocker(t)
	s, typ := plug.InitSchema()
	if typ != 1 {
		t.Fatalf("schema type %d, want 1 (JSON)", typ)
	}
	var schema struct {
		Type       string                    `json:"type"`
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(s), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v\n%s", err, s)
	}
	if schema.Type != "object" || len(schema.Properties) == 0 {
		t.Fatalf("schema should describe an object with properties: %s", s)
	}
	for k, p := range schema.Properties {
		for _, a := range []string{"title", "description", "default", "examples"} {
			if _, ok := p[a]; !ok {
				t.Errorf("schema property %s has no %s", k, a)
			}
		}
	}
}

func TestInitConfigs(t *testing.T) {
	needDocker(t)
	good := []string{"", "   ", "{}", `{"batchSize":16}`, `{"maxEventSize":4096,"waitMs":0,"logLevel":"info"}`,
		`{"filters":{"type":["container"],"event":["exec_create"]}}`}
	for _, cfg := range good {
		s, rc := plug.Init(cfg)
		if rc != harness.Success {
			t.Errorf("init(%q) failed: %s", cfg, plug.LastError(s))
		} else if e := plug.LastError(s); e != "" {
			t.Errorf("init(%q): last error %q after success, want empty", cfg, e)
		}
		plug.Destroy(s)
	}
	bad := map[string]string{
		"not json":                           "not valid JSON",
		"[]":                                 "must be a JSON object",
		"null":                               "null",
		`"x"`:                                "must be a JSON object",
		`{"batchSize":"10"}`:                 `"batchSize"`,
		`{"batchSize":-1}`:                   "out of range",
		`{"batchSize":1e30}`:                 `"batchSize"`,
		`{"batchsize":10}`:                   `did you mean "batchSize"`,
		`{"maxEventSise":10}`:                `did you mean "maxEventSize"`,
		`{"logLevel":"loud"}`:                "not one of",
		`{"filters":{"typo":["x"]}}`:         `unknown filter "typo"`,
		`{"filters":{"type":["cheese"]}}`:    "not an event type",
		`{"pprofAddr":"0.0.0.0:6060"}`:       "loopback",
		`{} trailing`:                        "trailing",
		strings.Repeat("\x01garbage", 1<<17): "not valid JSON",
	}
	for cfg, want := range bad {
		s, rc := plug.Init(cfg)
		msg := plug.LastError(s)
		plug.Destroy(s)
		name := cfg
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		if rc != harness.Failure {
			t.Errorf("init(%q) rc=%d, want failure", name, rc)
			continue
		}
		if !strings.Contains(msg, want) {
			t.Errorf("init(%q) last error %q, want it to mention %q", name, msg, want)
		}
	}
}

// TestForbiddenImports enforces the design: the C ABI is exported through
// plugin-sdk-go's low-level symbol packages only.
func TestForbiddenImports(t *testing.T) {
	needDocker(t)
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./...")
	cmd.Dir = modRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// The high-level SDK tree (plugins, plugins/source, plugins/extractor
	// and anything below), matched by prefix; spelt in two parts so that a
	// text search for the import path finds only real imports.
	const sdk = "github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
	forbidden := func(dep string) bool {
		return dep == sdk+"/plugins" || strings.HasPrefix(dep, sdk+"/plugins/")
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned too little to be trusted: %v", deps)
	}
	for _, d := range deps {
		if forbidden(d) {
			t.Errorf("a package of the module depends on %s", d)
		}
	}
	// And the plugin build itself.
	cmd = exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./plugin")
	cmd.Dir = modRoot
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "plugin-sdk-go/pkg/sdk/symbols/initialize") {
		t.Fatalf("./plugin should depend on the SDK's symbol packages:\n%s", out)
	}
	for _, d := range strings.Fields(string(out)) {
		if forbidden(d) {
			t.Errorf("./plugin depends on %s", d)
		}
	}
}

func TestLastErrorWithoutFailure(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	// Falco only asks after a failure, but a host asking early must get an
	// empty string, not a crash.
	if e := plug.LastError(s); e != "" {
		t.Errorf("last error = %q, want empty", e)
	}
}

var _ = fmt.Sprint
