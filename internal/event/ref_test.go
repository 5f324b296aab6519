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

	HealthStatus string `json:",omitempty"` // Podman's
}

// refPodman: Podman adds podId to every event's attributes.
func refPodman(m refMessage) bool {
	_, ok := m.Actor.Attributes["podId"]
	return ok
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
	if dupFold(root, "status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano", "HealthStatus") {
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

// refAction is the action in Docker's vocabulary, as internal/event's
// dialect.go documents it: Podman's verbs mapped by type, its health status
// appended.
func refAction(m refMessage) string {
	name, rest, hasArgs := strings.Cut(m.Action, ": ")
	switch {
	case name == "died":
		name = "die"
	case name == "exec_died":
		name = "exec_die"
	case name == "exec" && m.Type == "container":
		name = "exec_start"
	case name == "remove" && (m.Type == "container" || m.Type == "volume" || m.Type == "network"):
		name = "destroy"
	case name == "loadfromarchive" && m.Type == "image":
		name = "load"
	}
	if name == "health_status" && !hasArgs && m.HealthStatus != "" {
		return name + ": " + m.HealthStatus
	}
	if hasArgs {
		return name + ": " + rest
	}
	return name
}

// refDeprecated is status, id and from as the daemon's events.Log filled
// them before Engine API 1.52 (moby daemon/events): container and image
// events only, derived when the message lacks them.
func refDeprecated(m refMessage) (status, id, from string) {
	if m.Type != "container" && m.Type != "image" {
		return "", "", ""
	}
	status, id = m.Status, m.ID
	if status == "" || status == m.Action || refPodman(m) {
		status = refAction(m)
	}
	if id == "" {
		id = m.Actor.ID
	}
	if m.Type == "container" {
		from = m.From
		if from == "" {
			from = m.Actor.Attributes["image"]
		}
	}
	return status, id, from
}

// refExitCode is the exit code of a container's die or exec_die: exitCode,
// else containerExitCode; Podman's empty values are none.
func refExitCode(m refMessage) (string, bool) {
	name, _, _ := strings.Cut(refAction(m), ": ")
	if m.Type != "container" || (name != "die" && name != "exec_die") {
		return "", false
	}
	for _, k := range []string{"exitCode", "containerExitCode"} {
		if v, ok := m.Actor.Attributes[k]; ok && (v != "" || !refPodman(m)) {
			return v, true
		}
	}
	return "", false
}
