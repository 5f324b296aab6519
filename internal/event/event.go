// Package event is a parsed, read-only view over one Docker Engine events
// message (the JSON the Engine API /events stream sends and
// `docker events --format '{{json .}}'` prints).
//
// Parsing walks the message once, validating it and keeping the strings the
// fields need on the way (parse.go); every string aliases a private copy of
// the message (or, for strings with escape sequences, a private buffer), so
// a parsed Event allocates nothing in steady state and stays valid until the
// next Parse.
//
// Engines speak dialects of the API (dialect.go): Docker Engine before API
// 1.52 (deprecated status/id/from), Docker Engine from 1.52 (without them),
// and Podman's Docker-compatible endpoint (its own verbs, attributes it
// always sends empty, network events about the container). The typed
// accessors speak Docker's semantics whatever the dialect; Raw, RawAction,
// Attr and Attrs stay as received.
package event

import (
	"bytes"
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
	healthStatus     Str // Podman's top-level HealthStatus
	timeNano         int64
	timeSec          int64
	hasTimeNano      bool
	hasTimeSec       bool

	// Normalised at the end of Parse (dialect.go).
	dialect    Dialect
	name, args Str    // the bare action and its argument, in Docker's vocabulary
	norm       Str    // the whole action in Docker's vocabulary
	scratch    []byte // backs norm when it is composed (Podman's health_status)
	unesc      []byte // backs the strings that held escape sequences

	cc containerView // ContainerMember, decoded on first use (container.go)
}

// Parse replaces e's content with the message in data. data is copied, so
// the caller may reuse it at once. Parse never fails: a message that is not
// a JSON object (or nests deeper than maxDepth, 512 levels; Docker's events
// nest 3) yields an Event with Valid() false and no values, and values of
// the wrong JSON type are treated as absent.
//
// One pass over the bytes validates the message and records the members the
// accessors need (parse.go); nothing is read twice.
func (e *Event) Parse(data []byte) {
	e.buf = append(e.buf[:0], data...)
	e.reset()
	if len(e.buf) == 0 {
		return
	}
	if !e.walk() {
		// Validity is decided over the whole message before any value
		// counts: what a broken message said before the break is no value.
		e.reset()
		return
	}
	e.valid = true
	e.plain = plainText(e.buf)
	e.normalise()
}

