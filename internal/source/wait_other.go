//go:build !linux

package source

import "time"

// waiter: a timer and a channel where eventfd is not available (the plugin
// targets Linux; this keeps internal/ building elsewhere).
type waiter struct {
	c     chan struct{}
	timer *time.Timer
}

func newWaiter() (*waiter, error) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &waiter{c: make(chan struct{}, 1), timer: t}, nil
}

func (w *waiter) arm()    {}
func (w *waiter) disarm() {}

func (w *waiter) wake() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

func (w *waiter) wait(d time.Duration) {
	w.timer.Reset(d)
	select {
	case <-w.c:
	case <-w.timer.C:
	}
	w.timer.Stop()
}

func (w *waiter) close() { w.timer.Stop() }
