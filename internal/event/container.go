package event

import (
	"strconv"
	"strings"
	"unsafe"
)

// ContainerMember is the top-level member the live source adds to the
// events of a container: what the container was started with (its security
// context, from GET /containers/{id}/json), so that extraction, Falco's
// capture files and the plugin's recordings carry it with the event. Its
// name holds a colon, which no member of a Docker (or Podman) events message
// can: moby's and Podman's JSON member names are plain words, so the daemon's
// members and this one never collide. The daemon's members are kept byte for
// byte; this one is inserted before the message's closing brace.
//
// The value is an object (written by AppendContext, read by the
// Container* accessors):
//
//	id              the container's full id (the context is used only on
//	                events whose docker.container.id is this id)
//	privileged      bool   HostConfig.Privileged
//	hostPid         bool   HostConfig.PidMode is host
//	hostNetwork     bool   HostConfig.NetworkMode is host
//	hostIpc         bool   HostConfig.IpcMode is host
//	readonlyRootfs  bool   HostConfig.ReadonlyRootfs
//	user            string Config.User, as configured ("" is the image's default)
//	capAdd, capDrop [string] capabilities without CAP_, upper case (ALL kept)
//	securityOpt     [string] HostConfig.SecurityOpt as the engine reports it
//	devices         [string] HostConfig.Devices' host paths
//	mounts          [{type, source, destination, rw}] bind and volume mounts
//	imageId         string the image id the container runs
//	imageDigest     string the image's repository digest (sha256:...)
//	cmdline         string Path and Args: what the container runs
//	exec            {id, cmdline} an exec's own command, where the event
//	                does not carry it (Podman's exec events)
//
// A member the engine does not report is left out: its field then has no
// value (never a default).
const ContainerMember = "falco:container"

// Flag is a boolean of the container context that may be unknown.
type Flag uint8

const (
	// FlagUnknown: the engine did not report it (the member is left out).
	FlagUnknown Flag = iota
	FlagFalse
	FlagTrue
)

// FlagOf is the known Flag of v.
func FlagOf(v bool) Flag {
	if v {
		return FlagTrue
	}
	return FlagFalse
}

// Known reports whether the flag has a value.
func (f Flag) Known() bool { return f != FlagUnknown }

// True reports whether the flag is known and true.
func (f Flag) True() bool { return f == FlagTrue }

// Mount is one bind or volume mount of a container.
type Mount struct {
	Type        string // bind, volume
	Source      string // the host path (a volume's data directory on the host)
	Destination string // the path in the container
	RW          Flag   // writable
}

// Exec is the command of an exec instance, for events that do not say it.
type Exec struct {
	ID      string
	Cmdline string
}

// Context is a container's security context as the live source writes it
// into ContainerMember. Empty strings and nil lists of the optional members
// (ImageID, ImageDigest, Cmdline) are left out; lists known to be empty are
// written as [] when Known says so.
type Context struct {
	ID             string
	Privileged     Flag
	HostPID        Flag
	HostNetwork    Flag
	HostIPC        Flag
	ReadonlyRootfs Flag
	User           *string // nil: unknown
	CapAdd         []string
	CapDrop        []string
	SecurityOpt    []string
	Devices        []string
	Mounts         []Mount
	ImageID        string
	ImageDigest    string
	Cmdline        string
}