func (e *Event) reset() {
	e.valid, e.plain = false, false
	e.status, e.id, e.from = Str{}, Str{}, Str{}
	e.typ, e.action, e.scope, e.actorID = Str{}, Str{}, Str{}, Str{}
	e.attrs = e.attrs[:0]
	e.healthStatus = Str{}
	e.timeNano, e.timeSec = 0, 0
	e.hasTimeNano, e.hasTimeSec = false, false
	e.dialect = Docker
	e.name, e.args, e.norm = Str{}, Str{}, Str{}
	e.unesc = e.unesc[:0]
	e.cc.reset()
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

// Dialect is the dialect the message is in.
func (e *Event) Dialect() Dialect { return e.dialect }

// Type is the event type ("container", "image", "network", ...).
func (e *Event) Type() Str { return nonEmpty(e.typ) }

// RawAction is Action exactly as the daemon sent it, arguments included
// (e.g. "exec_create: sh -c id", "health_status: unhealthy").
func (e *Event) RawAction() Str { return e.action }

// Action is the action in Docker's vocabulary, arguments included: as sent
// by Docker Engine; Podman's verbs mapped to Docker's (dialect.go) and its
// health status appended as Docker does ("health_status: healthy").
func (e *Event) Action() Str { return e.norm }

// ActionName is the bare action in Docker's vocabulary: the part of Action
// before ": " ("exec_create" for "exec_create: sh -c id").
func (e *Event) ActionName() Str { return e.name }

// ActionArgs is the argument part of Action, after ": " ("sh -c id" for
// "exec_create: sh -c id", "unhealthy" for a health status), without
// trailing blanks; absent when the action has none.
func (e *Event) ActionArgs() Str { return e.args }

// Scope is "local" or "swarm".
func (e *Event) Scope() Str { return nonEmpty(e.scope) }

// ActorID is Actor.ID: the container, image, network, volume... the event
// is about; absent when empty (Podman's volume and pull events, Docker's
// prune events).
func (e *Event) ActorID() Str { return nonEmpty(e.actorID) }

// Attrs returns the actor attributes in message order (valid until the
// next Parse).
func (e *Event) Attrs() []Attr { return e.attrs }

// Attr returns the actor attribute named key, as sent, even empty (exact,
// case-sensitive match, as attribute keys are label names). For duplicate
// keys the last wins. This is docker.attributes[KEY]: raw.
func (e *Event) Attr(key string) Str {
	for i := len(e.attrs) - 1; i >= 0; i-- {
		if e.attrs[i].Key == key {
			return Str{S: e.attrs[i].Value, OK: true}
		}
	}
	return Str{}
}

// Value is the attribute named key as the typed fields read it: as sent,
// but absent when Podman sends it empty (it adds image, podId and others to
// every event, empty where Docker sends nothing). Docker's own empty values
// (the com.docker.swarm.task label of every task) are values.
func (e *Event) Value(key string) Str {
	v := e.Attr(key)
	if e.dialect == Podman {
		return nonEmpty(v)
	}
	return v
}

// Is reports whether the event is of type t.
func (e *Event) Is(t string) bool { return e.typ.OK && e.typ.S == t }

// hasDeprecatedTriplet is true for the event types whose messages carry
// status/id/from in Docker Engine before API 1.52 (moby's events.Log filled
// them for container and image events only).
func (e *Event) hasDeprecatedTriplet() bool { return e.Is("container") || e.Is("image") }

// Status is the deprecated top-level status of container and image events,
// in Docker's vocabulary; when absent (Engine API >= 1.52) it is derived as
// older daemons filled it: the action. Other types give no value, even when
// sent (Podman sends it for volume, pod and network events).
func (e *Event) Status() Str {
	if !e.hasDeprecatedTriplet() {
		return Str{}
	}
	if e.status.OK && e.status.S != "" && e.status != e.action && e.dialect == Docker {
		return e.status // as sent, where it is not the action
	}
	return e.norm // the action (Podman's status is its own verb)
}

// ID is the deprecated top-level id of container and image events; when
// absent, Actor.ID. Other types give no value, even when sent.
func (e *Event) ID() Str {
	if !e.hasDeprecatedTriplet() {
		return Str{}
	}
	if e.id.OK && e.id.S != "" {
		return e.id
	}
	return e.ActorID()
}

// From is the deprecated top-level from of container events; when absent,
// the image attribute (image events never carried it).
func (e *Event) From() Str {
	if !e.Is("container") {
		return Str{}
	}
	if e.from.OK && e.from.S != "" {
		return e.from
	}
	return e.Value("image")
}

// ExitCode is the exit code of die and exec_die container events: the
// exitCode attribute, or Podman's containerExitCode (which Podman sends,
// "0", on every event: only a death's is an exit code).
func (e *Event) ExitCode() Str {
	if !e.Is("container") || !e.name.OK || (e.name.S != "die" && e.name.S != "exec_die") {
		return Str{}
	}
	if v := e.Value("exitCode"); v.OK {
		return v
	}
	return e.Value("containerExitCode")
}

// ContainerID is the container the event is about: Actor.ID of container
// events; the container attribute of Docker's network and volume events;
// Actor.ID of Podman's network events (which are about the container).
func (e *Event) ContainerID() Str {
	switch {
	case e.Is("container"):
		return e.ActorID()
	case e.Is("network") && e.dialect == Podman:
		return e.ActorID()
	case e.Is("network"), e.Is("volume"):
		return e.Value("container")
	}
	return Str{}
}

// NetworkID is the network of network events: Actor.ID (Podman's network
// events name the container there, and no network id anywhere).
func (e *Event) NetworkID() Str {
	if !e.Is("network") || e.dialect == Podman {
		return Str{}
	}
	return e.ActorID()
}

// NetworkName is the network's name in network events: the name attribute
// (Podman: its network attribute, when sent; its name is the container's).
func (e *Event) NetworkName() Str {
	switch {
	case !e.Is("network"):
		return Str{}
	case e.dialect == Podman:
		return e.Value("network")
	}
	return e.Value("name")
}

// VolumeName is the volume of volume events: Actor.ID, or the name
// attribute when Actor.ID is empty (Podman).
func (e *Event) VolumeName() Str {
	if !e.Is("volume") {
		return Str{}
	}
	if id := e.ActorID(); id.OK {
		return id
	}
	return e.Value("name")
}

// ImageRef is the image reference an image event names: Actor.ID when it is
// a reference (Docker's pull and push use the reference as id), else the
// name attribute (tag, untag, delete, save... carry the image id as Actor.ID
// and the reference in name). An image id (sha256:..., or Podman's bare
// hex) and an archive path (Podman's save and loadfromarchive) are not
// references.
func (e *Event) ImageRef() (string, bool) {
	if !e.Is("image") {
		return "", false
	}
	if id := e.ActorID(); id.OK && isReference(id.S) {
		return id.S, true
	}
	if n := e.Value("name"); n.OK && isReference(n.S) {
		return n.S, true
	}
	return "", false
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

func nonEmpty(v Str) Str {
	if v.S == "" {
		return Str{}
	}
	return v
}
