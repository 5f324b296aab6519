package event

import (
	"encoding/binary"
	"math/bits"
)

// The JSON scanner both sides use. It validates RFC 8259 grammar (strings
// with valid escapes and no raw control characters, numbers, literals,
// nesting at most maxDepth levels below the top object) in one pass, without
// recursion deeper than the nesting and without allocating. UTF-8 is not
// validated (neither does encoding/json reject it, and every output escapes
// what it must).
//
// scanTop is the replay source's per-line check (Probe), on the next_batch
// hot path: it only picks the top-level timestamps on the way. Event.Parse
// walks the same grammar with the same helpers and records what the fields
// need as it validates (parse.go): each byte of a message is read once.
//
// Speed comes from strings, which are most of a Docker event's bytes: they
// are scanned eight bytes at a time, and the first byte that ends the run
// (a quote, a backslash, a control character) is located from the SWAR mask
// directly, without a byte loop.

// maxDepth is the deepest nesting accepted below the top-level object: no
// Docker event nests beyond 3, and the bound keeps every recursive walk
// (here and in any later consumer of a validated message) far from Go's
// stack limit, an overflow of which is a fatal error no recover contains.
const maxDepth = 512

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask has the high bit set in each byte of x that is '"', '\\' or
// below 0x20, give or take bytes above the lowest such byte (the borrows of
// the subtractions): its lowest set bit always marks the first one exactly.
//
// Flipping bit 1 maps '"' (0x22) to 0x20 and keeps every control character
// below 0x20 (and every other byte at 0x21 or above), so one "less than
// 0x21" test finds both; a second finds backslashes.
func specialMask(x uint64) uint64 {
	y := x ^ (lsb * 0x02)
	b := x ^ (lsb * '\\')
	return ((y-lsb*0x21)&^y | (b-lsb)&^b) & msb
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

// skipWS returns the index of the first byte at or after i that is not JSON
// whitespace.
func skipWS(d []byte, i int) int {
	for i < len(d) && d[i] <= ' ' && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t') {
		i++
	}
	return i
}

