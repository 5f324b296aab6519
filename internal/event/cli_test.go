package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// inZone runs f with time.Local set to loc (the CLI prints local time).
func inZone(t *testing.T, loc *time.Location, f func()) {
	t.Helper()
	saved := time.Local
	time.Local = loc
	defer func() { time.Local = saved }()
	f()
}

func TestAppendCLI(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		fallback uint64
		want     string
	}{
		{"die, attributes sorted by key", `{"Type":"container","Action":"die","Actor":{"ID":"e327f1fa52a9","Attributes":{"name":"x","image":"alpine","exitCode":"137"}},"scope":"local","time":1714561136,"timeNano":1714561136370816183}`, 0,
			"2024-05-01T10:58:56.370816183Z container die e327f1fa52a9 (exitCode=137, image=alpine, name=x)"},
		{"pre-1.52 shape prints the same", `{"status":"die","id":"e327f1fa52a9","from":"alpine","Type":"container","Action":"die","Actor":{"ID":"e327f1fa52a9","Attributes":{"name":"x","image":"alpine","exitCode":"137"}},"scope":"local","time":1714561136,"timeNano":1714561136370816183}`, 0,
			"2024-05-01T10:58:56.370816183Z container die e327f1fa52a9 (exitCode=137, image=alpine, name=x)"},
		{"time in seconds only: nine zero digits", `{"Type":"network","Action":"create","Actor":{"ID":"n1","Attributes":{"name":"net","type":"bridge"}},"time":1714561136}`, 0,
			"2024-05-01T10:58:56.000000000Z network create n1 (name=net, type=bridge)"},
		{"short fractions are zero padded", `{"Type":"volume","Action":"create","Actor":{"ID":"v"},"timeNano":1714561136000000050}`, 0,
			"2024-05-01T10:58:56.000000050Z volume create v"},
		{"no attributes: no parentheses", `{"Type":"image","Action":"pull","Actor":{"ID":"alpine:latest","Attributes":{}},"timeNano":1714561136000000000}`, 0,
			"2024-05-01T10:58:56.000000000Z image pull alpine:latest"},
		{"action with arguments printed as sent", `{"Type":"container","Action":"exec_create: sh -c id","Actor":{"ID":"c","Attributes":{"execID":"x"}},"timeNano":1714561136000000000}`, 0,
			"2024-05-01T10:58:56.000000000Z container exec_create: sh -c id c (execID=x)"},
		{"Podman's verbs are not rewritten (a recorded exec)", podmanExec, 0,
			"2026-11-30T18:42:34.190639713Z container exec 03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6 (containerExitCode=0, falco-docker-plugin-test=000recorded0, image=docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338, name=fdp-c-000recorded0, podId=)"},
		{"byte order of keys (upper case, dots, underscores)", `{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"b":"2","a_b":"4","a.b":"3","a":"1","Z":"0","com.docker.compose.project":"p"}},"timeNano":1714561136000000000}`, 0,
			"2024-05-01T10:58:56.000000000Z container start c (Z=0, a=1, a.b=3, a_b=4, b=2, com.docker.compose.project=p)"},
		{"empty values and unescaped strings", `{"Type":"volume","Action":"mount","Actor":{"ID":"pg","Attributes":{"propagation":"","destination":"\/data","note":"a \"q\""}},"timeNano":1714561136000000000}`, 0,
			`2024-05-01T10:58:56.000000000Z volume mount pg (destination=/data, note=a "q", propagation=)`},
		{"empty actor id", `{"Type":"builder","Action":"prune","Actor":{"ID":"","Attributes":{"reclaimed":"0"}},"timeNano":1714561136000000000}`, 0,
			"2024-05-01T10:58:56.000000000Z builder prune  (reclaimed=0)"},
		{"no time: the fallback", `{"Type":"container","Action":"start","Actor":{"ID":"c"}}`, 1714561136000000001,
			"2024-05-01T10:58:56.000000001Z container start c"},
		{"malformed", `{"Type":"container"`, 1714561136000000001,
			"2024-05-01T10:58:56.000000001Z <malformed event>"},
		{"empty", ``, 0, "1970-01-01T00:00:00.000000000Z <malformed event>"},
	}
	inZone(t, time.UTC, func() {
		var e Event
		var scratch []Attr
		for _, tc := range cases {
			e.Parse([]byte(tc.in))
			var got []byte
			got, scratch = e.AppendCLI(got, tc.fallback, scratch)
			if string(got) != tc.want {
				t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
			}
			// The CLI's own rendering agrees whenever the message has a time.
			if ref, ok := refDecode([]byte(tc.in)); ok && (ref.TimeNano != 0 || ref.Time != 0) {
				if want := refCLI(ref); string(got) != want {
					t.Errorf("%s: docker CLI prints\n%q\nAppendCLI\n%q", tc.name, want, got)
				}
			}
		}
	})
}

