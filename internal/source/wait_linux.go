//go:build linux

package source

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// waiter is the live queue's readiness, as an eventfd whose counter is
// non-zero exactly while the queue holds events: set when the queue goes
// from empty to non-empty and cleared when it is drained empty, both under
// the queue's lock. A poll on it is therefore readable exactly when there is
// something to deliver, with no wake-up to lose, whoever polls: the Go side
// here, or the plugin's C entry point, which polls it before entering Go at
// all (abi/nextbatch.c: an idle next_batch never wakes the plugin's runtime).
//
// Waiting in the kernel (ppoll), not on a Go timer and channel: a timer wake
// cost about 150 µs of CPU per idle call here, the goroutine of a cgo
// callback being locked to its thread, which at 200 idle calls a second was
// 4% of a core for an idle daemon.
type waiter struct {
	fd  int
	fds [1]unix.PollFd
	ts  unix.Timespec
	one [8]byte // the eventfd increment, 1 in host byte order
	buf [8]byte
}

func newWaiter() (*waiter, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &waiter{fd: fd}
	w.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	binary.NativeEndian.PutUint64(w.one[:], 1)
	return w, nil
}

// set marks the queue non-empty. Called under the queue's lock.
func (w *waiter) set() { unix.Write(w.fd, w.one[:]) }

// clear marks the queue empty. Called under the queue's lock.
func (w *waiter) clear() { unix.Read(w.fd, w.buf[:]) }

// wait sleeps until the queue is non-empty or d passed (a signal may end it
// early: the caller re-checks its queue and its deadline).
func (w *waiter) wait(d time.Duration) {
	w.ts = unix.NsecToTimespec(d.Nanoseconds())
	w.fds[0].Revents = 0
	unix.Ppoll(w.fds[:], &w.ts, nil)
}

// pollFD is the descriptor to poll for readiness (POLLIN), valid until close.
func (w *waiter) pollFD() int { return w.fd }

func (w *waiter) close() { unix.Close(w.fd) }
