package source

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

// sized is an event line of exactly n bytes.
func sized(t *testing.T, id string, n int) string {
	t.Helper()
	head := fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":%q},"timeNano":1700000000000000000,"pad":"`, id)
	if n < len(head)+2 {
		t.Fatalf("sized: %d bytes is too small", n)
	}
	return head + strings.Repeat("x", n-len(head)-2) + `"}`
}

// TestReplayMaxEventSize: a line of exactly maxEventSize bytes is
// delivered whole, one byte more is skipped and counted (events_oversize),
// whatever the line ending and wherever the line sits relative to the read
// buffer (a line longer than the whole buffer is skipped while reading).
func TestReplayMaxEventSize(t *testing.T) {
	const max = 1024
	exact, over, below := sized(t, "exact", max), sized(t, "over", max+1), sized(t, "below", max-1)
	huge := sized(t, "huge", 600<<10) // more than the 256 KiB read buffer
	for _, tc := range []struct {
		name     string
		content  string
		want     []string
		oversize uint64
	}{
		{"exact", exact + "\n", []string{exact}, 0},
		{"exact, CRLF", exact + "\r\n", []string{exact}, 0},
		{"exact, last line without newline", below + "\n" + exact, []string{below, exact}, 0},
		{"one byte over", over + "\n" + below + "\n", []string{below}, 1},
		{"one byte over, last line", below + "\n" + over, []string{below}, 1},
		{"over by CR only", exact + "\r\r\n", nil, 1},
		{"larger than the read buffer", huge + "\n" + exact + "\n" + huge + "\n" + below, []string{exact, below}, 2},
		{"larger than the read buffer, last line", exact + "\n" + huge, []string{exact}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.MaxEventSize = max
			counters := &metrics.Counters{}
			r, err := OpenReplay(path, Env{Config: cfg, Counters: counters, Log: &sourcetest.Log{}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := &sourcetest.Batch{Max: 1 << 10}
			for calls := 0; ; calls++ {
				if calls > 100 {
					t.Fatal("no EOF after 100 calls")
				}
				err := r.Next(got, 0)
				if err == ErrEOF {
					break
				}
				if err != nil && err != ErrTimeout {
					t.Fatalf("Next: %v", err)
				}
			}
			if len(got.Events) != len(tc.want) {
				t.Errorf("delivered %d events, want %d", len(got.Events), len(tc.want))
			}
			for k := 0; k < len(got.Events) && k < len(tc.want); k++ {
				if string(got.Events[k]) != tc.want[k] {
					t.Errorf("event %d: %d bytes, want %d bytes %.50q...", k, len(got.Events[k]), len(tc.want[k]), tc.want[k])
				}
			}
			if n := counters.Oversize.Load(); n != tc.oversize {
				t.Errorf("events_oversize = %d, want %d", n, tc.oversize)
			}
			if n := counters.Received.Load(); n != uint64(len(tc.want))+tc.oversize {
				t.Errorf("events_received = %d, want %d", n, uint64(len(tc.want))+tc.oversize)
			}
		})
	}
}
