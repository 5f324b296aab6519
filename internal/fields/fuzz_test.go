package fields

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falco-docker/docker-plugin/internal/event"
)

// FuzzExtract extracts every field id (and a few beyond the table) from an
// arbitrary payload, with and without an argument: no panic, at most one
// value of the field's type, errors only where documented, and nothing at
// all from a message that is not a JSON object.
func FuzzExtract(f *testing.F) {
	for _, tc := range events {
		f.Add([]byte(tc.msg), "com.docker.compose.project")
	}
	f.Add([]byte(`{"Type":"container","Action":"died","Actor":{"ID":"c","Attributes":{"containerExitCode":"-1","":"x"}}}`), "")
	f.Add([]byte(`{"Type":"image","Action":"tag","Actor":{"ID":"sha256:x","Attributes":{"name":"a:b@c:d/e"}}}`), "name")
	f.Add([]byte(`{"Type":"container","Action":"exec_start: ","Actor":{"Attributes":["execID"]},"timeNano":"1"}`), "execID")
	f.Add([]byte("{\"Type\":\"volume\",\"Actor\":{\"ID\":\"\xff\",\"Attributes\":{\"driver\":\"\\u0000\"}}}"), "\x00")
	f.Add([]byte(`{"Type":"container","Action":"start","Actor":{"ID":"c"},"falco:container":{"id":"c","privileged":true,"hostIpc":"x","capAdd":["A",1,null],"mounts":[{"source":"/","destination":"/h","rw":true},7,{"source":2}],"exec":{"id":1,"cmdline":"sh"}}}`), "/h")
	f.Add([]byte(`{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"c"}},"falco:container":{"id":"c","mounts":[{"source":"/a","destination":"/b"}]},"falco:container":{"id":"x"}}`), "0")
	f.Add([]byte(`{"Type":"container","Action":"exec","Actor":{"ID":"c","Attributes":{"podId":""}},"falco:container":{"id":"c","exec":{"id":"e","cmdline":"  "}}}`), "*")
	f.Fuzz(func(t *testing.T, data []byte, arg string) {
		var e event.Event
		e.Parse(data)
		for id := uint64(0); id < uint64(len(Table))+3; id++ {
			for _, present := range []bool{true, false} {
				var r recorder
				err := Extract(id, arg, present, &e, &r)
				if id >= uint64(len(Table)) {
					var unk ErrUnknownField
					if !errors.As(err, &unk) || unk.ID != id {
						t.Fatalf("Extract(%d): %v, want ErrUnknownField", id, err)
					}
					continue
				}
				fld := Table[id]
				if fld.ArgRequired && (!present || arg == "") {
					if err == nil {
						t.Fatalf("%s without a key: no error", fld.Name)
					}
				} else if err != nil {
					t.Fatalf("%s[%q]: %v", fld.Name, arg, err)
				}
				n := r.n()
				if n > 1 && !fld.IsList {
					t.Fatalf("%s: %d values", fld.Name, n)
				}
				if n > 0 && !e.Valid() {
					t.Fatalf("%s has a value %q %v %v for an invalid message %q", fld.Name, r.strs, r.nums, r.bools, data)
				}
				numeric := fld.Type == Uint64 || fld.Type == AbsTime
				if len(r.strs) > 0 && fld.Type != String || len(r.nums) > 0 && !numeric || len(r.bools) > 0 && fld.Type != Bool {
					t.Fatalf("%s (%s) extracted strings %q numbers %v bools %v", fld.Name, fld.Type, r.strs, r.nums, r.bools)
				}
			}
		}
		// docker.attributes[KEY] agrees with encoding/json on plain messages.
		var m struct {
			Actor struct{ Attributes map[string]any }
		}
		if e.Valid() && arg != "" && utf8.Valid(data) && json.Unmarshal(data, &m) == nil {
			var r recorder
			_ = Extract(Attributes, arg, true, &e, &r)
			if v, ok := m.Actor.Attributes[arg].(string); ok && len(r.strs) == 1 && r.strs[0] != v && !hasDup(data) {
				t.Fatalf("docker.attributes[%q] = %q, encoding/json %q", arg, r.strs[0], v)
			}
		}
	})
}

// hasDup is a conservative guard: encoding/json and the plugin resolve
// duplicate keys differently, so messages that may have any are skipped.
func hasDup(data []byte) bool {
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok {
			s = strings.ToLower(s)
			if seen[s] {
				return true
			}
			seen[s] = true
		}
	}
}
