package source

// seenSet remembers the events read within resumeWindow of the newest one,
// so that what a daemon replays after a reconnection (since= is inclusive,
// and the plugin resumes resumeWindow early) is dropped instead of
// delivered twice. An event is its timestamp and a hash of its bytes: two
// distinct events with the same bytes, timestamp included, do not exist.
//
// Entries leave in arrival order once older than the window (timestamps
// are not monotonic in Podman's stream: an early-stamped entry that
// arrived late waits for its turn), or when seenMax are held.
type seenSet struct {
	keys map[seenKey]struct{}
	fifo []seenKey // ring, arrival order
	head int
	n    int
}

type seenKey struct{ ts, hash uint64 }

func (s *seenSet) contains(ts, hash uint64) bool {
	_, ok := s.keys[seenKey{ts, hash}]
	return ok
}

// add records an event read; newest is the newest timestamp read so far.
func (s *seenSet) add(ts, hash, newest uint64) {
	if s.keys == nil {
		s.keys = make(map[seenKey]struct{}, seenMax)
		s.fifo = make([]seenKey, seenMax)
	}
	oldest := newest - min(newest, uint64(resumeWindow))
	for s.n > 0 && (s.n == len(s.fifo) || s.fifo[s.head].ts < oldest) {
		delete(s.keys, s.fifo[s.head])
		s.head = (s.head + 1) % len(s.fifo)
		s.n--
	}
	if ts < oldest {
		return // outside the window: never replayed
	}
	k := seenKey{ts, hash}
	s.keys[k] = struct{}{}
	s.fifo[(s.head+s.n)%len(s.fifo)] = k
	s.n++
}
