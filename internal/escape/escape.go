// Package escape makes text from events and daemons safe to print: it
// rewrites the bytes a terminal, a log collector or a line-oriented reader
// acts on, and leaves everything else as it is.
//
// Anyone who can set a container label or run `docker exec` controls bytes
// that end up in Falco's outputs (event_to_string, field values in alert
// lines) and in the plugin's own log lines. Unescaped, a newline forges a
// second output line (a fake alert), ESC drives the terminal, and a NUL ends
// the C string early, hiding what follows it.
//
// What is rewritten, exactly:
//
//	0x0A (LF)                      \n
//	0x0D (CR)                      \r
//	0x09 (TAB)                     \t
//	other bytes 0x00-0x1F, 0x7F    \xHH (two lower-case hex digits: NUL is \x00, ESC \x1b, DEL \x7f)
//	U+0080-U+009F (C1 controls,    \u0080 ... \u009f
//	  UTF-8 bytes C2 80 - C2 9F)
//
// Every other byte is kept, backslashes included, so a value without
// control characters is exactly what the daemon sent (and rules compare
// such values unchanged). The escaping is therefore not reversible: a value
// that holds the two characters `\n` prints like one that held a newline.
// That is a choice: what matters is that no byte of a value can end a line,
// move the cursor or cut the string, not that it round-trips.
//
// Text that needs no escaping costs one scan (eight bytes at a time) and
// no allocation.
package escape

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// suspect reports whether any of the eight bytes in x is a C0 control, DEL
// or 0xC2 (the first byte of a UTF-8 C1 control). It may report a C2 that
// starts a printable character (U+00A0-U+00BF); the byte loop decides.
func suspect(x uint64) bool {
	del := x ^ (lsb * 0x7f)
	c2 := x ^ (lsb * 0xc2)
	// (v - 0x01...) &^ v has a byte's high bit set when that byte of v is
	// zero (or, for "< 0x20", below 0x20), give or take borrows into bytes
	// that already qualify; any set bit means at least one byte qualifies.
	return ((x-lsb*0x20)&^x|(del-lsb)&^del|(c2-lsb)&^c2)&msb != 0
}

// at returns the length of the escape sequence of the character at s[i]
// (0 when it is kept as is) and the number of input bytes it covers.
func at(s string, i int) (outLen, inLen int) {
	c := s[i]
	switch {
	case c == '\n' || c == '\r' || c == '\t':
		return 2, 1
	case c < 0x20 || c == 0x7f:
		return 4, 1
	case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
		return 6, 2
	}
	return 0, 1
}

// load64 reads s[i:i+8] little-endian (the compiler makes it one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// first returns the index of the first byte that needs escaping, or -1.
func first(s string) int {
	i := 0
	for i+8 <= len(s) {
		if suspect(load64(s, i)) {
			break
		}
		i += 8
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == 0xc2 {
			if n, _ := at(s, i); n > 0 {
				return i
			}
		}
	}
	return -1
}

// Needed reports whether Append would change s.
func Needed(s string) bool { return first(s) >= 0 }

// Len is the length of s once escaped.
func Len(s string) int {
	i := first(s)
	if i < 0 {
		return len(s)
	}
	n := i
	for i < len(s) {
		out, in := at(s, i)
		if out == 0 {
			out = 1
		}
		n += out
		i += in
	}
	return n
}

// Append appends s, escaped, to dst.
func Append(dst []byte, s string) []byte {
	i := first(s)
	if i < 0 {
		return append(dst, s...)
	}
	dst = append(dst, s[:i]...)
	for i < len(s) {
		out, in := at(s, i)
		if out == 0 {
			// Copy the run up to the next byte that may need escaping.
			j := i + 1
			for j < len(s) {
				if c := s[j]; c < 0x20 || c == 0x7f || c == 0xc2 {
					break
				}
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		dst = appendSeq(dst, s, i)
		i += in
	}
	return dst
}

// Into writes s, escaped, into dst, which must hold Len(s) bytes, and
// returns the bytes written. It is Append for memory that is not a Go
// slice to grow (the plugin's C arena).
func Into(dst []byte, s string) int {
	i := first(s)
	if i < 0 {
		return copy(dst, s)
	}
	w := copy(dst, s[:i])
	var seq [6]byte
	for i < len(s) {
		out, in := at(s, i)
		if out == 0 {
			dst[w] = s[i]
			w++
			i++
			continue
		}
		w += copy(dst[w:], appendSeq(seq[:0], s, i))
		i += in
	}
	return w
}

func appendSeq(dst []byte, s string, i int) []byte {
	switch c := s[i]; c {
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case 0xc2:
		r, _ := utf8.DecodeRuneInString(s[i:])
		return append(dst, '\\', 'u', '0', '0', hexDigits[r>>4&0xf], hexDigits[r&0xf])
	default:
		return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
	}
}

// String returns s escaped; s itself (no allocation) when nothing needs
// escaping.
func String(s string) string {
	if !Needed(s) {
		return s
	}
	return string(Append(make([]byte, 0, Len(s)), s))
}

// Capped is String cut to at most max bytes of input, with "..." when
// something was cut (never inside a UTF-8 sequence): for text a daemon or a
// file supplies, which the plugin quotes in a log line or a last error.
func Capped(s string, max int) string {
	if len(s) <= max {
		return String(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return String(s[:cut]) + "..."
}
