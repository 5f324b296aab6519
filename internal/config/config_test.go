package config

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// documented is the README's init config table: the contract these tests
// pin. It is written out by hand on purpose, so that a change of a default
// or a bound in the option table fails here until the README (and users)
// are told.
var documented = []struct {
	key      string
	field    string // Config field
	typ      string // JSON schema type
	def      any
	min, max int // integers only
}{
	{"batchSize", "BatchSize", "integer", 128, 1, 4096},
	{"maxEventSize", "MaxEventSize", "integer", 65536, 1024, 16777216},
	{"waitMs", "WaitMs", "integer", 5, 0, 1000},
	{"queueSize", "QueueSize", "integer", 4096, 16, 1048576},
	{"reconnectMinMs", "ReconnectMinMs", "integer", 100, 1, 600000},
	{"reconnectMaxMs", "ReconnectMaxMs", "integer", 30000, 1, 3600000},
	{"stallTimeoutMs", "StallTimeoutMs", "integer", 30000, 100, 3600000},
	{"containerContext", "ContainerContext", "boolean", true, 0, 0},
	{"inspectTimeoutMs", "InspectTimeoutMs", "integer", 2000, 10, 60000},
	{"inspectConcurrency", "InspectConcurrency", "integer", 4, 1, 64},
	{"containerCacheSize", "ContainerCacheSize", "integer", 4096, 16, 1048576},
	{"failFast", "FailFast", "boolean", false, 0, 0},
	{"allowInsecureTcp", "AllowInsecureTCP", "boolean", false, 0, 0},
	{"filters", "Filters", "object", map[string][]string{}, 0, 0},
	{"pprofAddr", "PprofAddr", "string", "", 0, 0},
	{"logLevel", "LogLevel", "string", "warning", 0, 0},
}

// field returns the value of Config field name.
func field(c Config, name string) any {
	return reflect.ValueOf(c).FieldByName(name).Interface()
}

func mustParse(t *testing.T, s string) Config {
	t.Helper()
	c, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%.200q): %v", s, err)
	}
	return c
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", " ", "\n\t \r\n", "{}", " { } ", "{\n}\n"} {
		c, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Parse(%q) = %+v, want Default() %+v", in, c, Default())
		}
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, "")
	for _, d := range documented {
		if got := field(c, d.field); !reflect.DeepEqual(got, d.def) {
			t.Errorf("default %s (%s) = %#v, README says %#v", d.key, d.field, got, d.def)
		}
	}
	if c.Filters == nil {
		t.Error("default Filters is nil; want an empty, non-nil map")
	}
	// Default hands out a fresh map: a caller adding a filter must not
	// change the next Default().
	c.Filters["type"] = []string{"container"}
	if len(Default().Filters) != 0 {
		t.Error("Default() shares its Filters map between calls")
	}
}

// withKey builds an init config of key:value plus extra members.
func withKey(key, value, extra string) string {
	s := `{"` + key + `":` + value
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestIntBounds(t *testing.T) {
	for _, d := range documented {
		if d.typ != "integer" {
			continue
		}
		// reconnectMaxMs >= reconnectMinMs must hold at the bounds too.
		extra := ""
		switch d.key {
		case "reconnectMinMs":
			extra = `"reconnectMaxMs":3600000`
		case "reconnectMaxMs":
			extra = `"reconnectMinMs":1`
		}
		for _, n := range []int{d.min, d.max, (d.min + d.max) / 2} {
			c, err := Parse(withKey(d.key, strconv.Itoa(n), extra))
			if err != nil {
				t.Errorf("%s=%d (in range): %v", d.key, n, err)
				continue
			}
			if got := field(c, d.field); got != n {
				t.Errorf("%s=%d: field %s = %v", d.key, n, d.field, got)
			}
		}
		for _, n := range []int64{int64(d.min) - 1, int64(d.max) + 1, -1, -1 << 31, 1 << 40, -9223372036854775808, 9223372036854775807} {
			if n >= int64(d.min) && n <= int64(d.max) {
				continue
			}
			in := withKey(d.key, strconv.FormatInt(n, 10), extra)
			_, err := Parse(in)
			if err == nil {
				t.Errorf("Parse(%s) accepted an out-of-range value", in)
				continue
			}
			for _, want := range []string{`"` + d.key + `"`, "out of range", strconv.Itoa(d.min), strconv.Itoa(d.max)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Parse(%s) error %q does not mention %s", in, err, want)
				}
			}
		}
	}
}

