package event

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/falco-docker/docker-plugin/internal/escape"
)

// refMessage mirrors the Engine API's events.Message (moby
// api/types/events): what the Docker CLI decodes a message into, with
// encoding/json. It is the reference the parsed Event is checked against.
type refMessage struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`

	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	Scope string `json:"scope"`

	Time     int64 `json:"time,omitempty"`
	TimeNano int64 `json:"timeNano,omitempty"`
}

// refDecode decodes data as the Docker CLI would, and reports whether the
// result is a fair reference for Event: encoding/json accepts the message,
// it is an object, valid UTF-8 (encoding/json replaces bad bytes, the
// plugin passes them through), and it has no duplicate keys nor null
// attribute values (encoding/json merges a repeated Actor into the first
// and keeps a value over a later null, the plugin's last key wins; no
// daemon sends either).
func refDecode(data []byte) (refMessage, bool) {
	var m refMessage
	if !utf8.Valid(data) || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
		return m, false
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, false
	}
	root := gjson.ParseBytes(data)
	if dupFold(root, "status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano") {
		return m, false
	}
	ok := true
	root.ForEach(func(k, v gjson.Result) bool {
		// An explicit "" status/id/from is indistinguishable from an absent
		// one after encoding/json (omitempty): not a fair reference.
		for _, n := range []string{"status", "id", "from"} {
			if strings.EqualFold(k.Str, n) && v.Type == gjson.String && v.Str == "" {
				ok = false
			}
		}
		if strings.EqualFold(k.Str, "Actor") && v.IsObject() {
			if dupFold(v, "ID", "Attributes") {
				ok = false
			}
			v.ForEach(func(ak, av gjson.Result) bool {
				if strings.EqualFold(ak.Str, "Attributes") && av.IsObject() {
					seen := map[string]bool{}
					av.ForEach(func(kk, vv gjson.Result) bool {
						if seen[kk.Str] || vv.Type == gjson.Null {
							ok = false
						}
						seen[kk.Str] = true
						return true
					})
				}
				return true
			})
		}
		return true
	})
	return m, ok
}

// dupFold reports whether obj has two keys matching one of names
// case-insensitively (as encoding/json matches struct fields).
func dupFold(obj gjson.Result, names ...string) bool {
	counts := make([]int, len(names))
	obj.ForEach(func(k, _ gjson.Result) bool {
		for i, n := range names {
			if strings.EqualFold(k.Str, n) {
				counts[i]++
			}
		}
		return true
	})
	for _, c := range counts {
		if c > 1 {
			return true
		}
	}
	return false
}

// refCLI is the Docker CLI's prettyPrintEvent (docker/cli
// cli/command/system/events.go), without the trailing newline.
func refCLI(m refMessage) string {
	var b strings.Builder
	if m.TimeNano != 0 {
		b.WriteString(time.Unix(0, m.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
	} else if m.Time != 0 {
		b.WriteString(time.Unix(m.Time, 0).Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
	}
	// The plugin differs from the CLI in one way only: strings are escaped.
	b.WriteString(escape.String(m.Type) + " " + escape.String(m.Action) + " " + escape.String(m.Actor.ID))
	if len(m.Actor.Attributes) > 0 {
		var keys, attrs []string
		for k := range m.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			attrs = append(attrs, escape.String(k)+"="+escape.String(m.Actor.Attributes[k]))
		}
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	return b.String()
}

// refVerb is Podman's vocabulary mapped to Docker's.
func refVerb(s string) string {
	for podman, docker := range map[string]string{"died": "die", "exec_died": "exec_die"} {
		if s == podman {
			return docker
		}
		if rest, ok := strings.CutPrefix(s, podman+": "); ok {
			return docker + ": " + rest
		}
	}
	return s
}

// refDeprecated fills status, id and from as the daemon's events.Log did
// before Engine API 1.52 (moby daemon/events), when the message lacks them.
func refDeprecated(m refMessage) (status, id, from string) {
	status, id, from = m.Status, m.ID, m.From
	switch m.Type {
	case "container":
		if status == "" {
			status = m.Action
		}
		if id == "" {
			id = m.Actor.ID
		}
		if from == "" {
			from = m.Actor.Attributes["image"]
		}
	case "image":
		if status == "" {
			status = m.Action
		}
		if id == "" {
			id = m.Actor.ID
		}
	}
	return refVerb(status), id, from
}
