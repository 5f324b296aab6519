package event

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The single pass of Parse: it validates the message with the scanner's
// grammar (scan.go) and, as it goes, keeps the members the accessors read.
// Top-level members and the Actor's are recognised by key; every other
// value is validated and skipped (skipValue).
//
// Adding a member: give it a name in topMember (or a case in actor), and a
// case in walk that reads it. A string is strMember; anything else can be
// kept as its raw, validated bytes (vs := i; i = skipValue(d, i, 1);
// raw := d[vs:i]) and read later by any JSON reader: the bytes are a valid
// JSON value nested at most maxDepth deep, so even a recursive reader is
// safe on them. ContainerMember is kept that way (container.go reads it on
// first use).

// member is a top-level member the accessors read.
type member uint8

const (
	mOther member = iota
	mType
	mAction
	mActor
	mStatus
	mID
	mFrom
	mScope
	mTimeNano
	mTime
	mHealthStatus
	mContainer // ContainerMember, matched exactly (not one of Docker's)
)

var memberNames = [...]string{
	mType: "Type", mAction: "Action", mActor: "Actor", mStatus: "status", mID: "id", mFrom: "from",
	mScope: "scope", mTimeNano: "timeNano", mTime: "time", mHealthStatus: "HealthStatus",
}

// topMember names the member a top-level key is. Keys match
// case-insensitively, as Docker's own decoder (encoding/json) matches them:
// ASCII keys by their length and letters, others (where Unicode folding
// makes "ſtatus" a status) with strings.EqualFold.
func topMember(k string) member {
	if len(k) == len(ContainerMember) && k == ContainerMember {
		return mContainer
	}
	var m member
	switch len(k) {
	case 2:
		m = mID
	case 4:
		switch k[0] | 0x20 {
		case 't':
			if k[1]|0x20 == 'y' {
				m = mType
			} else {
				m = mTime
			}
		case 'f':
			m = mFrom
		}
	case 5:
		if k[0]|0x20 == 'a' {
			m = mActor
		} else {
			m = mScope
		}
	case 6:
		if k[0]|0x20 == 'a' {
			m = mAction
		} else {
			m = mStatus
		}
	case 8:
		m = mTimeNano
	case 12:
		m = mHealthStatus
	}
	if m != mOther && foldASCII(k, memberNames[m]) {
		return m
	}
	if isASCII(k) {
		return mOther
	}
	for m := mType; m <= mHealthStatus; m++ {
		if strings.EqualFold(k, memberNames[m]) {
			return m
		}
	}
	return mOther
}

// isKey reports whether k matches name (an ASCII word) as topMember does.
func isKey(k, name string) bool {
	if foldASCII(k, name) {
		return true
	}
	return !isASCII(k) && strings.EqualFold(k, name)
}

// foldASCII compares k with name, letters only, ignoring ASCII case: a byte
// of k matches a letter of name only when it is that letter in either case.
func foldASCII(k, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i]|0x20 != name[i]|0x20 {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// walk validates e.buf as one JSON object and records its members; false
// when it is not valid (the caller then drops whatever was recorded).
func (e *Event) walk() bool {
	d := e.buf
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return false
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return skipWS(d, i+1) == len(d)
	}
	for {
		k, j := e.key(d, i)
		if j < 0 {
			return false
		}
		i = j
		switch topMember(k) {
		case mType:
			i = e.strMember(d, i, 1, &e.typ)
		case mAction:
			i = e.strMember(d, i, 1, &e.action)
		case mActor:
			i = e.actor(d, i)
		case mStatus:
			i = e.strMember(d, i, 1, &e.status)
		case mID:
			i = e.strMember(d, i, 1, &e.id)
		case mFrom:
			i = e.strMember(d, i, 1, &e.from)
		case mScope:
			i = e.strMember(d, i, 1, &e.scope)
		case mHealthStatus:
			i = e.strMember(d, i, 1, &e.healthStatus)
		case mTimeNano:
			vs := i
			if i = skipValue(d, i, 1); i >= 0 {
				n, ok := parseUint(d[vs:i])
				e.timeNano, e.hasTimeNano = int64(n), ok
			}
		case mTime:
			vs := i
			if i = skipValue(d, i, 1); i >= 0 {
				n, ok := parseUint(d[vs:i])
				e.timeSec, e.hasTimeSec = int64(n), ok
			}
		case mContainer:
			vs := i
			if i = skipValue(d, i, 1); i >= 0 {
				e.cc.raw = unsafe.String(unsafe.SliceData(d[vs:i]), i-vs)
			}
		default:
			i = skipValue(d, i, 1)
		}
		if i < 0 {
			return false
		}
		var more, ok bool
		if i, more, ok = sep(d, i, '}'); !more {
			return ok && skipWS(d, i) == len(d)
		}
	}
}