func TestParseAccepted(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want func(c *Config) // applied to Default()
	}{
		{"all keys", `{"batchSize":512,"maxEventSize":262144,"waitMs":20,"queueSize":65536,"reconnectMinMs":500,"reconnectMaxMs":5000,"stallTimeoutMs":60000,"containerContext":false,"inspectTimeoutMs":500,"inspectConcurrency":16,"containerCacheSize":65536,"failFast":true,"allowInsecureTcp":true,"filters":{"type":["container","image"],"label":["env=prod"]},"pprofAddr":"127.0.0.1:6061","logLevel":"debug"}`,
			func(c *Config) {
				*c = Config{BatchSize: 512, MaxEventSize: 262144, WaitMs: 20, QueueSize: 65536, ReconnectMinMs: 500, ReconnectMaxMs: 5000, StallTimeoutMs: 60000,
					ContainerContext: false, InspectTimeoutMs: 500, InspectConcurrency: 16, ContainerCacheSize: 65536,
					FailFast: true, AllowInsecureTCP: true, Filters: map[string][]string{"type": {"container", "image"}, "label": {"env=prod"}},
					PprofAddr: "127.0.0.1:6061", LogLevel: "debug"}
			}},
		{"README example", `{"batchSize": 128, "logLevel": "warning"}`, func(c *Config) {}},
		{"whitespace everywhere", "\n {\t\"batchSize\" :\r\n 7 , \"failFast\"\n:\ntrue }\n ", func(c *Config) { c.BatchSize, c.FailFast = 7, true }},
		{"negative zero is zero", `{"waitMs":-0}`, func(c *Config) { c.WaitMs = 0 }},
		{"explicit defaults", `{"failFast":false,"pprofAddr":"","filters":{}}`, func(c *Config) {}},
		{"duplicate key: last wins", `{"batchSize":1,"batchSize":2}`, func(c *Config) { c.BatchSize = 2 }},
		{"duplicate key: an invalid first value is overridden", `{"batchSize":"x","batchSize":3}`, func(c *Config) { c.BatchSize = 3 }},
		{"reconnect min == max", `{"reconnectMinMs":700,"reconnectMaxMs":700}`, func(c *Config) { c.ReconnectMinMs, c.ReconnectMaxMs = 700, 700 }},
		{"escaped key", `{"batch\u0053ize":9}`, func(c *Config) { c.BatchSize = 9 }},
		{"every filter key", `{"filters":{"config":["c"],"container":["web"],"daemon":["d"],"event":["die","oom"],"image":["alpine"],"label":["a=b","c"],"network":["n"],"node":["n1"],"plugin":["p"],"scope":["local"],"secret":["s"],"service":["svc"],"type":["builder","config","container","daemon","image","network","node","plugin","pod","secret","service","volume"],"volume":["v"]}}`,
			func(c *Config) {
				c.Filters = map[string][]string{"config": {"c"}, "container": {"web"}, "daemon": {"d"}, "event": {"die", "oom"}, "image": {"alpine"},
					"label": {"a=b", "c"}, "network": {"n"}, "node": {"n1"}, "plugin": {"p"}, "scope": {"local"}, "secret": {"s"}, "service": {"svc"},
					"type": {"builder", "config", "container", "daemon", "image", "network", "node", "plugin", "pod", "secret", "service", "volume"}, "volume": {"v"}}
			}},
		{"filter values keep order and duplicates", `{"filters":{"event":["stop","die","stop"]}}`, func(c *Config) { c.Filters = map[string][]string{"event": {"stop", "die", "stop"}} }},
		{"pprof [::1]", `{"pprofAddr":"[::1]:6061"}`, func(c *Config) { c.PprofAddr = "[::1]:6061" }},
		{"pprof localhost", `{"pprofAddr":"localhost:6061"}`, func(c *Config) { c.PprofAddr = "localhost:6061" }},
		{"pprof 127/8", `{"pprofAddr":"127.1.2.3:80"}`, func(c *Config) { c.PprofAddr = "127.1.2.3:80" }},
		{"pprof port 0", `{"pprofAddr":"127.0.0.1:0"}`, func(c *Config) { c.PprofAddr = "127.0.0.1:0" }},
		{"pprof unix socket", `{"pprofAddr":"unix:///run/falco/pprof.sock"}`, func(c *Config) { c.PprofAddr = "unix:///run/falco/pprof.sock" }},
	}
	for _, level := range []string{"error", "warning", "info", "debug"} {
		cases = append(cases, struct {
			name string
			in   string
			want func(c *Config)
		}{"logLevel " + level, `{"logLevel":"` + level + `"}`, func(c *Config) { c.LogLevel = level }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := Default()
			tc.want(&want)
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%s)\n got %+v\nwant %+v", tc.in, got, want)
			}
		})
	}
}