// AppendContext appends the JSON object of c (without an exec part and
// without its closing brace, so that AppendExec can add one) to dst.
// CloseContext ends it. Strings are JSON-escaped; the output is compact.
func AppendContext(dst []byte, c *Context) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, c.ID)
	dst = appendFlag(dst, "privileged", c.Privileged)
	dst = appendFlag(dst, "hostPid", c.HostPID)
	dst = appendFlag(dst, "hostNetwork", c.HostNetwork)
	dst = appendFlag(dst, "hostIpc", c.HostIPC)
	dst = appendFlag(dst, "readonlyRootfs", c.ReadonlyRootfs)
	if c.User != nil {
		dst = append(dst, `,"user":`...)
		dst = appendJSONString(dst, *c.User)
	}
	dst = appendList(dst, "capAdd", c.CapAdd)
	dst = appendList(dst, "capDrop", c.CapDrop)
	dst = appendList(dst, "securityOpt", c.SecurityOpt)
	dst = appendList(dst, "devices", c.Devices)
	if c.Mounts != nil {
		dst = append(dst, `,"mounts":[`...)
		for i, m := range c.Mounts {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"type":`...)
			dst = appendJSONString(dst, m.Type)
			dst = append(dst, `,"source":`...)
			dst = appendJSONString(dst, m.Source)
			dst = append(dst, `,"destination":`...)
			dst = appendJSONString(dst, m.Destination)
			dst = appendFlag(dst, "rw", m.RW)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = appendOptString(dst, "imageId", c.ImageID)
	dst = appendOptString(dst, "imageDigest", c.ImageDigest)
	dst = appendOptString(dst, "cmdline", c.Cmdline)
	return dst
}

// AppendExec appends the exec part to an object AppendContext started.
func AppendExec(dst []byte, x Exec) []byte {
	dst = append(dst, `,"exec":{"id":`...)
	dst = appendJSONString(dst, x.ID)
	dst = append(dst, `,"cmdline":`...)
	dst = appendJSONString(dst, x.Cmdline)
	return append(dst, '}')
}

// CloseContext ends an object AppendContext started.
func CloseContext(dst []byte) []byte { return append(dst, '}') }

// InsertMember returns dst with the message msg (a JSON object, as the
// source validated it) followed, inside its braces, by the member
// "name":value: msg's bytes up to its closing brace are copied unchanged.
// ok is false when msg does not end with a closing brace.
func InsertMember(dst, msg []byte, name string, value []byte) (out []byte, ok bool) {
	end := len(msg) - 1
	for end >= 0 && isSpace(msg[end]) {
		end--
	}
	if end < 1 || msg[end] != '}' {
		return dst, false
	}
	prev := end - 1
	for prev >= 0 && isSpace(msg[prev]) {
		prev--
	}
	dst = append(dst, msg[:end]...)
	if prev >= 0 && msg[prev] != '{' {
		dst = append(dst, ',')
	}
	dst = appendJSONString(dst, name)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, '}'), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func appendFlag(dst []byte, key string, f Flag) []byte {
	if !f.Known() {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	if f.True() {
		return append(dst, `":true`...)
	}
	return append(dst, `":false`...)
}

func appendList(dst []byte, key string, l []string) []byte {
	if l == nil {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, `":[`...)
	for i, s := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

func appendOptString(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	return appendJSONString(dst, v)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped (\u00XX), everything else as is (invalid UTF-8
// included: the reader passes it through, as it does the daemon's bytes).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// ---- reading the member

// Bool is an optional boolean: OK is false when there is no value.
type Bool struct {
	V, OK bool
}

// containerView is the member as extraction reads it: decoded on first
// use (most events are asked no container field), strings aliasing the
// event's private copy of the message.
type containerView struct {
	raw     string // the member's JSON value, "" when absent
	decoded bool
	ok      bool // an object whose id is the event's container

	id                                                Str
	privileged, hostPid, hostNetwork, hostIpc, rootfs Bool
	user, imageID, imageDigest, cmdline               Str
	capAdd, capDrop, securityOpt, devices, mountSrcs  []string
	mounts                                            []Mount
	execID, execCmdline                               Str
	scratch                                           []byte // backs MountString
}

func (v *containerView) reset() {
	v.raw, v.decoded, v.ok = "", false, false
	v.id = Str{}
	v.privileged, v.hostPid, v.hostNetwork, v.hostIpc, v.rootfs = Bool{}, Bool{}, Bool{}, Bool{}, Bool{}
	v.user, v.imageID, v.imageDigest, v.cmdline = Str{}, Str{}, Str{}, Str{}
	v.capAdd, v.capDrop, v.securityOpt, v.devices, v.mountSrcs = v.capAdd[:0], v.capDrop[:0], v.securityOpt[:0], v.devices[:0], v.mountSrcs[:0]
	v.mounts = v.mounts[:0]
	v.execID, v.execCmdline = Str{}, Str{}
}

// ctx decodes the member on first use.
func (e *Event) ctx() *containerView {
	v := &e.cc
	if v.decoded {
		return v
	}
	v.decoded = true
	if v.raw == "" {
		return v
	}
	e.decodeContext(v, unsafe.Slice(unsafe.StringData(v.raw), len(v.raw)))
	// The context belongs to the container the event is about; anything
	// else (a hand-edited recording, a bug) is no context at all.
	cid := e.ContainerID()
	v.ok = v.id.OK && cid.OK && v.id.S == cid.S
	v.mountSrcs = v.mountSrcs[:0]
	for _, m := range v.mounts {
		v.mountSrcs = append(v.mountSrcs, m.Source)
	}
	return v
}

// decodeContext reads the member's value d (validated, its nesting
// bounded, by Parse) into v, with the scanner Parse uses: keys match
// exactly, a later member of a name replaces an earlier one, values of
// another type than expected are no value (a list keeps its string items);
// an exec's id and cmdline are the first of their name. Strings alias the
// event's copy of the message, or its buffer of decoded strings.
func (e *Event) decodeContext(v *containerView, d []byte) {
	if len(d) == 0 || d[0] != '{' {
		return
	}
	e.objectMembers(d, 0, func(k string, vs, ve int, esc bool) {
		switch k {
		case "id":
			v.id = e.strAt(d, vs, ve, esc)
		case "privileged":
			v.privileged = boolAt(d, vs)
		case "hostPid":
			v.hostPid = boolAt(d, vs)
		case "hostNetwork":
			v.hostNetwork = boolAt(d, vs)
		case "hostIpc":
			v.hostIpc = boolAt(d, vs)
		case "readonlyRootfs":
			v.rootfs = boolAt(d, vs)
		case "user":
			v.user = e.strAt(d, vs, ve, esc)
		case "capAdd":
			v.capAdd = e.appendStrings(v.capAdd[:0], d, vs)
		case "capDrop":
			v.capDrop = e.appendStrings(v.capDrop[:0], d, vs)
		case "securityOpt":
			v.securityOpt = e.appendStrings(v.securityOpt[:0], d, vs)
		case "devices":
			v.devices = e.appendStrings(v.devices[:0], d, vs)
		case "mounts":
			v.mounts = v.mounts[:0]
			if d[vs] != '[' {
				return
			}
			arrayElems(d, vs, func(ms, _ int, _ bool) {
				if d[ms] != '{' {
					return
				}
				var mt Mount
				e.objectMembers(d, ms, func(mk string, mvs, mve int, mesc bool) {
					switch mk {
					case "type":
						mt.Type = e.strAt(d, mvs, mve, mesc).S
					case "source":
						mt.Source = e.strAt(d, mvs, mve, mesc).S
					case "destination":
						mt.Destination = e.strAt(d, mvs, mve, mesc).S
					case "rw":
						if b := boolAt(d, mvs); b.OK {
							mt.RW = FlagOf(b.V)
						}
					}
				})
				v.mounts = append(v.mounts, mt)
			})
		case "imageId":
			v.imageID = nonEmpty(e.strAt(d, vs, ve, esc))
		case "imageDigest":
			v.imageDigest = nonEmpty(e.strAt(d, vs, ve, esc))
		case "cmdline":
			v.cmdline = nonEmpty(e.strAt(d, vs, ve, esc))
		case "exec":
			if d[vs] != '{' {
				return
			}
			var id, cmdline Str
			var hasID, hasCmdline bool
			e.objectMembers(d, vs, func(xk string, xvs, xve int, xesc bool) {
				switch {
				case xk == "id" && !hasID:
					id, hasID = e.strAt(d, xvs, xve, xesc), true
				case xk == "cmdline" && !hasCmdline:
					cmdline, hasCmdline = e.strAt(d, xvs, xve, xesc), true
				}
			})
			v.execID, v.execCmdline = nonEmpty(id), nonEmpty(cmdline)
		}
	})
}

// objectMembers calls fn with the key and the value's span [vs, ve) of each
// member of the valid object at d[i].
func (e *Event) objectMembers(d []byte, i int, fn func(k string, vs, ve int, esc bool)) {
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return
	}
	for i < len(d) {
		end, esc := scanStr(d, i+1)
		if end < 0 {
			return
		}
		k := e.textOf(d, i+1, end, esc)
		vs := colon(d, end+1)
		if vs < 0 || vs >= len(d) {
			return
		}
		var ve int
		if esc = false; d[vs] == '"' { // scanned once: strAt reads the span as it is
			if ve, esc = scanStr(d, vs+1); ve < 0 {
				return
			}
			ve++
		} else if ve = skipValue(d, vs, 1); ve < 0 {
			return
		}
		fn(k, vs, ve, esc)
		var more bool
		if i, more, _ = sep(d, ve, '}'); !more {
			return
		}
	}
}

// arrayElems calls fn with the span of each element of the valid array at
// d[i].
func arrayElems(d []byte, i int, fn func(vs, ve int, esc bool)) {
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		return
	}
	for i < len(d) {
		var ve int
		var esc bool
		if d[i] == '"' {
			end, x := scanStr(d, i+1)
			if end < 0 {
				return
			}
			ve, esc = end+1, x
		} else if ve = skipValue(d, i, 1); ve < 0 {
			return
		}
		fn(i, ve, esc)
		var more bool
		if i, more, _ = sep(d, ve, ']'); !more {
			return
		}
	}
}

// strAt is the string value at d[vs:ve] (a span objectMembers or
// arrayElems handed out, esc whether it holds escapes), or no value for
// another type.
func (e *Event) strAt(d []byte, vs, ve int, esc bool) Str {
	if d[vs] != '"' {
		return Str{}
	}
	return Str{S: e.textOf(d, vs+1, ve-1, esc), OK: true}
}

// boolAt is the boolean literal at d[vs], or no value for another type.
func boolAt(d []byte, vs int) Bool {
	switch d[vs] {
	case 't':
		return Bool{V: true, OK: true}
	case 'f':
		return Bool{OK: true}
	}
	return Bool{}
}

// appendStrings appends the string items of the array at d[vs] (others are
// skipped; no array, nothing).
func (e *Event) appendStrings(dst []string, d []byte, vs int) []string {
	if d[vs] != '[' {
		return dst
	}
	arrayElems(d, vs, func(is, ie int, iesc bool) {
		if s := e.strAt(d, is, ie, iesc); s.OK {
			dst = append(dst, s.S)
		}
	})
	return dst
}

// HasContainerContext reports whether the event carries the security
// context of the container it is about (ContainerMember).
func (e *Event) HasContainerContext() bool { return e.ctx().ok }

func (e *Event) ctxBool(b func(*containerView) Bool) Bool {
	if v := e.ctx(); v.ok {
		return b(v)
	}
	return Bool{}
}

func (e *Event) ctxStr(s func(*containerView) Str) Str {
	if v := e.ctx(); v.ok {
		return s(v)
	}
	return Str{}
}

func (e *Event) ctxList(l func(*containerView) []string) []string {
	if v := e.ctx(); v.ok {
		return l(v)
	}
	return nil
}

// ContainerPrivileged is HostConfig.Privileged of the event's container.
func (e *Event) ContainerPrivileged() Bool {
	return e.ctxBool(func(v *containerView) Bool { return v.privileged })
}

// ContainerHostPID: the container shares the host's PID namespace.
func (e *Event) ContainerHostPID() Bool {
	return e.ctxBool(func(v *containerView) Bool { return v.hostPid })
}

// ContainerHostNetwork: the container shares the host's network namespace.
func (e *Event) ContainerHostNetwork() Bool {
	return e.ctxBool(func(v *containerView) Bool { return v.hostNetwork })
}

// ContainerHostIPC: the container shares the host's IPC namespace.
func (e *Event) ContainerHostIPC() Bool {
	return e.ctxBool(func(v *containerView) Bool { return v.hostIpc })
}

// ContainerReadonlyRootfs: the container's root filesystem is read-only.
func (e *Event) ContainerReadonlyRootfs() Bool {
	return e.ctxBool(func(v *containerView) Bool { return v.rootfs })
}

// ContainerUser is the user the container runs as, as configured ("" is
// the image's default).
func (e *Event) ContainerUser() Str {
	return e.ctxStr(func(v *containerView) Str { return v.user })
}

// ContainerImageID is the id of the image the container runs.
func (e *Event) ContainerImageID() Str {
	return e.ctxStr(func(v *containerView) Str { return v.imageID })
}

// ContainerImageDigest is the repository digest of the container's image.
func (e *Event) ContainerImageDigest() Str {
	return e.ctxStr(func(v *containerView) Str { return v.imageDigest })
}

// ContainerCmdline is what the container runs: its entrypoint and command.
func (e *Event) ContainerCmdline() Str {
	return e.ctxStr(func(v *containerView) Str { return v.cmdline })
}

// ContainerCapAdd lists the capabilities added (valid until the next Parse).
func (e *Event) ContainerCapAdd() []string {
	return e.ctxList(func(v *containerView) []string { return v.capAdd })
}

// ContainerCapDrop lists the capabilities dropped.
func (e *Event) ContainerCapDrop() []string {
	return e.ctxList(func(v *containerView) []string { return v.capDrop })
}

// ContainerSecurityOpt lists the security options.
func (e *Event) ContainerSecurityOpt() []string {
	return e.ctxList(func(v *containerView) []string { return v.securityOpt })
}

// ContainerDevices lists the host devices mapped into the container.
func (e *Event) ContainerDevices() []string {
	return e.ctxList(func(v *containerView) []string { return v.devices })
}

// ContainerMountSources lists the host paths of the container's mounts.
func (e *Event) ContainerMountSources() []string {
	return e.ctxList(func(v *containerView) []string { return v.mountSrcs })
}

// ContainerMounts lists the container's bind and volume mounts, in the
// engine's order (valid until the next Parse).
func (e *Event) ContainerMounts() []Mount {
	if v := e.ctx(); v.ok {
		return v.mounts
	}
	return nil
}

// MountString is m as source:destination:ro|rw (without the mode when it
// is unknown). The string is valid until the next MountString or Parse.
func (e *Event) MountString(m Mount) string {
	v := &e.cc
	v.scratch = append(append(append(v.scratch[:0], m.Source...), ':'), m.Destination...)
	if m.RW.Known() {
		if m.RW.True() {
			v.scratch = append(v.scratch, ":rw"...)
		} else {
			v.scratch = append(v.scratch, ":ro"...)
		}
	}
	return unsafe.String(unsafe.SliceData(v.scratch), len(v.scratch))
}

// FindMount returns the mount that arg selects: a decimal index into
// ContainerMounts ("0" is the first), or a path that the mount's
// destination (byDest) or source must match; the path may be a glob in
// which * matches any run of characters ('/' included) and ? any one, as
// Falco's container.mount.* fields take them.
func (e *Event) FindMount(arg string, byDest bool) (Mount, bool) {
	ms := e.ContainerMounts()
	if i, ok := mountIndex(arg); ok {
		if i < uint64(len(ms)) {
			return ms[i], true
		}
		return Mount{}, false
	}
	for _, m := range ms {
		p := m.Source
		if byDest {
			p = m.Destination
		}
		if Glob(arg, p) {
			return m, true
		}
	}
	return Mount{}, false
}

// mountIndex reads a decimal index the way Falco reads field indexes: no
// sign, no leading zero.
func mountIndex(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// Glob matches s against pattern, where * matches any run of bytes ('/'
// included: fnmatch without FNM_PATHNAME, as Falco's glob arguments) and ?
// any one byte; every other byte matches itself.
func Glob(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	// Iterative matching with one backtrack point: linear in practice,
	// O(len(pattern)*len(s)) at worst, no recursion.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ContextExecCmdline is the exec's command line that the live source
// looked up for an exec event that does not carry it (Podman).
func (e *Event) ContextExecCmdline() Str {
	return e.ctxStr(func(v *containerView) Str { return v.execCmdline })
}

// ContextExecID is the exec instance id the live source looked up for an
// exec event that does not carry it (Podman).
func (e *Event) ContextExecID() Str {
	return e.ctxStr(func(v *containerView) Str { return v.execID })
}
