package event

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// The gjson-based Parse this package used before its single-pass walk
// (parse.go), kept as a reference: FuzzParse checks that both read every
// message alike. It validated with scanTop first, then walked with gjson.

func (e *Event) parseGJSON(data []byte) {
	e.buf = append(e.buf[:0], data...)
	e.resetGJSON()
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
		e.topGJSON(k.Str, v)
		return true
	})
	e.normalise()
}

func (e *Event) resetGJSON() {
	e.valid, e.plain = false, false
	e.status, e.id, e.from = Str{}, Str{}, Str{}
	e.typ, e.action, e.scope, e.actorID = Str{}, Str{}, Str{}, Str{}
	e.attrs = e.attrs[:0]
	e.healthStatus = Str{}
	e.timeNano, e.timeSec = 0, 0
	e.hasTimeNano, e.hasTimeSec = false, false
	e.dialect = Docker
	e.name, e.args, e.norm = Str{}, Str{}, Str{}
	e.cc.reset()
}

// Key matching is case-insensitive, as Docker's own (encoding/json) decoder
// is; for duplicate keys the last one wins, as there.
func (e *Event) topGJSON(k string, v gjson.Result) {
	switch {
	case k == ContainerMember: // the plugin's own member: exact name
		e.cc.raw = v.Raw
	case strings.EqualFold(k, "Type"):
		e.typ = strGJSON(v)
	case strings.EqualFold(k, "Action"):
		e.action = strGJSON(v)
	case strings.EqualFold(k, "Actor"):
		e.actorID = Str{}
		e.attrs = e.attrs[:0]
		e.dialect = Docker
		if !v.IsObject() {
			return
		}
		v.ForEach(func(ak, av gjson.Result) bool {
			switch {
			case strings.EqualFold(ak.Str, "ID"):
				e.actorID = strGJSON(av)
			case strings.EqualFold(ak.Str, "Attributes"):
				e.attrs = e.attrs[:0]
				if av.IsObject() {
					av.ForEach(func(kk, vv gjson.Result) bool {
						if vv.Type == gjson.String {
							e.attrs = append(e.attrs, Attr{Key: kk.Str, Value: vv.Str})
							if kk.Str == podmanMarker {
								e.dialect = Podman
							}
						}
						return true
					})
				}
			}
			return true
		})
	case strings.EqualFold(k, "status"):
		e.status = strGJSON(v)
	case strings.EqualFold(k, "id"):
		e.id = strGJSON(v)
	case strings.EqualFold(k, "from"):
		e.from = strGJSON(v)
	case strings.EqualFold(k, "scope"):
		e.scope = strGJSON(v)
	case strings.EqualFold(k, "timeNano"):
		e.timeNano, e.hasTimeNano = integerGJSON(v)
	case strings.EqualFold(k, "time"):
		e.timeSec, e.hasTimeSec = integerGJSON(v)
	case strings.EqualFold(k, "HealthStatus"):
		e.healthStatus = strGJSON(v)
	}
}

func strGJSON(v gjson.Result) Str {
	if v.Type != gjson.String {
		return Str{}
	}
	return Str{S: v.Str, OK: true}
}

// integer reads a JSON integer exactly (gjson's float64 would round
// nanosecond timestamps).
func integerGJSON(v gjson.Result) (int64, bool) {
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
