package source

import "testing"

func TestSeenSetWindow(t *testing.T) {
	var s seenSet
	const base = uint64(1_700_000_000_000_000_000)
	w := uint64(resumeWindow)
	s.add(base, 1, base)
	s.add(base+10, 2, base+10)
	s.add(base+5, 3, base+10) // late, older than the newest: still remembered
	for _, k := range []seenKey{{base, 1}, {base + 10, 2}, {base + 5, 3}} {
		if !s.contains(k.ts, k.hash) {
			t.Errorf("%+v forgotten within the window", k)
		}
	}
	if s.contains(base, 2) || s.contains(base+10, 1) {
		t.Errorf("a timestamp with another event's hash is not that event")
	}
	// The newest moves ahead: the first leaves; the late one, older than
	// the window too, waits behind the second (arrival order) and leaves
	// with it.
	s.add(base+w+6, 4, base+w+6)
	if s.contains(base, 1) {
		t.Errorf("an event older than the window is kept")
	}
	if !s.contains(base+10, 2) || !s.contains(base+w+6, 4) {
		t.Errorf("events within the window are forgotten")
	}
	s.add(base+w+11, 6, base+w+11)
	if s.contains(base+10, 2) || s.contains(base+5, 3) || !s.contains(base+w+11, 6) {
		t.Errorf("after the window passed both: %v", s.keys)
	}
	// An event older than the window is never replayed: not recorded.
	s.add(base+1, 5, base+w+6)
	if s.contains(base+1, 5) {
		t.Errorf("an event older than the window was recorded")
	}
}

func TestSeenSetBounded(t *testing.T) {
	var s seenSet
	const base = uint64(1_700_000_000_000_000_000)
	for k := uint64(0); k < 3*seenMax; k++ {
		s.add(base+k, k, base+k) // all within one window
	}
	if s.n != seenMax || len(s.keys) != seenMax {
		t.Fatalf("holds %d entries (%d keys), want at most %d", s.n, len(s.keys), seenMax)
	}
	if !s.contains(base+3*seenMax-1, 3*seenMax-1) || s.contains(base, 0) {
		t.Errorf("the newest must stay and the oldest leave first")
	}
}