func TestAppendCLILocalZone(t *testing.T) {
	msg := []byte(`{"Type":"container","Action":"create","Actor":{"ID":"e327f1fa52a9","Attributes":{"image":"alpine","name":"confident_kirch"}},"timeNano":1644314336370816183}`)
	cases := []struct {
		loc  *time.Location
		want string
	}{
		{time.FixedZone("CET", 3600), "2022-02-08T10:58:56.370816183+01:00 container create e327f1fa52a9 (image=alpine, name=confident_kirch)"},
		{time.FixedZone("X", -(9*3600 + 30*60)), "2022-02-08T00:28:56.370816183-09:30 container create e327f1fa52a9 (image=alpine, name=confident_kirch)"},
		{time.UTC, "2022-02-08T09:58:56.370816183Z container create e327f1fa52a9 (image=alpine, name=confident_kirch)"},
	}
	for _, tc := range cases {
		inZone(t, tc.loc, func() {
			var e Event
			e.Parse(msg)
			got, _ := e.AppendCLI(nil, 0, nil)
			if string(got) != tc.want {
				t.Errorf("%s:\n got %q\nwant %q", tc.loc, got, tc.want)
			}
			if FormatNano(1644314336370816183) != strings.Fields(tc.want)[0] {
				t.Errorf("FormatNano in %s = %q", tc.loc, FormatNano(1644314336370816183))
			}
		})
	}
}

// Every realistic message renders as the Docker CLI renders it.
func TestAppendCLIMatchesDockerCLI(t *testing.T) {
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("IST", 5*3600+1800)} {
		inZone(t, loc, func() {
			var e Event
			for _, msg := range realistic {
				ref, ok := refDecode([]byte(msg))
				if !ok {
					t.Fatalf("not a fair reference: %s", msg)
				}
				e.Parse([]byte(msg))
				got, _ := e.AppendCLI(nil, 0, nil)
				if want := refCLI(ref); string(got) != want {
					t.Errorf("docker CLI prints\n%q\nAppendCLI\n%q", want, got)
				}
			}
		})
	}
}

func TestAppendCLIBuffers(t *testing.T) {
	var e Event
	e.Parse([]byte(pre152Create))
	// dst is appended to, not overwritten.
	got, scratch := e.AppendCLI([]byte("prefix|"), 0, nil)
	if !strings.HasPrefix(string(got), "prefix|") || !strings.HasSuffix(string(got), "(com.docker.compose.project=shop, image=alpine:3.20, name=confident_kirch)") {
		t.Errorf("AppendCLI = %q", got)
	}
	// Sorting works on the scratch copy: the event's attribute order stays.
	if e.Attrs()[0].Key != "image" || e.Attrs()[2].Key != "com.docker.compose.project" {
		t.Errorf("AppendCLI reordered the event's attributes: %v", e.Attrs())
	}
	if len(scratch) != 3 {
		t.Errorf("scratch has %d attributes", len(scratch))
	}
	// With room in dst and scratch, rendering allocates nothing.
	dst := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { dst, scratch = e.AppendCLI(dst[:0], 0, scratch) }); n != 0 {
		t.Errorf("AppendCLI allocates %v times per call", n)
	}
}