// scanStr scans a string whose opening quote is at i-1. It returns the index
// of the closing quote (-1 when the string is invalid or unterminated) and
// whether the string holds escape sequences.
func scanStr(d []byte, i int) (end int, esc bool) {
	for {
		if i+8 <= len(d) {
			m := specialMask(binary.LittleEndian.Uint64(d[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(d) && !byteClass[d[i]] {
				i++
			}
			if i >= len(d) {
				return -1, esc
			}
		}
		switch d[i] {
		case '"':
			return i, esc
		case '\\':
			esc = true
			if i = skipEscape(d, i); i < 0 {
				return -1, esc
			}
		default: // a raw control character
			return -1, esc
		}
	}
}

// skipEscape validates the escape sequence at d[i] (a backslash) and
// returns the index after it, or -1.
func skipEscape(d []byte, i int) int {
	if i+1 >= len(d) {
		return -1
	}
	switch d[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
			return -1
		}
		return i + 6
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipValue validates the value at i (after whitespace), depth levels below
// the top object (a member of the top object is at depth 1), and returns the
// index after it, or -1. A container deeper than maxDepth is invalid: the
// top object and at most maxDepth levels of containers below it.
func skipValue(d []byte, i, depth int) int {
	if i >= len(d) {
		return -1
	}
	if (d[i] == '{' || d[i] == '[') && depth > maxDepth {
		return -1
	}
	switch c := d[i]; {
	case c == '"':
		end, _ := scanStr(d, i+1)
		if end < 0 {
			return -1
		}
		return end + 1
	case c == '{':
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(d) || d[i] != '"' {
				return -1
			}
			end, _ := scanStr(d, i+1)
			if end < 0 {
				return -1
			}
			i = skipWS(d, end+1)
			if i >= len(d) || d[i] != ':' {
				return -1
			}
			if i = skipValue(d, skipWS(d, i+1), depth+1); i < 0 {
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
	case c == '[':
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(d, i, depth+1); i < 0 {
				return -1
			}
			var more, ok bool
			if i, more, ok = sep(d, i, ']'); !more {
				if !ok {
					return -1
				}
				return i
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return skipNum(d, i)
	case c == 't':
		return skipLit(d, i, "true")
	case c == 'f':
		return skipLit(d, i, "false")
	case c == 'n':
		return skipLit(d, i, "null")
	}
	return -1
}

// sep consumes what follows a member or element at i: a ',' (more; j is
// where the next one starts, whitespace skipped) or the closing byte (ok,
// no more; j is after it). Anything else is invalid (neither).
func sep(d []byte, i int, closing byte) (j int, more, ok bool) {
	i = skipWS(d, i)
	if i < len(d) {
		switch d[i] {
		case ',':
			return skipWS(d, i+1), true, true
		case closing:
			return i + 1, false, true
		}
	}
	return i, false, false
}

func skipLit(d []byte, i int, w string) int {
	if len(d)-i < len(w) || string(d[i:i+len(w)]) != w {
		return -1
	}
	return i + len(w)
}

// skipNum scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNum(d []byte, i int) int {
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
		return -1
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return -1
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
			return -1
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i
}

// scanTop is Probe: whether data is one JSON object (and nothing else but
// whitespace), and its top-level timeNano and time values on the way.
//
// It is the same grammar as skipValue, written as one flat state machine
// (labels and gotos, an explicit stack of container kinds) with the string
// scan inlined: on the next_batch hot path, a call per string and per value
// cost more than the bytes themselves (Docker events are mostly short keys
// and values).
func scanTop(d []byte) (ts uint64, hasTS, valid bool) {
	n := len(d)
	var arrays [maxDepth/64 + 1]uint64 // bit k: the container at depth k is an array
	depth := 0                         // containers open below the top object
	var nano, sec uint64
	var hasNano, hasSec bool
	ks := 0        // where the current key starts
	tsKey := 0     // the current top-level member is timeNano (1), time (2)
	inKey := false // the string being scanned is a key
	i := skipWS(d, 0)
	if i >= n || d[i] != '{' {
		return 0, false, false
	}
	i = skipWS(d, i+1)
	if i < n && d[i] == '}' {
		i++
		goto done
	}

key: // a key is due at i
	if i >= n || d[i] != '"' {
		return 0, false, false
	}
	i++
	ks = i
	inKey = true
	goto str

colon: // after a key
	if i < n && d[i] == ':' {
		i++
	} else if i = skipWS(d, i); i < n && d[i] == ':' {
		i++
	} else {
		return 0, false, false
	}

value: // a value is due at i
	if i < n && d[i] <= ' ' {
		i = skipWS(d, i)
	}
	if i >= n {
		return 0, false, false
	}
	if depth == 0 && tsKey != 0 {
		// A later member of the same name replaces the earlier one,
		// whatever its type.
		if tsKey == 1 {
			hasNano = false
		} else {
			hasSec = false
		}
	}
	switch c := d[i]; {
	case c == '"':
		i++
		inKey = false
		goto str
	case c == '{' || c == '[':
		if depth++; depth > maxDepth {
			return 0, false, false
		}
		w, b := depth>>6, uint64(1)<<(depth&63)
		i = skipWS(d, i+1)
		if c == '[' {
			arrays[w] |= b
			if i < n && d[i] == ']' {
				i++
				depth--
				goto after
			}
			goto value
		}
		arrays[w] &^= b
		if i < n && d[i] == '}' {
			i++
			depth--
			goto after
		}
		goto key
	case c == '-' || c >= '0' && c <= '9':
		vs := i
		if i = skipNum(d, i); i < 0 {
			return 0, false, false
		}
		if depth == 0 && tsKey != 0 {
			if tsKey == 1 {
				nano, hasNano = parseUint(d[vs:i])
			} else {
				sec, hasSec = parseUint(d[vs:i])
			}
		}
	case c == 't':
		if i = skipLit(d, i, "true"); i < 0 {
			return 0, false, false
		}
	case c == 'f':
		if i = skipLit(d, i, "false"); i < 0 {
			return 0, false, false
		}
	case c == 'n':
		if i = skipLit(d, i, "null"); i < 0 {
			return 0, false, false
		}
	default:
		return 0, false, false
	}

after: // after a value at depth: ',' or the end of its container
	if i < n && d[i] <= ' ' {
		i = skipWS(d, i)
	}
	if i >= n {
		return 0, false, false
	}
	switch d[i] {
	case ',':
		i++
		if i < n && d[i] <= ' ' {
			i = skipWS(d, i)
		}
		if arrays[depth>>6]&(1<<(depth&63)) != 0 {
			goto value
		}
		goto key
	case '}':
		if arrays[depth>>6]&(1<<(depth&63)) != 0 {
			return 0, false, false
		}
		i++
		if depth == 0 {
			goto done
		}
		depth--
		goto after
	case ']':
		if arrays[depth>>6]&(1<<(depth&63)) == 0 {
			return 0, false, false
		}
		i++
		depth--
		goto after
	}
	return 0, false, false

str: // inside a string (key or value) whose opening quote is at i-1
	for {
		if i+8 <= n {
			m := specialMask(binary.LittleEndian.Uint64(d[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < n && !byteClass[d[i]] {
				i++
			}
			if i >= n {
				return 0, false, false
			}
		}
		if d[i] == '"' {
			break
		}
		if d[i] != '\\' {
			return 0, false, false // a raw control character
		}
		if i = skipEscape(d, i); i < 0 {
			return 0, false, false
		}
	}
	i++
	if inKey {
		if depth == 0 {
			// The timestamps' keys are the only keys of 4 or 8 bytes
			// that matter here: a cheap length test first.
			tsKey = 0
			if k := d[ks : i-1]; len(k) == 8 && equalFoldASCII(k, "timeNano") {
				tsKey = 1
			} else if len(k) == 4 && equalFoldASCII(k, "time") {
				tsKey = 2
			}
		}
		goto colon
	}
	goto after

done:
	if skipWS(d, i) != n {
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

// parseUint reads a raw JSON value that is a non-negative integer fitting
// an int64 (as timestamps are); anything else (a sign, even on -0, a
// fraction, an exponent, a string) is not a timestamp.
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
// ignoring ASCII case.
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
