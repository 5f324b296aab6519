//go:build linux

package source

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// waiter parks plugin_next_batch until the reader queues an event or the
// wait ends. On Linux it is an eventfd polled with ppoll(2): the calling
// thread (Falco's, inside a cgo callback) sleeps in the kernel and wakes
// exactly once. A Go timer plus channel select costs about 150 µs of CPU
// per idle call here — the goroutine of a cgo callback is locked to its
// thread, so every timer wake-up hands it across threads — which at 200
// idle calls a second was 4% of a core for an idle daemon.
type waiter struct {
	fd      int
	waiting atomic.Bool
	fds     [1]unix.PollFd
	ts      unix.Timespec
	buf     [8]byte
}

func newWaiter() (*waiter, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &waiter{fd: fd}
	w.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	return w, nil
}

// arm announces a wait; the caller then re-checks its queue before wait,
// so a wake between the two is not lost.
func (w *waiter) arm() { w.waiting.Store(true) }

// disarm ends a wait (whether or not wait was called).
func (w *waiter) disarm() { w.waiting.Store(false) }

// wake is called by the reader after queueing: cheap when nobody waits.
func (w *waiter) wake() {
	if w.waiting.Load() {
		var one = [8]byte{1}
		unix.Write(w.fd, one[:])
	}
}

// wait sleeps until woken or d passed (a signal may end it early: the
// caller re-checks its queue and its deadline).
func (w *waiter) wait(d time.Duration) {
	w.ts = unix.NsecToTimespec(d.Nanoseconds())
	w.fds[0].Revents = 0
	unix.Ppoll(w.fds[:], &w.ts, nil)
	unix.Read(w.fd, w.buf[:]) // reset the counter (non-blocking)
}

func (w *waiter) close() { unix.Close(w.fd) }
