// Package event is a parsed, read-only view over one Docker Engine events
// message (the JSON the Engine API /events stream sends and
// `docker events --format '{{json .}}'` prints).
//
// Parsing walks the message once with gjson and keeps only positions of the
// keys the fields need; every string aliases a private copy of the message,
// so a parsed Event allocates nothing in steady state and stays valid until
// the next Parse. Normalisation lives here too:
//   - Engine API >= 1.52 stopped sending the deprecated top-level status, id
//     and from; Status/ID/From derive them exactly as older daemons filled
//     them (container and image events only).
//   - Podman's Docker-compatible API says "died"/"exec_died" where Docker
//     says "die"/"exec_die", and containerExitCode where Docker says exitCode;
//     the normalised accessors speak Docker's vocabulary. Raw accessors and
//     the payload stay as received.
package event

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Str is an optional string: OK is false when the message does not carry
// the value (the field then has no value and Falco prints <NA>).
type Str struct {
	S  string
	OK bool
}

// Attr is one actor attribute.
type Attr struct {
	Key, Value string
}

// Event is the parsed view. The zero value is an empty, invalid event.
type Event struct {
	buf []byte // private copy of the message: every string below aliases it

	valid bool // the message is a JSON object
	plain bool // no string of it holds a byte package escape rewrites (see Plain)

	status, id, from Str // deprecated top-level fields, as sent
	typ, action      Str
	scope            Str
	actorID          Str
	attrs            []Attr
	timeNano         int64
	timeSec          int64
	hasTimeNano      bool
	hasTimeSec       bool
}

// Parse replaces e's content with the message in data. data is copied, so
// the caller may reuse it at once. Parse never fails: a message that is not
// a JSON object (or nests deeper than maxDepth, 512 levels; Docker's events
// nest 3) yields an Event with Valid() false and no values, and values of
// the wrong JSON type are treated as absent.
func (e *Event) Parse(data []byte) {
	e.buf = append(e.buf[:0], data...)
	e.reset()
	if len(e.buf) == 0 {
		return
	}
	// The bounded scanner decides validity before gjson sees the bytes:
	// gjson's validator recurses once per nesting level, and a payload
	// nested millions deep (Falco replays .scap payloads that never went
	// through next_batch) would end in Go's fatal, unrecoverable stack
	// overflow. scanTop refuses nesting beyond maxDepth, so gjson's walk
	// below only ever sees bounded input. It is also the same check the
	// source applies (Probe), so both sides agree on what is an event.
	if _, _, valid := scanTop(e.buf); !valid {
		return
	}
	js := unsafe.String(unsafe.SliceData(e.buf), len(e.buf))
	root := gjson.Parse(js)
	if !root.IsObject() {
		return
	}
	e.valid = true
	e.plain = plainText(e.buf)
	root.ForEach(func(k, v gjson.Result) bool {
		e.top(k.Str, v)
		return true
	})
}

func (e *Event) reset() {
	e.valid, e.plain = false, false
	e.status, e.id, e.from = Str{}, Str{}, Str{}
	e.typ, e.action, e.scope, e.actorID = Str{}, Str{}, Str{}, Str{}
	e.attrs = e.attrs[:0]
	e.timeNano, e.timeSec = 0, 0
	e.hasTimeNano, e.hasTimeSec = false, false
}

// Key matching is case-insensitive, as Docker's own (encoding/json) decoder
// is; for duplicate keys the last one wins, as there.
func (e *Event) top(k string, v gjson.Result) {
	switch {
	case strings.EqualFold(k, "Type"):
		e.typ = str(v)
	case strings.EqualFold(k, "Action"):
		e.action = str(v)
	case strings.EqualFold(k, "Actor"):
		e.actorID = Str{}
		e.attrs = e.attrs[:0]
		if !v.IsObject() {
			return
		}
		v.ForEach(func(ak, av gjson.Result) bool {
			switch {
			case strings.EqualFold(ak.Str, "ID"):
				e.actorID = str(av)
			case strings.EqualFold(ak.Str, "Attributes"):
				e.attrs = e.attrs[:0]
				if av.IsObject() {
					av.ForEach(func(kk, vv gjson.Result) bool {
						if vv.Type == gjson.String {
							e.attrs = append(e.attrs, Attr{Key: kk.Str, Value: vv.Str})
						}
						return true
					})
				}
			}
			return true
		})
	case strings.EqualFold(k, "status"):
		e.status = str(v)
	case strings.EqualFold(k, "id"):
		e.id = str(v)
	case strings.EqualFold(k, "from"):
		e.from = str(v)
	case strings.EqualFold(k, "scope"):
		e.scope = str(v)
	case strings.EqualFold(k, "timeNano"):
		e.timeNano, e.hasTimeNano = integer(v)
	case strings.EqualFold(k, "time"):
		e.timeSec, e.hasTimeSec = integer(v)
	}
}

func str(v gjson.Result) Str {
	if v.Type != gjson.String {
		return Str{}
	}
	return Str{S: v.Str, OK: true}
}

