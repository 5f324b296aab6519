//go:build linux

package source

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

// readable polls fd without waiting.
func readable(t *testing.T, fd int) bool {
	t.Helper()
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, 0)
		if err == unix.EINTR { // the Go runtime's preemption signal
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		return n == 1 && p[0].Revents&unix.POLLIN != 0
	}
}

// TestLiveReadyFD pins the contract the plugin's C entry point relies on to
// answer idle next_batch calls without Go: the descriptor polls readable
// exactly while events are queued, through partial and full drains, and a
// wake-up is never lost between the reader's push and a drain.
func TestLiveReadyFD(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	l := openLiveT(t, d.Endpoint(), newLiveEnv(nil).Env, noenv)
	d.WaitConn(t)
	fd := l.ReadyFD()
	if fd < 0 {
		t.Fatal("no readiness descriptor on Linux")
	}
	if readable(t, fd) {
		t.Fatal("readable with nothing queued")
	}

	d.Send(msg("start", "a1", 1), msg("stop", "a1", 2), msg("die", "a1", 3))
	eventually(t, "3 queued events", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.q.n == 3 })
	if !readable(t, fd) {
		t.Fatal("not readable with 3 events queued")
	}
	b := &testBatch{Max: 2}
	if err := l.Next(b, 0); err != nil || b.Len() != 2 {
		t.Fatalf("Next: %v with %d events", err, b.Len())
	}
	if !readable(t, fd) {
		t.Fatal("not readable with 1 event still queued")
	}
	b = &testBatch{Max: 8}
	if err := l.Next(b, 0); err != nil || b.Len() != 1 {
		t.Fatalf("Next: %v with %d events", err, b.Len())
	}
	if readable(t, fd) {
		t.Fatal("readable after the queue was drained")
	}
	if err := l.Next(&testBatch{Max: 8}, 0); err != ErrTimeout {
		t.Fatalf("Next on an empty queue: %v, want ErrTimeout", err)
	}

	// Many rounds of push and drain: after each drain the descriptor says
	// exactly whether something is left.
	for k := 0; k < 200; k++ {
		d.Send(msg("start", "b", uint64(10+k)))
		eventually(t, "a queued event", func() bool { return readable(t, fd) })
		b := &testBatch{Max: 8}
		if err := l.Next(b, 0); err != nil || b.Len() != 1 {
			t.Fatalf("round %d: Next: %v with %d events", k, err, b.Len())
		}
		if readable(t, fd) {
			t.Fatalf("round %d: readable after the queue was drained", k)
		}
	}
}
