package event

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
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
// are scanned eight bytes at a time (without bounds checks: the loop bounds
// them), and the first byte that ends the run (a quote, a backslash, a
// control character) is located from the SWAR mask directly, without a byte
// loop; timestamps are read eight digits at a time. The string scan is a
// small leaf function: inlined into a large state machine, its loop lost its
// registers to the machine's state and ran slower.

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
// 0x21" test finds both; a "zero" test on x ^ '\\' finds backslashes. Both
// tests mask out bytes whose high bit was set in their operand, which for
// both operands is exactly the bytes of x at 0x80 or above: one &^ x does it.
func specialMask(x uint64) uint64 {
	y := x ^ (lsb * 0x02)
	b := x ^ (lsb * '\\')
	return ((y - lsb*0x21) | (b - lsb)) &^ x & msb
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

// load64 reads the eight bytes at p+i, little-endian, without a bounds
// check: callers loop while i+8 <= len. (On little-endian hosts, which the
// plugin targets, one unaligned load; load_be.go elsewhere.)
func load64(p unsafe.Pointer, i int) uint64 {
	if littleEndian {
		return *(*uint64)(unsafe.Add(p, i))
	}
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, i)), 8))
}

// scanStr scans a string whose opening quote is at i-1. It returns the index
// of the closing quote (-1 when the string is invalid or unterminated) and
// whether the string holds escape sequences.
func scanStr(d []byte, i int) (end int, esc bool) {
	p := unsafe.Pointer(unsafe.SliceData(d))
	n := len(d)
	for {
		for ; i+8 <= n; i += 8 {
			if m := specialMask(load64(p, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
		}
		for i < n && !byteClass[d[i]] {
			i++
		}
		if i >= n {
			return -1, esc
		}
	special:
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

// quickEnd is the index of the closing quote of the string whose content
// starts at p+i when it ends within eight bytes without an escape, else -1
// (scanStr then decides). Small enough to be inlined: most keys and many
// values end there, without a call.
func quickEnd(p unsafe.Pointer, n, i int) int {
	if i+8 <= n {
		if m := specialMask(load64(p, i)); m != 0 {
			if j := i + bits.TrailingZeros64(m)>>3; *(*byte)(unsafe.Add(p, j)) == '"' {
				return j
			}
		}
	}
	return -1
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
	switch c := d[i]; {
	case c == '"':
		end, _ := scanStr(d, i+1)
		if end < 0 {
			return -1
		}
		return end + 1
	case c == '{':
		if depth > maxDepth {
			return -1
		}
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			return i + 1
		}
		for {
			// Members as Docker writes them, "key":"value" without
			// whitespace or escapes, in one loop; the general way for
			// the rest.
			j, at := stringMembers(d, i)
			switch at {
			case runEnd:
				return j
			case runMember:
				if i = skipWS(d, j); i >= len(d) || d[i] != '"' {
					return -1
				}
				end, _ := scanStr(d, i+1)
				if end < 0 {
					return -1
				}
				if i = colon(d, end+1); i < 0 {
					return -1
				}
			case runValue:
				i = skipWS(d, j)
			}
			if i = skipValue(d, i, depth+1); i < 0 {
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
		if depth > maxDepth {
			return -1
		}
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

// What stringMembers stopped at.
const (
	runMember = iota // a member to read the general way starts at the index
	runValue         // a member's key is read; its value (after whitespace) is at the index
	runEnd           // the object is read; the index is after its '}'
)

// stringMembers reads the members of an object from i (where a member
// starts) while they are as Docker writes them: "key":"value" pairs without
// whitespace, escapes or values of other types, in one loop with a parity
// bit for key and value instead of calls per string (the actor attributes
// are most of an event). It stops at the first member it cannot read that
// way (returning its start, or its value's) or after the closing brace; it
// never accepts what the general way would refuse.
func stringMembers(d []byte, i int) (int, int) {
	j, at, _ := stringMembersTS(d, i, nil)
	return j, at
}

// stringMembersTS is stringMembers for the top level: a string member named
// like a timestamp clears its bit in *has (a later member of the same name
// replaces the earlier one, whatever its type). It also returns where the
// member it stopped in starts.
func stringMembersTS(d []byte, i int, has *uint8) (int, int, int) {
	p := unsafe.Pointer(unsafe.SliceData(d))
	n := len(d)
	member := i
	if i >= n || d[i] != '"' {
		return member, runMember, member
	}
	i++
	inValue := false
	for {
		for ; i+8 <= n; i += 8 {
			if m := specialMask(load64(p, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
		}
		for i < n && !byteClass[d[i]] {
			i++
		}
	special:
		if i+2 >= n || d[i] != '"' {
			return member, runMember, member // an escape, a control character, the end
		}
		switch d[i+1] {
		case ':':
			if inValue {
				return member, runMember, member
			}
			if d[i+2] != '"' {
				return i + 2, runValue, member
			}
			if has != nil {
				*has &^= tsKind(d[member+1 : i])
			}
		case ',':
			if !inValue || d[i+2] != '"' {
				return member, runMember, member
			}
			member = i + 2
		case '}':
			if !inValue {
				return member, runMember, member
			}
			return i + 2, runEnd, member
		default:
			return member, runMember, member
		}
		inValue = !inValue
		i += 3
	}
}

// colon consumes the ':' after a key (the key's closing quote is at i-1)
// and the whitespace around it; it returns where the value starts, or -1.
func colon(d []byte, i int) int {
	if i < len(d) && d[i] == ':' {
		i++
	} else if i = skipWS(d, i); i < len(d) && d[i] == ':' {
		i++
	} else {
		return -1
	}
	if i < len(d) && d[i] <= ' ' {
		i = skipWS(d, i)
	}
	return i
}

// sep consumes what follows a member or element at i: a ',' (more; j is
// where the next one starts, whitespace skipped) or the closing byte (ok,
// no more; j is after it). Anything else is invalid (neither).
func sep(d []byte, i int, closing byte) (j int, more, ok bool) {
	if i < len(d) && d[i] <= ' ' {
		i = skipWS(d, i)
	}
	if i < len(d) {
		switch d[i] {
		case ',':
			if i++; i < len(d) && d[i] <= ' ' {
				i = skipWS(d, i)
			}
			return i, true, true
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
func scanTop(d []byte) (ts uint64, hasTS, valid bool) {
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return 0, false, false
	}
	i = skipWS(d, i+1)
	var nano, sec uint64
	var has uint8 // tsNano, tsSec: the member was an integer timestamp
	if i < len(d) && d[i] == '}' {
		i++
	} else {
		for {
			// Runs of string members in one loop (stringMembers); a
			// timestamp is a number, so never in a run.
			j, at, member := stringMembersTS(d, i, &has)
			var key []byte
			switch at {
			case runEnd:
				i = j
				goto end
			case runMember:
				if i = skipWS(d, j); i >= len(d) || d[i] != '"' {
					return 0, false, false
				}
				ke, _ := scanStr(d, i+1)
				if ke < 0 {
					return 0, false, false
				}
				key = d[i+1 : ke]
				if i = colon(d, ke+1); i < 0 {
					return 0, false, false
				}
			case runValue:
				// Stopped after `"key":` (j is after the colon).
				key = d[member+1 : j-2]
				i = skipWS(d, j)
			}
			if i >= len(d) {
				return 0, false, false
			}
			// A later member of the same name replaces the earlier
			// one, whatever its type.
			kind := tsKind(key)
			has &^= kind
			if c := d[i]; c >= '0' && c <= '9' {
				var n uint64
				var ok bool
				if i, n, ok = scanUint(d, i); i < 0 {
					return 0, false, false
				}
				if ok && kind != 0 {
					has |= kind
					if kind == tsNano {
						nano = n
					} else {
						sec = n
					}
				}
			} else if i = skipValue(d, i, 1); i < 0 {
				return 0, false, false
			}
			var more, ok bool
			if i, more, ok = sep(d, i, '}'); !more {
				if !ok {
					return 0, false, false
				}
				break
			}
		}
	}
end:
	if skipWS(d, i) != len(d) {
		return 0, false, false
	}
	switch {
	case has&tsNano != 0:
		return nano, true, true
	case has&tsSec != 0 && sec <= maxSec:
		return sec * 1_000_000_000, true, true
	}
	return 0, false, true
}

const (
	tsNano = 1 << iota
	tsSec
)

// tsKind tells the timestamps' keys (case-insensitive, as encoding/json
// matches) from others by length and one word compare: OR 0x20 folds the
// ASCII case of letters, and maps no other byte to a letter of these names.
func tsKind(k []byte) uint8 {
	switch len(k) {
	case 8:
		if binary.LittleEndian.Uint64(k)|0x2020202020202020 == 0x6f6e616e656d6974 { // "timenano"
			return tsNano
		}
	case 4:
		if binary.LittleEndian.Uint32(k)|0x20202020 == 0x656d6974 { // "time"
			return tsSec
		}
	}
	return 0
}

// scanUint scans the number at i (its first byte a digit) and returns the
// index after it (-1 when invalid) and, when it is an integer fitting an
// int64, its value (ok). Eight digits at a time: nanosecond timestamps have
// nineteen.
func scanUint(d []byte, i int) (end int, n uint64, ok bool) {
	start := i
	p := unsafe.Pointer(unsafe.SliceData(d))
	for ; i+8 <= len(d); i += 8 {
		x := load64(p, i)
		// Every byte a digit: high nibble 3, and no carry out of the low
		// nibble when adding 6.
		if x&0xf0f0f0f0f0f0f0f0|(x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0>>4 != 0x3333333333333333 {
			break
		}
		x -= 0x3030303030303030
		x = (x*10 + x>>8) & 0x00ff00ff00ff00ff
		x = (x*100 + x>>16) & 0x0000ffff0000ffff
		x = (x*10000 + x>>32) & 0x00000000ffffffff
		n = n*100000000 + x
	}
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		n = n*10 + uint64(d[i]-'0')
		i++
	}
	digits := i - start
	if (d[start] == '0' && digits > 1) || i < len(d) && (d[i] == '.' || d[i] == 'e' || d[i] == 'E') {
		// Not an integer (or not valid: skipNum decides).
		return skipNum(d, start), 0, false
	}
	return i, n, digits <= 18 || digits == 19 && n <= 1<<63-1
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
