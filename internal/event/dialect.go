package event

import (
	"strings"
	"unsafe"
)

// Dialect is the flavour of the Docker events API a message is in. What each
// engine sends on GET /events, as recorded from the real engines by the
// tests (tests/testdata/engines):
//
// Docker Engine before API 1.52 (Docker 20.10: API 1.41): the deprecated
// top-level status, id and from on container and image events; actions
// with their argument after ": " ("exec_start: sh -c id",
// "health_status: healthy"); exitCode on die and exec_die, signal on kill.
//
// Docker Engine at API >= 1.52 (moby v2): the same without status, id and
// from (Status, ID and From derive them as older daemons filled them).
//
// Podman (4.3, Docker-compatible endpoint), told apart by the podId
// attribute it adds to every event:
//   - status, id and from on every event type (volume, pod, network too);
//     image, podId and containerExitCode ("0") on every event;
//   - "exec" (no command, no execID) where Docker says exec_create and
//     exec_start; "exec_died" with the exec's code in containerExitCode;
//     "remove" where Docker says destroy (containers, volumes); an image
//     "loadfromarchive" (the archive path as name) where Docker says load;
//   - health_status without ": <status>", the status in a top-level
//     HealthStatus member;
//   - kill without a signal; network connect/disconnect about the container
//     (Actor.ID and name are the container's, no network named); volume
//     events with an empty Actor.ID and the volume in name; image ids as
//     bare hex, without "sha256:".
//
// Typed accessors map all of it to Docker's semantics; what an engine does
// not say has no value.
type Dialect uint8

const (
	// Docker is Docker Engine, any API version.
	Docker Dialect = iota
	// Podman is Podman's Docker-compatible endpoint.
	Podman
)

func (d Dialect) String() string {
	if d == Podman {
		return "podman"
	}
	return "docker"
}

// podmanMarker is the attribute Podman adds to every event and Docker to
// none (a Docker container labelled podId would read as Podman's).
const podmanMarker = "podId"

// normalise sets the action in Docker's vocabulary: name, args and the
// whole action (norm). Docker's action is kept as sent.
func (e *Event) normalise() {
	if !e.action.OK {
		return
	}
	raw := e.action.S
	name, args, hasArgs := strings.Cut(raw, ": ")
	// moby joins the exec entrypoint and its arguments with a space even
	// when there are none (`docker exec c sh` logs "exec_start: sh "):
	// the trailing blanks are that artefact, not part of the command.
	args = strings.TrimRight(args, " ")
	e.name = Str{S: e.verb(name), OK: true}
	if hasArgs && args != "" {
		e.args = Str{S: args, OK: true}
	}
	switch {
	case e.name.S == "health_status" && !hasArgs && e.healthStatus.OK && e.healthStatus.S != "":
		// Podman: the status as Docker appends it.
		e.args = e.healthStatus
		e.norm = e.compose(e.name.S, ": ", e.healthStatus.S)
	case e.name.S != name:
		e.norm = e.compose(e.name.S, raw[len(name):], "")
	default:
		e.norm = e.action // as sent, trailing blanks included
	}
}

// compose concatenates into the Event's scratch buffer (no allocation in
// steady state; valid until the next Parse).
func (e *Event) compose(a, b, c string) Str {
	e.scratch = append(append(append(e.scratch[:0], a...), b...), c...)
	return Str{S: unsafe.String(unsafe.SliceData(e.scratch), len(e.scratch)), OK: true}
}

// verb maps an action name to Docker's vocabulary. Podman's verbs are
// mapped whatever the dialect detection says: Docker never sends them for
// these types.
func (e *Event) verb(name string) string {
	switch name {
	case "died": // Podman's own (libpod) word; its compatible endpoint says die
		return "die"
	case "exec_died":
		return "exec_die"
	case "exec":
		if e.Is("container") {
			return "exec_start"
		}
	case "remove":
		if e.Is("container") || e.Is("volume") || e.Is("network") {
			return "destroy"
		}
	case "loadfromarchive":
		if e.Is("image") {
			return "load"
		}
	}
	return name
}

// isReference reports whether s can be an image reference: not an image id
// (sha256:<hex>, or the bare 64-hex id Podman sends) and not a path (Podman
// names the archive of save and loadfromarchive).
func isReference(s string) bool {
	switch {
	case s == "", strings.HasPrefix(s, "sha256:"), strings.HasPrefix(s, "/"):
		return false
	case len(s) == 64 && isLowerHex(s):
		return false
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
