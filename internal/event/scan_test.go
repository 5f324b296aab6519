package event

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"math/rand"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// reference is the slow, obviously right version of scanTop: encoding/json
// validity, an object at the top, and gjson for the timestamps.
func reference(data []byte) (uint64, bool, bool) {
	if !json.Valid(data) {
		return 0, false, false
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return 0, false, false
	}
	var nano, sec int64
	var hasNano, hasSec bool
	root.ForEach(func(k, v gjson.Result) bool {
		switch {
		case strings.EqualFold(k.Str, "timeNano"):
			nano, hasNano = integerGJSON(v)
		case strings.EqualFold(k.Str, "time"):
			sec, hasSec = integerGJSON(v)
		}
		return true
	})
	switch {
	case hasNano:
		return uint64(nano), true, true
	case hasSec && sec <= maxSec:
		return uint64(sec) * 1e9, true, true
	}
	return 0, false, true
}

var scanCases = []string{
	`{}`, ` { } `, `{"a":1}`, `{"timeNano":1644314336370816183,"time":1644314336}`, `{"time":1644314336}`,
	`{"TIMENANO":5}`, `{"timeNano":"5","time":7}`, `{"timeNano":-5}`, `{"timeNano":1.5}`, `{"timeNano":1e9}`,
	`{"timeNano":-0}`, `{"time":-0}`, `{"timeNano":-0,"time":7}`, `{"timeNano":99999999999999999999}`, `{"time":9223372036854775807}`, `{"timeNano":1,"timeNano":2}`,
	`{"a":[1,2,{"b":null,"c":[true,false]}],"s":"x\"y\\z\/\b\f\n\r\t\u00e9"}`, `{"a":"\u00g0"}`, `{"a":"\x"}`,
	"{\"a\":\"\x01\"}", `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":.5}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":1,}`, `{,}`, `{"a"}`, `{"a":1 "b":2}`, `[1]`, `"x"`, `1`, `null`, ``, `   `, `{"a":1}}`, `{"a":1} x`,
	`{"a":[}`, `{"a":{]}`, `{"a":"unterminated`, `{"a":1`, `{"a":"é ü 中"}`, "{\"a\":\"\xff\xfe\"}",
	`{"Type":"container","Action":"exec_create: sh -c id","Actor":{"ID":"x","Attributes":{"name":"n"}},"scope":"local","time":1,"timeNano":1000000001}`,
	// Runs of compact string members (stringMembers) and every way out of one.
	`{"a":"b", "c":"d"}`, `{"a" :"b","c":"d"}`, `{"a": "b","c":"d"}`, `{"a":"b" ,"c":"d"}`, `{"a":"b","c":"d" }`,
	`{"a":"b","c":1,"d":"e"}`, `{"a":"b\"c","d":"e"}`, `{"a\u0041":"b","d":"e"}`, `{"a":{"b":"c","d":"e"},"f":"g"}`,
	`{"a":"b","time":"7","time":8}`, `{"time":8,"time":"7"}`, `{"timeNano":5,"x":"y","timeNano":"z"}`,
	`{"a":"b",}`, `{"a":"b":"c"}`, `{"a","b"}`, `{"a":"b"}}`, `{"a":"b","c"}`, `{"a":"b","c":}`, `{"a":"b""c":"d"}`,
	`{"a":"b",:"c"}`, `{"a":"b","c":"d"`, `{"a":"b","c":"d`, `{"a":"b","c":"` + "\x01" + `"}`, `{"":""}`, `{"":"","":""}`,
}

func TestScanTopMatchesReference(t *testing.T) {
	for _, c := range scanCases {
		ts, has, ok := scanTop([]byte(c))
		rts, rhas, rok := reference([]byte(c))
		if ts != rts || has != rhas || ok != rok {
			t.Errorf("scanTop(%q) = %d,%v,%v; reference %d,%v,%v", c, ts, has, ok, rts, rhas, rok)
		}
	}
}

func TestScanTopDepth(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`
	if _, _, ok := scanTop([]byte(deep)); !ok {
		t.Error("nesting within maxDepth must be valid")
	}
	tooDeep := `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	if _, _, ok := scanTop([]byte(tooDeep)); ok {
		t.Error("nesting beyond maxDepth must be reported invalid")
	}
}

func FuzzScanTop(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, has, ok := scanTop(data)
		rts, rhas, rok := reference(data)
		if ok && !rok {
			t.Fatalf("scanTop accepts invalid JSON %q", data)
		}
		if !ok && rok && strings.Count(string(data), "[")+strings.Count(string(data), "{") < maxDepth {
			t.Fatalf("scanTop rejects valid JSON %q", data)
		}
		// Escaped keys are compared raw (a deliberate simplification).
		if ok && rok && !strings.Contains(string(data), `\`) && (ts != rts || has != rhas) {
			t.Fatalf("scanTop(%q) ts %d,%v; reference %d,%v", data, ts, has, rts, rhas)
		}
	})
}

func BenchmarkScanTop(b *testing.B) {
	line := []byte(`{"status":"start","id":"e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6","from":"nginx:1.27","Type":"container","Action":"start","Actor":{"ID":"e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6","Attributes":{"com.docker.compose.project":"proj","com.docker.compose.service":"web","com.docker.compose.version":"2.29.1","image":"nginx:1.27","name":"proj-web-1","org.opencontainers.image.source":"https://github.com/example/app"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}`)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		scanTop(line)
	}
}

// TestSpecialMask: the lowest byte specialMask flags is the first '"',
// '\\' or control character of the word, for every byte value at every
// position and for random words (the scans rely on that alone).
func TestSpecialMask(t *testing.T) {
	first := func(w [8]byte) int {
		for i, c := range w {
			if c == '"' || c == '\\' || c < 0x20 {
				return i
			}
		}
		return 8
	}
	got := func(w [8]byte) int {
		m := specialMask(binary.LittleEndian.Uint64(w[:]))
		if m == 0 {
			return 8
		}
		return bits.TrailingZeros64(m) >> 3
	}
	rng := rand.New(rand.NewSource(1))
	for k := 0; k < 1<<20; k++ {
		var w [8]byte
		rng.Read(w[:])
		if k < 256*8 { // every byte value at every position, among 'a's
			w = [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
			w[k%8] = byte(k / 8)
		}
		if f, g := first(w), got(w); f != g {
			t.Fatalf("%q: first special byte at %d, mask says %d", w[:], f, g)
		}
	}
}