func TestParseRejected(t *testing.T) {
	cases := []struct {
		in   string
		want []string // substrings of the error, all required
	}{
		// Shape of the document.
		{`{`, []string{"not valid JSON"}},
		{`{"batchSize":1`, []string{"not valid JSON"}},
		{`{"batchSize":}`, []string{"not valid JSON"}},
		{`{'batchSize':1}`, []string{"not valid JSON"}},
		{`{batchSize:1}`, []string{"not valid JSON"}},
		{`{"batchSize":1,}`, []string{"not valid JSON"}},
		{`batchSize=1`, []string{"not valid JSON"}},
		{"\ufeff{}", []string{"not valid JSON"}},
		{`[]`, []string{"must be a JSON object", "array"}},
		{`[{"batchSize":1}]`, []string{"must be a JSON object", "array"}},
		{`1`, []string{"must be a JSON object", "number"}},
		{`-1.5e3`, []string{"must be a JSON object", "number"}},
		{`"batchSize"`, []string{"must be a JSON object", "string"}},
		{`true`, []string{"must be a JSON object", "bool"}},
		{`null`, []string{"must be a JSON object", "null"}},
		{` null `, []string{"must be a JSON object", "null"}},
		{`{} {}`, []string{"trailing data"}},
		{`{}x`, []string{"trailing data"}},
		{`{}1`, []string{"trailing data"}},
		{`{}]`, []string{"trailing data"}},
		{`{}}`, []string{"trailing data"}},
		{`{"batchSize":1} ]`, []string{"trailing data"}},
		{`{}"`, []string{"trailing data"}},

		// Wrong types.
		{`{"batchSize":"10"}`, []string{`"batchSize"`, "expected an integer", "string"}},
		{`{"batchSize":""}`, []string{`"batchSize"`, "expected an integer"}},
		{`{"batchSize":10.5}`, []string{`"batchSize"`, "expected an integer", "10.5"}},
		{`{"batchSize":10.0}`, []string{`"batchSize"`, "expected an integer", "10.0"}},
		{`{"batchSize":1e2}`, []string{`"batchSize"`, "expected an integer", "1e2"}},
		{`{"batchSize":99999999999999999999}`, []string{`"batchSize"`, "99999999999999999999"}},
		{`{"batchSize":true}`, []string{`"batchSize"`, "expected an integer", "boolean"}},
		{`{"batchSize":null}`, []string{`"batchSize"`, "expected an integer", "null"}},
		{`{"batchSize":[1]}`, []string{`"batchSize"`, "expected an integer", "array"}},
		{`{"batchSize":{}}`, []string{`"batchSize"`, "expected an integer", "object"}},
		{`{"waitMs":"5"}`, []string{`"waitMs"`, "expected an integer"}},
		{`{"failFast":1}`, []string{`"failFast"`, "expected true or false", "number"}},
		{`{"failFast":0}`, []string{`"failFast"`, "expected true or false"}},
		{`{"failFast":"true"}`, []string{`"failFast"`, "expected true or false", "string"}},
		{`{"failFast":null}`, []string{`"failFast"`, "expected true or false", "null"}},
		{`{"allowInsecureTcp":"yes"}`, []string{`"allowInsecureTcp"`, "expected true or false"}},
		{`{"logLevel":1}`, []string{`"logLevel"`, "expected a string", "number"}},
		{`{"logLevel":null}`, []string{`"logLevel"`, "expected a string", "null"}},
		{`{"logLevel":["info"]}`, []string{`"logLevel"`, "expected a string", "array"}},
		{`{"pprofAddr":6061}`, []string{`"pprofAddr"`, "expected a string"}},
		{`{"pprofAddr":null}`, []string{`"pprofAddr"`, "expected a string", "null"}},
		{`{"pprofAddr":false}`, []string{`"pprofAddr"`, "expected a string"}},

		// logLevel enum: exact, lower case.
		{`{"logLevel":"WARNING"}`, []string{`"logLevel"`, `"WARNING"`, "error, warning, info, debug"}},
		{`{"logLevel":"warn"}`, []string{`"logLevel"`, `"warn"`, "error, warning, info, debug"}},
		{`{"logLevel":"trace"}`, []string{`"logLevel"`, `"trace"`}},
		{`{"logLevel":""}`, []string{`"logLevel"`, "not one of"}},
		{`{"logLevel":" info"}`, []string{`"logLevel"`, "not one of"}},

		// Cross-field.
		{`{"reconnectMaxMs":50}`, []string{"reconnectMaxMs", "reconnectMinMs", "50", "100"}},
		{`{"reconnectMinMs":40000}`, []string{"reconnectMaxMs", "reconnectMinMs", "40000", "30000"}},
		{`{"reconnectMinMs":600000,"reconnectMaxMs":599999}`, []string{"reconnectMaxMs", "reconnectMinMs"}},

		// pprofAddr: loopback host:port only.
		{`{"pprofAddr":"0.0.0.0:6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":":6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":"10.1.2.3:6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":"[::]:6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":"[fe80::1]:6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":"example.com:6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":"localhost.example.com:6061"}`, []string{`"pprofAddr"`, "not a loopback address"}},
		{`{"pprofAddr":"127.0.0.1"}`, []string{`"pprofAddr"`, "not host:port"}},
		{`{"pprofAddr":"unix://pprof.sock"}`, []string{`"pprofAddr"`, "must be absolute"}},
		{`{"pprofAddr":"unix://"}`, []string{`"pprofAddr"`, "must be absolute"}},
		{`{"pprofAddr":"unix:///` + strings.Repeat("d", 120) + `"}`, []string{`"pprofAddr"`, "longer than the 107"}},
		{`{"pprofAddr":"unix:///a\u0000b"}`, []string{`"pprofAddr"`, "NUL"}},
		{`{"pprofAddr":"::1:6061"}`, []string{`"pprofAddr"`, "not host:port"}},
		{`{"pprofAddr":"127.0.0.1:"}`, []string{`"pprofAddr"`, "no port"}},
		{`{"pprofAddr":"127.0.0.1:http"}`, []string{`"pprofAddr"`, "numeric"}},
		{`{"pprofAddr":"127.0.0.1:-1"}`, []string{`"pprofAddr"`, "numeric"}},
		{`{"pprofAddr":" "}`, []string{`"pprofAddr"`}},

		// Filters.
		{`{"filters":[]}`, []string{`"filters"`, "expected an object", "array"}},
		{`{"filters":null}`, []string{`"filters"`, "expected an object", "null"}},
		{`{"filters":"type=container"}`, []string{`"filters"`, "expected an object", "string"}},
		{`{"filters":{"typ":["container"]}}`, []string{`"filters"`, `unknown filter "typ"`, `did you mean "type"`}},
		{`{"filters":{"Type":["container"]}}`, []string{`"filters"`, `unknown filter "Type"`, `did you mean "type"`}},
		{`{"filters":{"labels":["a=b"]}}`, []string{`"filters"`, `unknown filter "labels"`, `did you mean "label"`}},
		{`{"filters":{"until":["1h"]}}`, []string{`"filters"`, `unknown filter "until"`}},
		{`{"filters":{"type":"container"}}`, []string{`"filters"`, `filter "type"`, "expected a list of strings", "string"}},
		{`{"filters":{"type":null}}`, []string{`"filters"`, `filter "type"`, "expected a list of strings"}},
		{`{"filters":{"event":{"die":true}}}`, []string{`"filters"`, `filter "event"`, "expected a list of strings", "object"}},
		{`{"filters":{"event":[1]}}`, []string{`"filters"`, `filter "event"`, "expected a list of strings"}},
		{`{"filters":{"event":[["die"]]}}`, []string{`"filters"`, `filter "event"`, "expected a list of strings"}},
		{`{"filters":{"event":[]}}`, []string{`"filters"`, `filter "event"`, "empty list"}},
		{`{"filters":{"event":[""]}}`, []string{`"filters"`, `filter "event"`, "empty value"}},
		{`{"filters":{"event":["die","  "]}}`, []string{`"filters"`, `filter "event"`, "empty value"}},
		{`{"filters":{"event":[null]}}`, []string{`"filters"`, `filter "event"`, "empty value"}},
		{`{"filters":{"type":["containers"]}}`, []string{`"filters"`, `"containers" is not an event type`, "container"}},
		{`{"filters":{"type":["Container"]}}`, []string{`"filters"`, `"Container" is not an event type`}},
		{`{"filters":{"type":["container","bogus"]}}`, []string{`"filters"`, `"bogus" is not an event type`}},
	}
	for _, tc := range cases {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%s) accepted", tc.in)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "init config: ") {
			t.Errorf("Parse(%s) error %q does not start with \"init config: \"", tc.in, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("Parse(%s) error %q does not contain %q", tc.in, msg, w)
			}
		}
		// A message always says what it got: no dangling "got " at the end.
		if strings.HasSuffix(strings.TrimSpace(msg), "got") {
			t.Errorf("Parse(%s) error %q ends without saying what it got", tc.in, msg)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	cases := []struct {
		key     string
		suggest string // "" when no suggestion is expected
	}{
		{"batchsize", "batchSize"},
		{"BatchSize", "batchSize"},
		{"batch_size", "batchSize"},
		{"batchSiz", "batchSize"},
		{"maxEventsize", "maxEventSize"},
		{"maxEventSizes", "maxEventSize"},
		{"waitms", "waitMs"},
		{"wait", "waitMs"},
		{"queuesize", "queueSize"},
		{"reconnectMinMS", "reconnectMinMs"},
		{"reconnectMax", "reconnectMaxMs"},
		{"failfast", "failFast"},
		{"allowInsecureTCP", "allowInsecureTcp"},
		{"filter", "filters"},
		{"pprofaddr", "pprofAddr"},
		{"pprof_addr", "pprofAddr"},
		{"loglevel", "logLevel"},
		{"log_level", "logLevel"},
		{"LogLevel", "logLevel"},
		{"x", ""},
		{"hostname", ""},
		{"", ""},
		{"dockerHost", ""},
		{strings.Repeat("batchSize", 20), ""},
	}
	for _, tc := range cases {
		in := `{` + strconv.Quote(tc.key) + `:1}`
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%s) accepted an unknown key", in)
			continue
		}
		msg := err.Error()
		shown := tc.key
		if len(shown) > 64 {
			shown = shown[:64]
		}
		if !strings.Contains(msg, "unknown key "+strconv.Quote(shown)[:len(strconv.Quote(shown))-1]) {
			t.Errorf("unknown key %q: error %q does not name it", tc.key, msg)
		}
		if tc.suggest != "" && !strings.Contains(msg, "did you mean "+strconv.Quote(tc.suggest)+"?") {
			t.Errorf("unknown key %q: error %q does not suggest %q", tc.key, msg, tc.suggest)
		}
		if tc.suggest == "" && strings.Contains(msg, "did you mean") {
			t.Errorf("unknown key %q: error %q suggests something far-fetched", tc.key, msg)
		}
		for _, d := range documented {
			if !strings.Contains(msg, d.key) {
				t.Errorf("unknown key %q: error %q does not list valid key %s", tc.key, msg, d.key)
			}
		}
		if len(msg) > 512 {
			t.Errorf("unknown key error is %d bytes long", len(msg))
		}
	}
	// A valid key next to an unknown one does not hide the unknown one.
	if _, err := Parse(`{"batchSize":10,"zzz":1}`); err == nil || !strings.Contains(err.Error(), `"zzz"`) {
		t.Errorf("unknown key after a valid one: %v", err)
	}
}