// actor reads the Actor member's value at i: its ID and Attributes. A later
// Actor replaces an earlier one, whatever its type.
func (e *Event) actor(d []byte, i int) int {
	e.actorID = Str{}
	e.attrs = e.attrs[:0]
	e.dialect = Docker
	if i >= len(d) || d[i] != '{' {
		return skipValue(d, i, 1)
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1
	}
	for {
		k, j := e.key(d, i)
		if j < 0 {
			return -1
		}
		i = j
		switch {
		case isKey(k, "ID"):
			i = e.strMember(d, i, 2, &e.actorID)
		case isKey(k, "Attributes"):
			i = e.attributes(d, i)
		default:
			i = skipValue(d, i, 2)
		}
		if i < 0 {
			return -1
		}
		var more, ok bool
		if i, more, ok = sep(d, i, '}'); !more {
			if !ok {
				return -1
			}
			return i
		}
	}
}

// attributes reads Actor.Attributes at i: the members whose value is a
// string, in message order (other values are skipped). A later Attributes
// replaces an earlier one.
func (e *Event) attributes(d []byte, i int) int {
	e.attrs = e.attrs[:0]
	if i >= len(d) || d[i] != '{' {
		return skipValue(d, i, 2)
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1
	}
	for {
		k, j := e.key(d, i)
		if j < 0 {
			return -1
		}
		i = j
		if d[i] == '"' {
			end, esc := quickEnd(unsafe.Pointer(unsafe.SliceData(d)), len(d), i+1), false
			if end < 0 {
				if end, esc = scanStr(d, i+1); end < 0 {
					return -1
				}
			}
			e.attrs = append(e.attrs, Attr{Key: k, Value: e.text(i+1, end, esc)})
			if k == podmanMarker {
				e.dialect = Podman
			}
			i = end + 1
		} else if i = skipValue(d, i, 3); i < 0 {
			return -1
		}
		var more, ok bool
		if i, more, ok = sep(d, i, '}'); !more {
			if !ok {
				return -1
			}
			return i
		}
	}
}

// key reads a member's key at i and the colon after it; it returns the key
// and where the value starts (-1 when invalid). The value's first byte is
// always in bounds.
func (e *Event) key(d []byte, i int) (string, int) {
	if i >= len(d) || d[i] != '"' {
		return "", -1
	}
	end, esc := quickEnd(unsafe.Pointer(unsafe.SliceData(d)), len(d), i+1), false
	if end < 0 {
		if end, esc = scanStr(d, i+1); end < 0 {
			return "", -1
		}
	}
	j := skipWS(d, end+1)
	if j >= len(d) || d[j] != ':' {
		return "", -1
	}
	if j = skipWS(d, j+1); j >= len(d) {
		return "", -1
	}
	return e.text(i+1, end, esc), j
}

// strMember reads a value that counts only as a string: any other value
// (null, a number, an object...) is validated and makes dst absent.
func (e *Event) strMember(d []byte, i, depth int, dst *Str) int {
	if d[i] != '"' {
		*dst = Str{}
		return skipValue(d, i, depth)
	}
	end, esc := quickEnd(unsafe.Pointer(unsafe.SliceData(d)), len(d), i+1), false
	if end < 0 {
		if end, esc = scanStr(d, i+1); end < 0 {
			return -1
		}
	}
	*dst = Str{S: e.text(i+1, end, esc), OK: true}
	return end + 1
}

// text is the string whose raw content is e.buf[start:end]: the bytes
// themselves when it has no escape sequence, else its decoded form in
// e.unesc (which may move as it grows: strings already made keep the
// memory they alias).
func (e *Event) text(start, end int, esc bool) string { return e.textOf(e.buf, start, end, esc) }

// textOf is text for d[start:end], d aliasing e.buf.
func (e *Event) textOf(d []byte, start, end int, esc bool) string {
	if !esc {
		return unsafe.String(unsafe.SliceData(d[start:end]), end-start)
	}
	n := len(e.unesc)
	e.unesc = appendUnescaped(e.unesc, d[start:end])
	return unsafe.String(unsafe.SliceData(e.unesc[n:]), len(e.unesc)-n)
}

// appendUnescaped appends the decoded content of a valid JSON string (its
// escape sequences checked by scanStr) as encoding/json decodes it: \uXXXX
// surrogate pairs make one character, a surrogate that is not half of a
// pair is U+FFFD (and an escape after it is decoded on its own). Other
// bytes, invalid UTF-8 included, are kept as they are.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				j = len(s) - i
			}
			dst = append(dst, s[i:i+j]...)
			i += j
			continue
		}
		c := s[i+1]
		i += 2
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(s[i+2:])); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

// hex4 decodes four hex digits (already checked by scanStr).
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
