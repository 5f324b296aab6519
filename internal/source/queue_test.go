package source

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkBatch is a Batch that checks events against the expected FIFO
// without keeping them.
type checkBatch struct {
	t    *testing.T
	max  int
	n    int
	want *[][]byte
	ts   *[]uint64
}

func (b *checkBatch) Cap() int { return b.max }
func (b *checkBatch) Len() int { return b.n }
func (b *checkBatch) Add(data []byte, ts uint64) {
	b.t.Helper()
	w := *b.want
	if len(w) == 0 {
		b.t.Fatalf("queue delivered an event nobody queued (%d bytes)", len(data))
	}
	if !bytes.Equal(data, w[0]) || ts != (*b.ts)[0] {
		b.t.Fatalf("queue delivered %d bytes ts %d (%.20q...), want %d bytes ts %d (%.20q...)", len(data), ts, data, len(w[0]), (*b.ts)[0], w[0])
	}
	*b.want, *b.ts = w[1:], (*b.ts)[1:]
	b.n++
}

// TestEventQueueModel: random payload sizes (up to several chunks), random
// batch sizes and random interleavings of put and drain, against a plain
// FIFO. Every event comes out whole, in order; drops happen only when the
// queue is full in events or in bytes; memory never exceeds the budget.
func TestEventQueueModel(t *testing.T) {
	src := make([]byte, 5*chunkSize)
	for i := range src {
		src[i] = byte(i*7 + i>>12)
	}
	seeds, steps := uint64(16), 4000
	if raceEnabled { // no goroutines here: the race detector only slows the copies down
		seeds, steps = 3, 2000
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed))
			slots := 16 + rng.IntN(2000)
			q := newEventQueue(slots)
			var want [][]byte
			var ts []uint64
			queued := 0 // payload bytes in the model
			for step := 0; step < steps; step++ {
				if rng.IntN(3) > 0 {
					var size int
					switch r := rng.IntN(100); {
					case r < 60:
						size = 1 + rng.IntN(2000)
					case r < 90:
						size = 1 + rng.IntN(chunkSize)
					case r < 98:
						size = chunkSize - rng.IntN(16)
					default:
						size = chunkSize + 1 + rng.IntN(3*chunkSize)
					}
					off := rng.IntN(len(src) - size)
					p := src[off : off+size] // the queue copies: the model keeps the slice
					stamp := uint64(step)
					if q.put(p, stamp) {
						want, ts = append(want, p), append(ts, stamp)
						queued += size
					} else if len(want) < slots && queued+size <= queueByteBudget/2 {
						t.Fatalf("step %d: dropped a %d-byte event with %d events and %d bytes queued", step, size, len(want), queued)
					}
				} else {
					before := len(want)
					b := &checkBatch{t: t, max: 1 + rng.IntN(300), want: &want, ts: &ts}
					k := q.drain(b)
					if k != before-len(want) || k != b.n {
						t.Fatalf("drain returned %d, delivered %d", k, b.n)
					}
					queued = 0
					for _, p := range want {
						queued += len(p)
					}
				}
				if q.held > queueByteBudget {
					t.Fatalf("step %d: chunks hold %d bytes, over the %d budget", step, q.held, queueByteBudget)
				}
				if q.n != len(want) {
					t.Fatalf("step %d: queue has %d events, model %d", step, q.n, len(want))
				}
			}
			for len(want) > 0 {
				if q.drain(&checkBatch{t: t, max: 64, want: &want, ts: &ts}) == 0 {
					t.Fatalf("drain made no progress with %d events left in the model", len(want))
				}
			}
		})
	}
}

// TestEventQueueRetainedMemory: a burst to the byte budget, then a long
// flow through every slot of the largest queue: the queue holds on to at
// most its budget during the burst, and little once the burst is over.
func TestEventQueueRetainedMemory(t *testing.T) {
	q := newEventQueue(1 << 20)
	p := bytes.Repeat([]byte("x"), 8000)
	sink := &countBatch{max: 4096}
	put := 0
	for q.put(p, 1) {
		put++
	}
	if put*len(p) < queueByteBudget*9/10 || q.held > queueByteBudget {
		t.Fatalf("burst: %d events (%d bytes) queued before a drop, %d bytes held; budget %d", put, put*len(p), q.held, queueByteBudget)
	}
	for q.drain(sink) > 0 {
		sink.n = 0
	}
	// The flow: every slot of the largest queue is used, a few events
	// queued at a time.
	for k := 0; k < 1<<20; k += 8 {
		for j := 0; j < 8; j++ {
			if !q.put(p[:1+(k+j)%len(p)], 1) {
				t.Fatalf("event %d dropped while the queue was nearly empty", k+j)
			}
		}
		sink.n = 0
		q.drain(sink)
	}
	// Then the flow lets the spare chunks go (decaying need).
	if held := q.held; held > (spareKeep+1)*chunkSize {
		t.Errorf("after the burst, the queue holds %d bytes of chunks (%d spare); want at most %d", held, len(q.spare), (spareKeep+1)*chunkSize)
	}
	t.Logf("retained at queueSize %d after a %d MiB burst and %d events: %d KiB (slots %d KiB)",
		len(q.slots), put*len(p)>>20, 1<<20, q.retained()>>10, 16*len(q.slots)>>10)
}

type countBatch struct{ max, n int }

func (b *countBatch) Cap() int               { return b.max }
func (b *countBatch) Len() int               { return b.n }
func (b *countBatch) Add(_ []byte, _ uint64) { b.n++ }