// integer reads a JSON integer exactly (gjson's float64 would round
// nanosecond timestamps).
func integer(v gjson.Result) (int64, bool) {
	// A sign, even on -0, makes it no timestamp: the source's scan
	// (parseUint) reads timestamps the same way.
	if v.Type != gjson.Number || strings.HasPrefix(v.Raw, "-") {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Valid reports whether the message is a JSON object.
func (e *Event) Valid() bool { return e.valid }

// Plain reports that no string the event yields (values, keys, and the
// strings derived from them) holds a byte package escape rewrites, so that
// outputs can skip escaping altogether. Decided once per message.
func (e *Event) Plain() bool { return e.plain }

// plainText reports that the strings of a valid JSON message cannot hold a
// control character: raw bytes below 0x20 are not allowed in JSON strings,
// so one can only come from an escape sequence (a backslash), a raw DEL or
// a raw UTF-8 C1 control (C2 80..C2 9F). Three vectorised byte searches
// over the message cost less than scanning each value an output takes.
func plainText(b []byte) bool {
	if bytes.IndexByte(b, '\\') >= 0 || bytes.IndexByte(b, 0x7f) >= 0 {
		return false
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], 0xc2)
		if j < 0 {
			return true
		}
		i += j + 1
		if i < len(b) && b[i] >= 0x80 && b[i] <= 0x9f {
			return false
		}
	}
}

// Raw returns the message bytes as received (valid until the next Parse).
func (e *Event) Raw() []byte { return e.buf }

// Type is the event type ("container", "image", "network", ...).
func (e *Event) Type() Str { return e.typ }

// RawAction is Action exactly as the daemon sent it, arguments included
// (e.g. "exec_create: sh -c id", "health_status: unhealthy").
func (e *Event) RawAction() Str { return e.action }

// Action is Action in Docker's vocabulary: Podman's "died"/"exec_died"
// become "die"/"exec_die". Arguments, if any, are kept.
func (e *Event) Action() Str {
	return Str{S: normaliseVerb(e.action.S), OK: e.action.OK}
}

// ActionName is the bare action: the part of Action before ": "
// ("exec_create" for "exec_create: sh -c id"), normalised like Action.
func (e *Event) ActionName() Str {
	if !e.action.OK {
		return Str{}
	}
	name, _, _ := strings.Cut(e.action.S, ": ")
	return Str{S: normaliseVerb(name), OK: true}
}

// ActionArgs is the argument part of Action, after ": " ("sh -c id" for
// "exec_create: sh -c id"), without trailing blanks; absent when Action has
// no argument.
func (e *Event) ActionArgs() Str {
	if !e.action.OK {
		return Str{}
	}
	_, args, ok := strings.Cut(e.action.S, ": ")
	// moby joins the exec entrypoint and its arguments with a space even
	// when there are none (`docker exec c sh` logs "exec_start: sh "):
	// the trailing blanks are that artefact, not part of the command.
	args = strings.TrimRight(args, " ")
	if !ok || args == "" {
		return Str{}
	}
	return Str{S: args, OK: true}
}

func normaliseVerb(s string) string {
	switch {
	case s == "died":
		return "die"
	case s == "exec_died":
		return "exec_die"
	case strings.HasPrefix(s, "died: "):
		return "die" + s[len("died"):]
	case strings.HasPrefix(s, "exec_died: "):
		return "exec_die" + s[len("exec_died"):]
	}
	return s
}

// Scope is "local" or "swarm".
func (e *Event) Scope() Str { return e.scope }

// ActorID is Actor.ID: the container, image, network, volume... the event
// is about.
func (e *Event) ActorID() Str { return e.actorID }

// Attrs returns the actor attributes in message order (valid until the
// next Parse).
func (e *Event) Attrs() []Attr { return e.attrs }

// Attr returns the actor attribute named key (exact, case-sensitive match,
// as attribute keys are label names). For duplicate keys the last wins.
func (e *Event) Attr(key string) Str {
	for i := len(e.attrs) - 1; i >= 0; i-- {
		if e.attrs[i].Key == key {
			return Str{S: e.attrs[i].Value, OK: true}
		}
	}
	return Str{}
}

// hasDeprecatedTriplet is true for the event types whose messages carried
// status/id/from before Engine API 1.52.
func (e *Event) hasDeprecatedTriplet() bool {
	return e.typ.OK && (e.typ.S == "container" || e.typ.S == "image")
}

// Status is the deprecated top-level status; when absent (Engine API
// >= 1.52) it is derived for container and image events as Action, as older
// daemons filled it. Normalised like Action.
func (e *Event) Status() Str {
	if e.status.OK {
		return Str{S: normaliseVerb(e.status.S), OK: true}
	}
	if e.hasDeprecatedTriplet() {
		return e.Action()
	}
	return Str{}
}

// ID is the deprecated top-level id; when absent it is Actor.ID for
// container and image events.
func (e *Event) ID() Str {
	if e.id.OK {
		return e.id
	}
	if e.hasDeprecatedTriplet() {
		return e.actorID
	}
	return Str{}
}

// From is the deprecated top-level from; when absent it is the image
// attribute of container events (image events never carried it).
func (e *Event) From() Str {
	if e.from.OK {
		return e.from
	}
	if e.typ.OK && e.typ.S == "container" {
		return e.Attr("image")
	}
	return Str{}
}

// ExitCode is the exitCode attribute, or Podman's containerExitCode.
func (e *Event) ExitCode() Str {
	if v := e.Attr("exitCode"); v.OK {
		return v
	}
	return e.Attr("containerExitCode")
}

// TimeNano is the event time in nanoseconds since the epoch: timeNano, or
// time (seconds) * 1e9. ok is false when the message carries neither.
func (e *Event) TimeNano() (ns uint64, ok bool) {
	if e.hasTimeNano {
		return uint64(e.timeNano), true
	}
	if e.hasTimeSec && e.timeSec <= maxSec {
		return uint64(e.timeSec) * 1e9, true
	}
	return 0, false
}

// maxSec is the largest seconds value whose nanoseconds fit in an int64.
const maxSec = (1<<63 - 1) / 1_000_000_000