// Garbage and oversized input: an error that starts like every other, no
// panic, and an error message that does not echo megabytes back.
func TestParseGarbage(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	garbage := make([]byte, 1<<20)
	rnd.Read(garbage)
	printable := make([]byte, 1<<20)
	for i := range printable {
		printable[i] = byte(' ' + rnd.Intn(95))
	}
	big := strings.Repeat("a", 1<<20)
	cases := []struct {
		name      string
		in        string
		shortMsg  bool // the error must stay short
		mayAccept bool
	}{
		{"1 MiB random bytes", string(garbage), true, false},
		{"1 MiB printable", string(printable), true, false},
		{"1 MiB of {", strings.Repeat("{", 1<<20), true, false},
		{"1 MiB of [", strings.Repeat("[", 1<<20), true, false},
		{"1 MiB nested filters", `{"filters":` + strings.Repeat(`{"a":`, 1<<17), true, false},
		{"1 MiB unknown key", `{"` + big + `":1}`, true, false},
		{"1 MiB number", `{"batchSize":` + strings.Repeat("9", 1<<20) + `}`, true, false},
		{"1 MiB whitespace then {}", strings.Repeat(" ", 1<<20) + "{}", true, true},
		{"1 MiB of NUL", strings.Repeat("\x00", 1<<20), true, false},
		{"many unknown keys", "{" + strings.Repeat(`"k":1,`, 1<<16) + `"k":1}`, true, false},
		{"1 MiB string value", `{"logLevel":"` + big + `"}`, false, false},
		{"1 MiB filter list", `{"filters":{"event":[` + strings.Repeat(`"die",`, 1<<17) + `"x"]}}`, true, true},
	}
	for _, tc := range cases {
		c, err := Parse(tc.in)
		if err == nil {
			if !tc.mayAccept {
				t.Errorf("%s: accepted", tc.name)
			}
			checkInvariants(t, tc.in, c)
			continue
		}
		if !strings.HasPrefix(err.Error(), "init config: ") {
			t.Errorf("%s: error %.200q", tc.name, err)
		}
		if tc.shortMsg && len(err.Error()) > 512 {
			t.Errorf("%s: error message is %d bytes: %.200q...", tc.name, len(err.Error()), err)
		}
	}
}

