package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/falco-docker/docker-plugin/internal/escape"
)

// FuzzParse drives the extraction side (Parse, every accessor, AppendCLI)
// and the source side (Probe) with the same bytes. FuzzScanTop already
// checks Probe against encoding/json; this target checks that the two sides
// agree with each other and that Event agrees with encoding/json decoding
// into the Engine API's Message type, the way the Docker CLI reads events.
func FuzzParse(f *testing.F) {
	for _, msg := range append(append([]string(nil), realistic...), recorded...) {
		f.Add([]byte(msg))
	}
	for _, msg := range []string{
		``, `{}`, `[]`, `null`, `{"Type":"container"`, `{"timeNano":"5","time":7}`, `{"timeNano":-0,"time":7}`,
		`{"Type":"container","Action":"die","Actor":{"ID":"c","Attributes":["exitCode","1"]}}`,
		`{"TYPE":"container","action":"died: x","ACTOR":{"id":"c","attributes":{"Name":"n"}}}`,
		"{\"Type\":\"container\",\"Actor\":{\"Attributes\":{\"name\":\"\xff\"}}}",
		`{"Type":"container","Actor":{"Attributes":{"a":"1","a":"2"}}}`, `{"Type":"a","Type":null}`,
		`{"x":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]],"Type":"image","Action":"pull","Actor":{"ID":"alpine:3@sha256:ab"}}`,
		`{"T\u0079pe":"container","Actor":{"Attributes":{"com\u002edocker.x":"a\ud800b"}}}`,
		`{"\u017ftatus":"die","Type":"container","Action":"die","Actor":{"\u0130D":"c","attributes":{"podId":"","\u0070odId":"p"}}}`,
		`{"Type":"container","Actor":{"Attributes":{"a":"\ud83d\ude00","b":"\ud800\u0041","c":"\udc00x","d":"\t\"\\\/\b\f\n\r"}}}`,
	} {
		f.Add([]byte(msg))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		e.Parse(data)
		v := viewOf(&e)
		if !bytes.Equal(e.Raw(), data) {
			t.Fatalf("Raw() %q is not the message %q", e.Raw(), data)
		}

		// The single pass reads every message as the gjson walk it
		// replaced did, but for one documented difference: a \u surrogate
		// that is not half of a pair, followed by another \u escape, is
		// U+FFFD and that escape decoded on its own (encoding/json, hence
		// the docker CLI); gjson swallowed the second escape.
		if !surrogateThenEscape.Match(data) {
			checkContextAgainstGJSON(t, &e)
			var old Event
			old.parseGJSON(data)
			if d := diffViews(v, viewOf(&old)); d != nil {
				t.Fatalf("%q: single pass and gjson walk differ: %v", data, d)
			}
			if (len(e.Attrs()) > 0 || len(old.Attrs()) > 0) && !reflect.DeepEqual(e.Attrs(), old.Attrs()) || e.Plain() != old.Plain() || e.Dialect() != old.Dialect() || e.cc.raw != old.cc.raw {
				t.Fatalf("%q: attrs %v plain %v dialect %v context %q; gjson walk %v %v %v %q", data, e.Attrs(), e.Plain(), e.Dialect(), e.cc.raw, old.Attrs(), old.Plain(), old.Dialect(), old.cc.raw)
			}
		}

		// Valid means a JSON object nested at most maxDepth levels below
		// the top, exactly.
		wantValid := json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) && nesting(data) <= maxDepth+1
		if v.Valid != wantValid {
			t.Fatalf("Valid() = %v, encoding/json says %v for %q", v.Valid, wantValid, data)
		}
		if !v.Valid && diffViews(v, view{}) != nil {
			t.Fatalf("invalid message %q has values: %v", data, diffViews(v, view{}))
		}

		// A reused Event sees the same as a fresh one.
		var reused Event
		reused.Parse([]byte(pre152Die))
		reused.Parse(data)
		if !reflect.DeepEqual(viewOf(&reused), v) {
			t.Fatalf("reused Event differs on %q: %v", data, diffViews(viewOf(&reused), v))
		}

		// The source side stamps the event with the time docker.time gives.
		pts, phas, pvalid := Probe(data)
		if pvalid != v.Valid {
			t.Fatalf("Probe says valid=%v, Event %v for %q", pvalid, v.Valid, data)
		}
		// (Escaped keys are compared raw by Probe, a deliberate simplification.)
		if pvalid && v.Valid && !bytes.Contains(data, []byte(`\`)) && (pts != v.TS || phas != v.HasTS) {
			t.Fatalf("Probe time %d,%v; Event %d,%v for %q", pts, phas, v.TS, v.HasTS, data)
		}

		// Action split: name [+ ": " + args] is the (normalised) action,
		// but for trailing blanks (moby's artefact, never part of args).
		if v.RawAction.OK {
			blanks := func(s string) bool { return strings.TrimRight(s, " ") == "" }
			if v.ActionArgs.OK {
				rest, ok := strings.CutPrefix(v.Action.S, v.ActionName.S+": ")
				if !ok || strings.TrimRight(rest, " ") != v.ActionArgs.S || blanks(v.ActionArgs.S) {
					t.Fatalf("name %q + args %q != action %q", v.ActionName.S, v.ActionArgs.S, v.Action.S)
				}
			} else if rest, cut := strings.CutPrefix(v.Action.S, v.ActionName.S+": "); !v.ActionName.OK ||
				(cut && !blanks(rest)) || (!cut && (v.ActionName != v.Action || strings.Contains(v.RawAction.S, ": "))) {
				t.Fatalf("no args, name %+v action %+v raw %q", v.ActionName, v.Action, v.RawAction.S)
			}
		} else if v.ActionName.OK || v.ActionArgs.OK || v.Action.OK {
			t.Fatalf("no Action but name %+v args %+v action %+v", v.ActionName, v.ActionArgs, v.Action)
		}

		// Plain promises that no string of the event needs escaping.
		if e.Plain() {
			strs := []Str{e.Type(), e.RawAction(), e.Action(), e.ActionName(), e.ActionArgs(), e.Scope(), e.ActorID(), e.Status(), e.ID(), e.From(), e.ExitCode()}
			for _, a := range e.Attrs() {
				strs = append(strs, Str{S: a.Key, OK: true}, Str{S: a.Value, OK: true})
			}
			for _, v := range strs {
				if escape.Needed(v.S) {
					t.Fatalf("Plain() for %q, but %q needs escaping", data, v.S)
				}
			}
		}

		// Attr gives the last attribute of a key.
		attrs := e.Attrs()
		for i, a := range attrs {
			last := a.Value
			for _, b := range attrs[i+1:] {
				if b.Key == a.Key {
					last = b.Value
				}
			}
			if got := e.Attr(a.Key); got != (Str{S: last, OK: true}) {
				t.Fatalf("Attr(%q) = %+v, want %q", a.Key, got, last)
			}
		}

		// CLI rendering: timestamp (or fallback) first; never panics.
		const fallback = 1714561136000000001
		line, _ := e.AppendCLI(nil, fallback, nil)
		ts := uint64(fallback)
		if v.HasTS {
			ts = v.TS
		}
		prefix := FormatNano(ts)
		if !strings.HasPrefix(string(line), prefix+" ") {
			t.Fatalf("CLI line %q does not start with %q", line, prefix)
		}
		if !v.Valid {
			if string(line) != prefix+" <malformed event>" {
				t.Fatalf("CLI line for an invalid message: %q", line)
			}
			return
		}

		// Against encoding/json, when it is a fair reference.
		ref, ok := refDecode(data)
		if !ok {
			return
		}
		compareWithRef(t, string(data), ref)
		want := refCLI(ref)
		if ref.TimeNano != 0 || ref.Time != 0 {
			_, want, _ = strings.Cut(want, " ")
		}
		if got := string(line[len(prefix)+1:]); got != want {
			t.Fatalf("%q: AppendCLI %q, docker CLI %q", data, got, want)
		}
		if timeComparable(data, ref) {
			wantTS := uint64(ref.TimeNano)
			if ref.TimeNano == 0 {
				wantTS = uint64(ref.Time) * 1e9
			}
			if !v.HasTS || v.TS != wantTS {
				t.Fatalf("%q: time %d,%v; the docker CLI uses %d", data, v.TS, v.HasTS, wantTS)
			}
		}
	})
}

// surrogateThenEscape finds a \u escape of a UTF-16 surrogate followed by
// another \u escape (see FuzzParse).
var surrogateThenEscape = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}\\u`)

// nesting is the deepest count of open objects and arrays in data (the top
// level one included), outside strings.
func nesting(data []byte) int {
	depth, most, inStr := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

// timeComparable reports whether the CLI's choice of timestamp is one the
// plugin is expected to share: a positive timeNano, else a positive time
// that fits in nanoseconds. (A literal timeNano of 0, which no daemon
// sends, makes the CLI fall back to time while the plugin reads 0.)
func timeComparable(data []byte, ref refMessage) bool {
	zeroNano := false
	gjson.ParseBytes(data).ForEach(func(k, v gjson.Result) bool {
		if strings.EqualFold(k.Str, "timeNano") && v.Raw == "0" {
			zeroNano = true
		}
		return true
	})
	switch {
	case zeroNano:
		return false
	case ref.TimeNano > 0:
		return true
	case ref.TimeNano == 0:
		return ref.Time > 0 && ref.Time <= maxSec
	}
	return false
}
