package source

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

// copyBatch is a source.Batch that copies events into fixed slots, as the
// plugin's C batch does (one memmove per event, no allocation).
type copyBatch struct {
	slots [][]byte
	n     int
}

func (b *copyBatch) Cap() int { return len(b.slots) }
func (b *copyBatch) Len() int { return b.n }
func (b *copyBatch) Add(data []byte, ts uint64) {
	copy(b.slots[b.n], data)
	b.n++
}

// BenchmarkReplayNext is next_batch's Go part on a replay (batch 128), without
// the ABI: the events recorded from the three engines of the test matrix
// (tests/testdata/engines), repeated. One op = one event.
func BenchmarkReplayNext(b *testing.B) {
	var recorded []byte
	for _, f := range []string{"docker-20.10.jsonl", "moby-api-1.56.jsonl", "podman-4.3.jsonl"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "tests", "testdata", "engines", f))
		if err != nil {
			b.Fatal(err)
		}
		recorded = append(recorded, data...)
	}
	lines := bytes.Count(recorded, []byte("\n"))
	path := filepath.Join(b.TempDir(), "events.jsonl")
	reps := 50000/lines + 1
	if err := os.WriteFile(path, bytes.Repeat(recorded, reps), 0o600); err != nil {
		b.Fatal(err)
	}
	env := Env{Config: config.Default(), Counters: &metrics.Counters{}, Log: &sourcetest.Log{}, SetLastError: func(error) {}}
	batch := &copyBatch{slots: make([][]byte, 128)}
	for i := range batch.slots {
		batch.slots[i] = make([]byte, env.Config.MaxEventSize)
	}
	b.SetBytes(int64(len(recorded) / lines))
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for events < b.N {
		b.StopTimer()
		r, err := OpenReplay(path, env)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for events < b.N {
			batch.n = 0
			err := r.Next(batch, time.Millisecond)
			events += batch.n
			if err == ErrEOF {
				break
			}
		}
		b.StopTimer()
		r.Close()
		b.StartTimer()
	}
	if m := env.Counters.Malformed.Load(); m != 0 {
		b.Fatalf("%d recorded lines counted malformed", m)
	}
}
