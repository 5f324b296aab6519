//go:build !linux

package source

import "time"

// waiter: a timer and a channel where eventfd is not available (the plugin
// targets Linux; this keeps internal/ building elsewhere). The channel holds
// a token exactly while the queue holds events, as the Linux eventfd does.
type waiter struct {
	c     chan struct{}
	timer *time.Timer
}

func newWaiter() (*waiter, error) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &waiter{c: make(chan struct{}, 1), timer: t}, nil
}

func (w *waiter) set() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

func (w *waiter) clear() {
	select {
	case <-w.c:
	default:
	}
}

func (w *waiter) wait(d time.Duration) {
	w.timer.Reset(d)
	select {
	case <-w.c:
		w.set() // still non-empty: the caller drains
	case <-w.timer.C:
	}
	w.timer.Stop()
}

// pollFD: none; the C entry point then always enters Go.
func (w *waiter) pollFD() int { return -1 }

func (w *waiter) close() { w.timer.Stop() }
