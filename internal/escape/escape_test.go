package escape

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// reference is the obviously right, slow version of Append.
func reference(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, rune(s[i+1]))
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var cases = []struct{ in, want string }{
	{"", ""},
	{"plain ascii value", "plain ascii value"},
	{`back\slash and \n literally`, `back\slash and \n literally`},
	{"a\nb", `a\nb`},
	{"a\r\nb", `a\r\nb`},
	{"tab\there", `tab\there`},
	{"nul\x00hidden", `nul\x00hidden`},
	{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
	{"del\x7f", `del\x7f`},
	{"\x01\x02\x1f", `\x01\x02\x1f`},
	{"csi\u009b2J", `csi\u009b2J`},
	{"nel\u0085", `nel\u0085`},
	{"kept: \u00a0 \u00a9 \u00bf é 中 \U0001f600", "kept: \u00a0 \u00a9 \u00bf é 中 \U0001f600"},
	{"lone \xc2 at end\xc2", "lone \xc2 at end\xc2"},
	{"invalid \xff\xfe\x9b utf-8 kept", "invalid \xff\xfe\x9b utf-8 kept"},
	{"sixteen bytes ok\nafter a full word", `sixteen bytes ok\nafter a full word`},
	{"exec_create: sh -c id\n2024-05-01T10:58:56Z Notice A shell was spawned", `exec_create: sh -c id\n2024-05-01T10:58:56Z Notice A shell was spawned`},
}

func TestEscape(t *testing.T) {
	for _, c := range cases {
		got := string(Append([]byte("pre:"), c.in))
		if got != "pre:"+c.want {
			t.Errorf("Append(%q) = %q, want %q", c.in, got, "pre:"+c.want)
		}
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if n := Len(c.in); n != len(c.want) {
			t.Errorf("Len(%q) = %d, want %d", c.in, n, len(c.want))
		}
		if Needed(c.in) != (c.in != c.want) {
			t.Errorf("Needed(%q) = %v", c.in, Needed(c.in))
		}
		buf := make([]byte, Len(c.in))
		if n := Into(buf, c.in); string(buf[:n]) != c.want || n != len(buf) {
			t.Errorf("Into(%q) = %q (%d bytes), want %q", c.in, buf[:n], n, c.want)
		}
		if r := reference(c.in); r != c.want {
			t.Errorf("reference(%q) = %q, want %q (the test's own reference disagrees)", c.in, r, c.want)
		}
	}
}

// Every byte value at every position of a word, so the eight-byte scan
// is checked on each lane (and across a word boundary).
func TestEscapeEveryByteEveryLane(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 17; pos++ {
			in := []byte(strings.Repeat("a", 17))
			in[pos] = byte(c)
			if pos+1 < len(in) && c == 0xc2 {
				in[pos+1] = 0x85
			}
			s := string(in)
			if got, want := String(s), reference(s); got != want {
				t.Fatalf("byte %#x at %d: %q, want %q", c, pos, got, want)
			}
		}
	}
}

// The output never holds a byte that the escaping is meant to remove, and
// escaping it again changes nothing.
func TestEscapeOutputIsInert(t *testing.T) {
	all := make([]byte, 0, 512)
	for c := 0; c < 256; c++ {
		all = append(all, byte(c), 0xc2, byte(c))
	}
	out := String(string(all))
	for i := 0; i < len(out); i++ {
		c := out[i]
		if c < 0x20 || c == 0x7f {
			t.Fatalf("control byte %#x left at %d", c, i)
		}
		if r, _ := utf8.DecodeRuneInString(out[i:]); r >= 0x80 && r <= 0x9f {
			t.Fatalf("C1 control %U left at %d", r, i)
		}
	}
	if String(out) != out {
		t.Errorf("escaping is not idempotent on its own output")
	}
}

func TestCapped(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"a\nb", 10, `a\nb`},
		{"0123456789abc", 10, "0123456789..."},
		{"012345678é", 10, "012345678..."}, // é is two bytes: not cut in half
		{"\x1b\x1b\x1b\x1b", 2, `\x1b\x1b...`},
	} {
		if got := Capped(c.in, c.max); got != c.want {
			t.Errorf("Capped(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestNoAllocationWhenClean(t *testing.T) {
	s := strings.Repeat("e327f1fa52a90d79421e416aed60e6de", 4)
	buf := make([]byte, 0, 1024)
	into := make([]byte, len(s))
	if n := testing.AllocsPerRun(100, func() {
		_ = String(s)
		buf = Append(buf[:0], s)
		Into(into, s)
		_ = Len(s)
	}); n != 0 {
		t.Errorf("%v allocations per run for clean text", n)
	}
	dirty := "a\nb\x1bc"
	if n := testing.AllocsPerRun(100, func() {
		buf = Append(buf[:0], dirty)
		Into(make([]byte, 0, 0)[:0:0], "")
	}); n != 0 {
		t.Errorf("%v allocations per run appending into room", n)
	}
}

func FuzzEscape(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := reference(s)
		if got := String(s); got != want {
			t.Fatalf("String(%q) = %q, want %q", s, got, want)
		}
		if Len(s) != len(want) || Needed(s) != (want != s) {
			t.Fatalf("Len/Needed(%q) = %d/%v, want %d/%v", s, Len(s), Needed(s), len(want), want != s)
		}
		buf := make([]byte, Len(s))
		if n := Into(buf, s); string(buf[:n]) != want {
			t.Fatalf("Into(%q) = %q", s, buf[:n])
		}
	})
}

func BenchmarkEscapeClean(b *testing.B) {
	s := "e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6"
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		Needed(s)
	}
}
