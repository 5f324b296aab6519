package main

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// quote renders one value of a printed line. A value is printed as it is when
// it is not empty and every rune is printable and none is a space, '"' or '\';
// otherwise it is printed as a Go double-quoted string (strconv.Quote): spaces
// kept inside the quotes, and control characters (C0 including NUL and ESC,
// DEL, C1), invalid UTF-8 and non-printing runes such as bidi overrides turned
// into escapes (\n, \x1b, \x00, \x7f, \u202e). Event content comes from
// whoever can set a label or run `docker exec`: this keeps one event on one
// line, keeps `key=value` pairs unambiguous, and sends no byte to the terminal
// that moves the cursor or recolours text. strconv.Unquote gives the value back.
func quote(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == utf8.RuneError || r == ' ' || r == '"' || r == '\\' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// escape makes a line whose structure the loader does not know (the plugin's
// event_to_string rendering, its last error) safe to print: the same escapes
// as quote for every non-printable rune and for '\', without quoting, so
// spaces and quotes stay readable.
func escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r == '\\' || (r != ' ' && !unicode.IsPrint(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// shortID shortens an object id the way `docker ps` and `docker images`
// show it: 12 hex digits, without the "sha256:" prefix. Only a full id (64
// lowercase hex digits, optionally prefixed "sha256:") is shortened; any
// other value, such as an image reference pinned by digest, is kept whole.
func shortID(s string) string {
	hex := strings.TrimPrefix(s, "sha256:")
	if len(hex) != 64 {
		return s
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return s
		}
	}
	return hex[:12]
}

// timeLayout is docker events' timestamp with a fixed nine-digit fraction,
// so that the columns of consecutive lines line up.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// formatTime renders an abstime field value (nanoseconds since the epoch) in
// UTC.
func formatTime(ns uint64) string {
	return time.Unix(0, int64(ns)).UTC().Format(timeLayout)
}