// TestAppendCLIEscapesControlCharacters: whoever sets a label or runs
// docker exec controls bytes of the line; none of them may end the line
// (a forged second event line), drive a terminal (ESC) or cut the C string
// Falco copies it into (NUL). See package escape for the exact rules.
func TestAppendCLIEscapesControlCharacters(t *testing.T) {
	forged := "\n2024-05-01T10:58:56.000000000Z container start ffff (name=innocent)"
	cases := []struct {
		name, in, want string
	}{
		{"label value with a newline and a forged line",
			`{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"image":"img","evil":"x` + jsonEscape(forged) + `","name":"n"}},"timeNano":1714561136000000000}`,
			`2024-05-01T10:58:56.000000000Z container start c (evil=x\n2024-05-01T10:58:56.000000000Z container start ffff (name=innocent), image=img, name=n)`},
		{"exec command with a newline and a forged alert",
			`{"Type":"container","Action":"exec_create: sh -c id\n12:00:00.000000000: Notice fake alert","Actor":{"ID":"c"},"timeNano":1714561136000000000}`,
			`2024-05-01T10:58:56.000000000Z container exec_create: sh -c id\n12:00:00.000000000: Notice fake alert c`},
		{"ESC sequences and DEL",
			`{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"name":"\u001b[2J\u001b]0;title\u0007\u007f"}},"timeNano":1714561136000000000}`,
			`2024-05-01T10:58:56.000000000Z container start c (name=\x1b[2J\x1b]0;title\x07\x7f)`},
		{"NUL does not hide what follows",
			`{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"a":"x\u0000y","image":"alpine","name":"web"}},"timeNano":1714561136000000000}`,
			`2024-05-01T10:58:56.000000000Z container start c (a=x\x00y, image=alpine, name=web)`},
		{"keys, type and actor id too",
			`{"Type":"con\ttainer","Action":"start","Actor":{"ID":"c\r","Attributes":{"k\u0085ey":"v"}},"timeNano":1714561136000000000}`,
			`2024-05-01T10:58:56.000000000Z con\ttainer start c\r (k\u0085ey=v)`},
	}
	inZone(t, time.UTC, func() {
		var e Event
		for _, tc := range cases {
			e.Parse([]byte(tc.in))
			if !e.Valid() {
				t.Fatalf("%s: test message is not valid JSON: %s", tc.name, tc.in)
			}
			got, _ := e.AppendCLI(nil, 0, nil)
			if string(got) != tc.want {
				t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
			}
			for i, c := range got {
				if c < 0x20 || c == 0x7f {
					t.Errorf("%s: control byte %#x at %d of %q", tc.name, c, i, got)
					break
				}
			}
		}
	})
	// Plain tells the clean messages from the others.
	for in, want := range map[string]bool{
		`{"Type":"container","Actor":{"Attributes":{"name":"é中 ©\u00a0"}}}`: false, // an escape sequence: decided conservatively
		`{"Type":"container","Actor":{"Attributes":{"name":"é中 © "}}}`:      true,
		"{\"Type\":\"c\x7f\"}":       false,
		"{\"Type\":\"c\u0085\"}":     false,
		"{\"Type\":\"c\u00a0\xc2\"}": true,
	} {
		var e Event
		e.Parse([]byte(in))
		if e.Plain() != want {
			t.Errorf("Plain() = %v for %q", e.Plain(), in)
		}
	}
	// Escaping needs no allocation either.
	e := Event{}
	e.Parse([]byte(cases[0].in))
	dst, scratch := make([]byte, 0, 1024), make([]Attr, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst, scratch = e.AppendCLI(dst[:0], 0, scratch) }); n != 0 {
		t.Errorf("AppendCLI with escapes allocates %v times per call", n)
	}
}

// jsonEscape writes s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