func TestConfigFieldsHaveOptions(t *testing.T) {
	typ := reflect.TypeOf(Config{})
	keys := Keys()
	if typ.NumField() != len(keys) {
		t.Errorf("Config has %d fields, the option table %d keys", typ.NumField(), len(keys))
	}
	if len(documented) != len(keys) {
		t.Errorf("README documents %d keys, the option table has %d", len(documented), len(keys))
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		n := 0
		for _, k := range keys {
			if strings.EqualFold(k, f.Name) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Config.%s: %d options with that name (want exactly 1)", f.Name, n)
		}
	}
	for i, k := range keys {
		if i < len(documented) && documented[i].key != k {
			t.Errorf("key %d is %q; README order has %q", i, k, documented[i].key)
		}
	}
}

// Each option sets its own field and no other: a non-default value of key k
// changes exactly the field documented for k.
func TestOptionsSetTheirField(t *testing.T) {
	values := map[string]string{
		"batchSize": "7", "maxEventSize": "2048", "waitMs": "0", "queueSize": "17",
		"reconnectMinMs": "2", "reconnectMaxMs": "99999", "stallTimeoutMs": "250", "failFast": "true", "allowInsecureTcp": "true",
		"containerContext": "false", "inspectTimeoutMs": "10", "inspectConcurrency": "64", "containerCacheSize": "16",
		"filters": `{"event":["die"]}`, "pprofAddr": `"127.0.0.1:1"`, "logLevel": `"debug"`,
	}
	def := Default()
	for _, d := range documented {
		v, ok := values[d.key]
		if !ok {
			t.Errorf("no test value for %s", d.key)
			continue
		}
		c := mustParse(t, withKey(d.key, v, ""))
		var want any
		if err := json.Unmarshal([]byte(v), &want); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(field(c, d.field))
		wantJSON, _ := json.Marshal(want)
		if string(got) != string(wantJSON) {
			t.Errorf("%s=%s: %s = %s", d.key, v, d.field, got)
		}
		typ := reflect.TypeOf(c)
		for i := 0; i < typ.NumField(); i++ {
			name := typ.Field(i).Name
			if name == d.field {
				continue
			}
			if !reflect.DeepEqual(field(c, name), field(def, name)) {
				t.Errorf("%s=%s also changed %s", d.key, v, name)
			}
		}
	}
}

