package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// sizedEvent is a container event of exactly size bytes (padded with an
// extra member), with its own id and timeNano.
func sizedEvent(t testing.TB, id string, ts uint64, size int) string {
	t.Helper()
	head := fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":%q},"time":%d,"timeNano":%d,"pad":"`, id, ts/1e9, ts)
	const tail = `"}`
	if size < len(head)+len(tail) {
		t.Fatalf("sizedEvent: %d bytes is too small", size)
	}
	return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
}

// maxSizeCorpus is a sequence of lines around maxEventSize 1024, and the
// payloads the plugin must deliver from it, whole and in order: an event of
// exactly maxEventSize bytes is delivered, one byte more is skipped and
// counted (events_oversize), never cut to maxEventSize.
func maxSizeCorpus(t testing.TB) (lines []string, want []string, oversize uint64) {
	const max = 1024
	ts := uint64(1_700_000_100_000_000_000)
	next := func() uint64 { ts += 1000; return ts }
	small := sizedEvent(t, "small", next(), 200)
	exact := sizedEvent(t, "exact", next(), max)
	over := sizedEvent(t, "one-byte-over", next(), max+1)
	exactCRLF := sizedEvent(t, "exact-crlf", next(), max) // its "\r\n" is not payload
	large := sizedEvent(t, "large", next(), 5000)
	huge := sizedEvent(t, "huge", next(), 300<<10) // larger than any read buffer
	after := sizedEvent(t, "after", next(), 300)
	below := sizedEvent(t, "one-byte-below", next(), max-1)
	lines = []string{small, exact, over, exactCRLF + "\r", large, huge, after, below}
	return lines, []string{small, exact, exactCRLF, after, below}, 3
}

// TestMaxEventSize: the size limit through the ABI, for replay (the last
// line without its "\n") and for the live stream, with maxEventSize 1024.
func TestMaxEventSize(t *testing.T) {
	needDocker(t)
	lines, want, oversize := maxSizeCorpus(t)
	const cfg = `{"maxEventSize":1024,"batchSize":4,"logLevel":"error"}`
	check := func(t *testing.T, s harness.State, got []harness.Event) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("delivered %d events, want %d", len(got), len(want))
		}
		for k := 0; k < len(got) && k < len(want); k++ {
			if string(got[k].Data) != want[k] {
				t.Errorf("event %d: %d bytes %.60q..., want %d bytes %.60q...", k, len(got[k].Data), got[k].Data, len(want[k]), want[k])
			}
		}
		m := plug.MetricsMap(s)
		if m["events_oversize"] != oversize || m["events_received"] != uint64(len(lines)) ||
			m["events_delivered"] != uint64(len(want)) || m["events_malformed"] != 0 {
			t.Errorf("metrics oversize=%d received=%d delivered=%d malformed=%d, want %d, %d, %d, 0",
				m["events_oversize"], m["events_received"], m["events_delivered"], m["events_malformed"], oversize, len(lines), len(want))
		}
	}

	t.Run("replay", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sizes.jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		s := initOK(t, cfg)
		got, _, _ := replayAll(t, s, fileURI(path))
		check(t, s, got)
	})

	t.Run("live", func(t *testing.T) {
		d := sourcetest.New(t, "1.44")
		s := initOK(t, cfg)
		i := openOK(t, s, d.Endpoint())
		d.WaitConn(t)
		d.Send(lines...)
		got := nextBatchUntil(t, s, i, "every line read, the good ones delivered", 20*time.Second, func(got []harness.Event) bool {
			return len(got) >= len(want) && plug.MetricsMap(s)["events_received"] >= uint64(len(lines))
		})
		// Nothing else is queued (a cut copy of a skipped line would be).
		for k := 0; k < 3; k++ {
			evts, _ := plug.NextBatch(s, i)
			got = append(got, evts...)
		}
		check(t, s, got)
	})
}
