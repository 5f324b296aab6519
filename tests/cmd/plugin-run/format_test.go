package main

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostile values: what a label, an exec command or a hostile daemon can put
// in a field value.
var hostile = []string{
	"line\n2024-05-01T10:58:56.000000000Z container create forged | docker.container.name=x",
	"\x1b[2J\x1b[31mred\x1b[0m",
	"\x1b]0;title\x07",
	"nul\x00hidden",
	"del\x7f",
	"c1\u0085next\u009b31m",
	"bidi\u202egnp.exe",
	"tab\there",
	"cr\rover",
	"bad utf8 \xff\xfe",
	"nbsp\u00a0x",
	`quote"inside`,
	`back\slash`,
	"trailing space ",
	"",
}

// printableOnly: every rune of s is printable (space included); no control
// character, no invalid UTF-8.
func printableOnly(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return false
			}
		}
		if r != ' ' && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"confident_kirch", "confident_kirch"},
		{"alpine:3.20", "alpine:3.20"},
		{"a=b", "a=b"},
		{"café/日本", "café/日本"},
		{"sh -c id", `"sh -c id"`},
		{"", `""`},
		{"a\nb", `"a\nb"`},
		{"\x1b[2J", `"\x1b[2J"`},
		{"nul\x00x", `"nul\x00x"`},
		{"del\x7f", `"del\x7f"`},
		{"\u202e", `"\u202e"`},
		{"\xff", `"\xff"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\x`, `"C:\\x"`},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestQuoteHostile: whatever the value, the quoted form is one printable
// token with no space outside quotes, and it unquotes to the value.
func TestQuoteHostile(t *testing.T) {
	for _, v := range hostile {
		checkQuoted(t, v)
	}
}

func checkQuoted(t *testing.T, v string) {
	t.Helper()
	q := quote(v)
	if !printableOnly(q) {
		t.Errorf("quote(%q) = %q: holds a non-printable rune", v, q)
	}
	if q == v {
		if v == "" || strings.ContainsAny(v, " \"\\") || !printableOnly(v) {
			t.Errorf("quote(%q) left it bare", v)
		}
		return
	}
	back, err := strconv.Unquote(q)
	if err != nil || back != v {
		t.Errorf("quote(%q) = %s: unquotes to %q, %v", v, q, back, err)
	}
}

func FuzzQuote(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkQuoted(t, v)
		if e := escape(v); !printableOnly(e) {
			t.Errorf("escape(%q) = %q: holds a non-printable rune", v, e)
		}
	})
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"docker daemon unix:///x: dial: refused", "docker daemon unix:///x: dial: refused"},
		{`say "hi"`, `say "hi"`},
		{"500: oops\n2026 [docker] error: forged", `500: oops\n2026 [docker] error: forged`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\x00b\x7f", `a\x00b\x7f`},
		{`a\nb`, `a\\nb`}, // a literal backslash stays distinguishable from an escape
		{"\xff\xfe", `\xff\xfe`},
		{"\u202e", `\u202e`},
	} {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestShortID(t *testing.T) {
	full := "e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6"
	for _, tc := range []struct{ in, want string }{
		{full, "e327f1fa52a9"},
		{"sha256:" + full, "e327f1fa52a9"},
		{"alpine@sha256:" + full, "alpine@sha256:" + full}, // a reference pinned by digest stays whole
		{strings.ToUpper(full), strings.ToUpper(full)},     // not an id docker prints
		{full[:63], full[:63]},
		{full + "0", full + "0"},
		{"q1w2e3r4t5y6", "q1w2e3r4t5y6"}, // swarm ids are short already
		{"", ""},
		{"sha256:", "sha256:"},
	} {
		if got := shortID(tc.in); got != tc.want {
			t.Errorf("shortID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	if got, want := formatTime(1644314336370816183), "2022-02-08T09:58:56.370816183Z"; got != want {
		t.Errorf("formatTime = %s, want %s", got, want)
	}
	if got, want := formatTime(1644314340000000000), "2022-02-08T09:59:00.000000000Z"; got != want {
		t.Errorf("formatTime = %s, want %s (fixed width)", got, want)
	}
}