func TestCheckLoopbackAddr(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6061", true},
		{"127.255.255.254:1", true},
		{"[::1]:6061", true},
		{"localhost:6061", true},
		{"[::ffff:127.0.0.1]:6061", true}, // IPv4-mapped loopback
		{"0.0.0.0:6061", false},
		{"[::]:6061", false},
		{"192.168.1.10:6061", false},
		{"LOCALHOST:6061", false}, // only the literal name is trusted
		{"localhost", false},
		{"", false},
		{":", false},
		{"127.0.0.1:", false},
		{"127.0.0.1:+80", false},
		{"127.0.0.1:0x50", false},
		{"[127.0.0.1]:80", true}, // brackets are allowed around any host by SplitHostPort
		{"[::1%lo]:80", false},
	}
	for _, tc := range cases {
		err := CheckLoopbackAddr(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("CheckLoopbackAddr(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

func TestClosest(t *testing.T) {
	cands := []string{"type", "label", "event", "image"}
	cases := []struct{ in, want string }{
		{"type", "type"}, {"TYPE", "type"}, {"typ", "type"}, {"tpye", "type"}, {"labels", "label"},
		{"events", "event"}, {"img", "image"}, {"zzzzzzzzzz", ""}, {"", ""}, {strings.Repeat("a", 65), ""},
	}
	for _, tc := range cases {
		if got := closest(tc.in, cands); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	dist := []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"same", "same", 0}, {"ab", "ba", 2}}
	for _, tc := range dist {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

// checkInvariants verifies a configuration Parse accepted: every bound, the
// enums, the filter rules and the cross-field rule, checked against the
// README's table rather than the option table. It also re-encodes the
// config and parses it again: the result must be identical.
func checkInvariants(t *testing.T, in string, c Config) {
	t.Helper()
	for _, d := range documented {
		if d.typ != "integer" {
			continue
		}
		n := field(c, d.field).(int)
		if n < d.min || n > d.max {
			t.Fatalf("Parse(%.200q) accepted %s=%d outside [%d, %d]", in, d.key, n, d.min, d.max)
		}
	}
	if c.ReconnectMaxMs < c.ReconnectMinMs {
		t.Fatalf("Parse(%.200q) accepted reconnectMaxMs %d < reconnectMinMs %d", in, c.ReconnectMaxMs, c.ReconnectMinMs)
	}
	switch c.LogLevel {
	case "error", "warning", "info", "debug":
	default:
		t.Fatalf("Parse(%.200q) accepted logLevel %q", in, c.LogLevel)
	}
	if c.PprofAddr != "" && CheckLoopbackAddr(c.PprofAddr) != nil {
		t.Fatalf("Parse(%.200q) accepted pprofAddr %q", in, c.PprofAddr)
	}
	if c.Filters == nil {
		t.Fatalf("Parse(%.200q): nil Filters", in)
	}
	for k, vals := range c.Filters {
		if !contains(FilterKeys, k) {
			t.Fatalf("Parse(%.200q) accepted filter key %q", in, k)
		}
		if len(vals) == 0 {
			t.Fatalf("Parse(%.200q) accepted an empty filter list for %q", in, k)
		}
		for _, v := range vals {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("Parse(%.200q) accepted an empty value for filter %q", in, k)
			}
			if k == "type" && !contains(FilterTypes, v) {
				t.Fatalf("Parse(%.200q) accepted type filter %q", in, v)
			}
		}
	}
	m := map[string]any{}
	for _, d := range documented {
		m[d.key] = field(c, d.field)
	}
	enc, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(string(enc))
	if err != nil {
		t.Fatalf("Parse(%.200q) accepted, but its re-encoding %.200s is refused: %v", in, enc, err)
	}
	if !reflect.DeepEqual(again, c) {
		t.Fatalf("Parse(%.200q) = %+v; re-encoded and parsed again: %+v", in, c, again)
	}
}

var fuzzSeeds = []string{
	"", "{}", "  ", "null", "[]", "1", `"x"`, "{", "{}]", "{}}", "{} {}",
	`{"batchSize":128,"logLevel":"warning"}`,
	`{"batchSize":512,"maxEventSize":262144,"waitMs":20,"queueSize":65536,"reconnectMinMs":500,"reconnectMaxMs":5000,"failFast":true,"allowInsecureTcp":true,"filters":{"type":["container","image"],"label":["env=prod"]},"pprofAddr":"127.0.0.1:6061","logLevel":"debug"}`,
	`{"batchSize":0}`, `{"batchSize":4097}`, `{"batchSize":4096}`, `{"batchSize":"10"}`, `{"batchSize":null}`, `{"batchSize":1e2}`,
	`{"batchSize":-9223372036854775808}`, `{"batchSize":99999999999999999999}`, `{"batchsize":1}`, `{"batchSize":1,"batchSize":2}`,
	`{"reconnectMinMs":600000,"reconnectMaxMs":3600000}`, `{"reconnectMaxMs":50}`,
	`{"failFast":1}`, `{"logLevel":"WARNING"}`, `{"pprofAddr":"0.0.0.0:6061"}`, `{"pprofAddr":"[::1]:6061"}`,
	`{"filters":{"typ":["x"]}}`, `{"filters":{"type":["containers"]}}`, `{"filters":{"event":[]}}`, `{"filters":{"event":[" "]}}`,
	`{"filters":[]}`, `{"filters":{"label":["a=b","c"]}}`, `{"batch\u0053ize":9}`,
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "init config: ") {
				t.Fatalf("Parse(%.200q) error %q lacks the \"init config: \" prefix", s, err)
			}
			return
		}
		if strings.TrimSpace(s) != "" && !json.Valid([]byte(s)) {
			t.Fatalf("Parse accepts %.200q, which is not valid JSON", s)
		}
		checkInvariants(t, s, c)
		validateAgainstSchema(t, s)
	})
}

