package event

import "encoding/binary"

// scanTop is the replay source's per-line check, in one pass: it validates
// that data is one JSON object (RFC 8259 grammar: strings with valid escapes
// and no raw control characters, numbers, literals, nesting) and picks the
// top-level timeNano and time values on the way. It exists because the
// source looks at every event on the next_batch hot path: gjson.Valid
// followed by a gjson walk for the timestamps reads each byte twice and
// costs about three times as much.
//
// Nesting deeper than maxDepth is reported as invalid (no Docker event
// nests beyond 3 levels); UTF-8 is not validated (neither does gjson, and
// the extraction path copes with any bytes).
func scanTop(data []byte) (ts uint64, hasTS, valid bool) {
	s := scanner{d: data}
	s.ws()
	if s.i >= len(s.d) || s.d[s.i] != '{' {
		return 0, false, false
	}
	s.i++
	var nano, sec uint64
	var hasNano, hasSec bool
	s.ws()
	if s.i < len(s.d) && s.d[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			ks, ke, ok := s.str()
			if !ok {
				return 0, false, false
			}
			s.ws()
			if s.i >= len(s.d) || s.d[s.i] != ':' {
				return 0, false, false
			}
			s.i++
			s.ws()
			vs := s.i
			if !s.value(1) {
				return 0, false, false
			}
			key := s.d[ks:ke]
			switch {
			case equalFoldASCII(key, "timeNano"):
				nano, hasNano = parseUint(s.d[vs:s.i])
			case equalFoldASCII(key, "time"):
				sec, hasSec = parseUint(s.d[vs:s.i])
			}
			s.ws()
			if s.i >= len(s.d) {
				return 0, false, false
			}
			if s.d[s.i] == ',' {
				s.i++
				continue
			}
			if s.d[s.i] == '}' {
				s.i++
				break
			}
			return 0, false, false
		}
	}
	s.ws()
	if s.i != len(s.d) {
		return 0, false, false
	}
	switch {
	case hasNano:
		return nano, true, true
	case hasSec && sec <= maxSec:
		return sec * 1_000_000_000, true, true
	}
	return 0, false, true
}

const maxDepth = 512

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasSpecial reports whether any byte of x is '"', '\\' or < 0x20. Bytes
// >= 0x80 (UTF-8) may also be flagged; the byte loop then decides.
func hasSpecial(x uint64) bool {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(b-lsb)&^b|(x-lsb*0x20)&^x)&msb != 0
}

type scanner struct {
	d []byte
	i int
}

// byteClass marks the bytes a string scan must stop at: '"', '\\' and the
// control characters JSON forbids raw.
var byteClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

func (s *scanner) ws() {
	for s.i < len(s.d) {
		switch s.d[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str scans a string at s.i; start/end delimit its raw content.
func (s *scanner) str() (start, end int, ok bool) {
	d := s.d
	if s.i >= len(d) || d[s.i] != '"' {
		return 0, 0, false
	}
	i := s.i + 1
	start = i
	for {
		// Eight bytes at a time while none of them is special (SWAR: a
		// byte is flagged when it is '"', '\\' or below 0x20).
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			if hasSpecial(x) {
				break
			}
			i += 8
		}
		for i < len(d) && !byteClass[d[i]] {
			i++
		}
		if i >= len(d) {
			return 0, 0, false
		}
		switch c := d[i]; {
		case c == '"':
			s.i = i + 1
			return start, i, true
		case c == '\\':
			if i+1 >= len(d) {
				return 0, 0, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return 0, 0, false
				}
				i += 6
			default:
				return 0, 0, false
			}
		default: // a raw control character
			return 0, 0, false
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) value(depth int) bool {
	if depth > maxDepth || s.i >= len(s.d) {
		return false
	}
	switch c := s.d[s.i]; {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '{':
		s.i++
		s.ws()
		if s.i < len(s.d) && s.d[s.i] == '}' {
			s.i++
			return true
		}
		for {
			s.ws()
			if _, _, ok := s.str(); !ok {
				return false
			}
			s.ws()
			if s.i >= len(s.d) || s.d[s.i] != ':' {
				return false
			}
			s.i++
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			if more, ok := s.sep('}'); !more {
				return ok
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.d) && s.d[s.i] == ']' {
			s.i++
			return true
		}
		for {
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			if more, ok := s.sep(']'); !more {
				return ok
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return s.num()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return false
}

func (s *scanner) lit(w string) bool {
	if len(s.d)-s.i < len(w) || string(s.d[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// num scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) num() bool {
	d, i := s.d, s.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.i = i
	return true
}

// parseUint reads a raw JSON number that is a non-negative integer fitting
// an int64 (as timestamps are); anything else is not a timestamp.
func parseUint(raw []byte) (uint64, bool) {
	if len(raw) == 0 || len(raw) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return n, true
}

// equalFoldASCII compares a raw (unescaped) key with an ASCII name,
// ignoring case, as encoding/json matches keys.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if d >= 'A' && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// sep consumes what follows a member or element: ',' (more follows) or the
// closing byte (ok, no more). Anything else is invalid (not ok).
func (s *scanner) sep(closing byte) (more, ok bool) {
	s.ws()
	if s.i < len(s.d) {
		switch s.d[s.i] {
		case ',':
			s.i++
			return true, true
		case closing:
			s.i++
			return false, true
		}
	}
	return false, false
}
