package source

// Sizes of the live queue's payload memory.
const (
	// queueByteBudget bounds the memory that holds queued payloads,
	// whatever queueSize and maxEventSize allow: an event that does not fit
	// is dropped (and counted).
	queueByteBudget = 64 << 20
	// chunkSize is the unit of payload memory. Payloads are laid out one
	// after the other in chunks; one larger than a chunk gets a chunk of its
	// own.
	chunkSize = 1 << 20
	// spareKeep is how many spare chunks survive a quiet spell.
	spareKeep = 1
)

// eventQueue is the bounded FIFO between the live reader and next_batch:
// up to len(slots) events, whose payloads are laid out in FIFO order in a
// list of chunks. Not safe for concurrent use (Live holds its mutex).
//
// Memory is bounded by bytes, not by slots: the slots cost 16 bytes each
// (16 MiB at the largest queueSize, touched only as used), and the chunks
// holding payloads never total more than queueByteBudget. A burst takes
// chunks one at a time (no copy, no garbage); while events flow, drained
// chunks are reused; after the burst, spare chunks beyond spareKeep are
// released. A queue whose slots each kept their own buffer retained
// queueSize x the largest buffer a slot kept instead: 564 MB at queueSize
// 65536, 8 GiB possible at the largest queueSize, with nothing dropped or
// counted.
//
// Where a payload lives is implicit: the producer puts it right after the
// previous one when it fits in the last chunk, else at the start of a new
// chunk, and marks the slot when it started one; the consumer reads in the
// same order and moves to the next chunk exactly at the marks. A slot keeps
// only the length, the mark and the timestamp.
type eventQueue struct {
	slots   []qslot
	head, n int

	chunks [][]byte // in use, oldest first: the consumer reads chunks[0]
	rd, wr int      // offsets in chunks[0] (consumer) and in the last chunk (producer)
	read   bool     // the consumer has read a payload from chunks[0]
	spare  [][]byte // drained chunks of chunkSize, for reuse
	held   int      // bytes of the chunks in use and spare
	peak   int      // most chunks in use since the queue was last empty
	need   int      // recent need in chunks (decaying peak)
}

type qslot struct {
	len   uint32
	fresh bool // the payload starts a chunk
	ts    uint64
}

func newEventQueue(size int) eventQueue {
	return eventQueue{slots: make([]qslot, size)}
}

// fits reports whether a payload of size bytes goes after offset off of
// chunk c (else it starts the next chunk).
func fits(c []byte, off, size int) bool {
	return size <= chunkSize && len(c) == chunkSize && off+size <= chunkSize
}

// put queues a copy of p with timestamp ts; false when the queue is full:
// in events (queueSize) or in bytes (queueByteBudget).
func (q *eventQueue) put(p []byte, ts uint64) bool {
	if q.n == len(q.slots) {
		return false
	}
	fresh := len(q.chunks) == 0 || !fits(q.chunks[len(q.chunks)-1], q.wr, len(p))
	if fresh {
		c := q.chunk(len(p))
		if c == nil {
			return false
		}
		q.chunks = append(q.chunks, c)
		q.wr = 0
		q.peak = max(q.peak, len(q.chunks))
	}
	copy(q.chunks[len(q.chunks)-1][q.wr:], p)
	q.wr += len(p)
	q.slots[(q.head+q.n)%len(q.slots)] = qslot{len: uint32(len(p)), fresh: fresh, ts: ts}
	q.n++
	return true
}

// chunk returns an empty chunk for a payload of size bytes: a spare one,
// or a new one within the budget; nil when the budget is spent.
func (q *eventQueue) chunk(size int) []byte {
	if size <= chunkSize && len(q.spare) > 0 {
		c := q.spare[len(q.spare)-1]
		q.spare[len(q.spare)-1] = nil
		q.spare = q.spare[:len(q.spare)-1]
		return c
	}
	n := max(size, chunkSize)
	for q.held+n > queueByteBudget && len(q.spare) > 0 {
		q.dropSpare() // a payload larger than a chunk: trade spares for it
	}
	if q.held+n > queueByteBudget {
		return nil
	}
	q.held += n
	return make([]byte, n)
}

func (q *eventQueue) dropSpare() {
	q.spare[len(q.spare)-1] = nil
	q.spare = q.spare[:len(q.spare)-1]
	q.held -= chunkSize
}

// release is done with chunks[0].
func (q *eventQueue) release() {
	c := q.chunks[0]
	q.chunks[0] = nil
	q.chunks = q.chunks[1:]
	if len(c) == chunkSize {
		q.spare = append(q.spare, c)
	} else {
		q.held -= len(c)
	}
}

// drain adds queued events to b, oldest first, until b is full; it returns
// how many.
func (q *eventQueue) drain(b Batch) int {
	k := 0
	for q.n > 0 && b.Len() < b.Cap() {
		s := q.slots[q.head]
		size := int(s.len)
		if s.fresh && q.read {
			// The payload starts the chunk after the one read so far.
			q.release()
			q.rd = 0
		}
		b.Add(q.chunks[0][q.rd:q.rd+size], s.ts)
		q.rd += size
		q.read = true
		q.head = (q.head + 1) % len(q.slots)
		q.n--
		k++
	}
	if q.n == 0 && k > 0 {
		// Empty (chunks[0], the chunk of the last payload, is the only one
		// in use): start over at its beginning, or without it if it was a
		// large payload's own. Spare chunks follow the recent need: what a
		// cycle (filling and emptying the queue) needed, decaying by an
		// eighth per cycle, so a burst's chunks are reused while it lasts
		// and go over the next few dozen cycles, without dropping and
		// reallocating chunks from one cycle to the next.
		q.rd, q.wr = 0, 0
		if len(q.chunks[0]) != chunkSize {
			q.release()
			q.read = false
		}
		if q.peak >= q.need {
			q.need = q.peak
		} else {
			q.need -= (q.need - q.peak + 7) / 8
		}
		for len(q.spare) > max(spareKeep, q.need-1) {
			q.dropSpare()
		}
		q.peak = len(q.chunks)
	}
	return k
}

// retained is the memory the queue holds on to, slots included.
func (q *eventQueue) retained() int { return q.held + 16*len(q.slots) }