// TestErrorsClipUserValues: an error quotes at most 64 bytes of a value the
// user wrote, whatever the check that refused it, so a pasted blob (or a
// wrong file given as config) never becomes a log line of its size.
func TestErrorsClipUserValues(t *testing.T) {
	long := strings.Repeat("x", 5000)
	cases := []string{
		`{"` + long + `":1}`,                            // unknown key
		`{"logLevel":"` + long + `"}`,                   // not in the enum
		`{"filters":{"` + long + `":["a"]}}`,            // unknown filter
		`{"filters":{"type":["` + long + `"]}}`,         // not an event type
		`{"pprofAddr":"` + long + `"}`,                  // not host:port
		`{"pprofAddr":"` + long + `:"}`,                 // no port
		`{"pprofAddr":"127.0.0.1:` + long + `"}`,        // port not numeric
		`{"pprofAddr":"` + long + `.example.com:6061"}`, // not loopback
		`{"batchSize":"` + long + `"}`,                  // wrong type
	}
	for _, in := range cases {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%.80s...) accepted", in)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, long[:65]) || len(msg) > 1000 {
			t.Errorf("Parse(%.80s...): error of %d bytes repeats the value: %.200s...", in, len(msg), msg)
		}
		if !strings.Contains(msg, long[:30]) || !strings.Contains(msg, "...") {
			t.Errorf("Parse(%.80s...): error does not show the value's start: %s", in, msg)
		}
	}
}
