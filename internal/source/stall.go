package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/docker/docker/client"

	"github.com/falco-docker/docker-plugin/internal/escape"
)

// errStalled is the cause a stream is cancelled with when its daemon
// stalled (see watchdog).
var errStalled = errors.New("daemon stalled")

type stallError struct{ msg string }

func (e stallError) Error() string        { return "stalled: " + e.msg }
func (e stallError) Is(target error) bool { return target == errStalled }

// progress is what the reader of one stream tells its watchdog. The
// reader adds; the watchdog only loads.
type progress struct {
	in       atomic.Uint64 // bytes received from the daemon
	consumed atomic.Uint64 // bytes the reader took out of its buffer
	lines    atomic.Uint64 // messages (lines) completed, blank ones included
}

// meter counts the bytes a stream receives.
type meter struct {
	r io.Reader
	p *progress
}

func (m meter) Read(b []byte) (int, error) {
	n, err := m.r.Read(b)
	m.p.in.Add(uint64(n))
	return n, err
}

// watchdog tells a live stream that is merely quiet from one whose daemon
// stalled, and ends the latter (cancel with a stallError) so that the
// reader reconnects. The Engine API's event stream has no heartbeat: an
// idle daemon sends nothing, and so does a hung one, or one that trickles
// a byte at a time and never completes a message. Every stall/4 it looks
// at the stream's progress over the last stall period:
//
//   - a message completed: fine;
//   - bytes arrived, or part of a message waits, but none completed: the
//     daemon trickles or stopped mid-message (an endless message too);
//   - nothing at all: the daemon is pinged (with the stream's client, on a
//     connection of its own); no answer within stallPingTimeout(stall)
//     means it stalled, an answer starts a new period.
func (l *Live) watchdog(ctx context.Context, cancel context.CancelCauseFunc, cli *client.Client, p *progress, stall time.Duration) {
	tick := time.NewTicker(max(stall/4, 10*time.Millisecond))
	defer tick.Stop()
	start, lines, in := time.Now(), p.lines.Load(), p.in.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		if n := p.lines.Load(); n != lines {
			start, lines, in = now, n, p.in.Load()
			continue
		}
		if now.Sub(start) < stall {
			continue
		}
		var reason string
		if got := p.in.Load(); got != in || got > p.consumed.Load() {
			reason = fmt.Sprintf("no complete message in %s while one was arriving (%d bytes); the daemon trickles or stopped mid-message", stall, got-in)
		} else {
			pctx, done := context.WithTimeout(ctx, stallPingTimeout(stall))
			_, err := cli.Ping(pctx)
			done()
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				start, in = time.Now(), p.in.Load()
				continue
			}
			reason = fmt.Sprintf("silent for %s and no answer to a ping: %s", stall, escape.Capped(err.Error(), maxDaemonText))
		}
		l.env.Counters.Stalls.Add(1)
		cancel(stallError{reason})
		return
	}
}

// stallPingTimeout is how long the watchdog's ping may take: the stall
// timeout, but at least 2 s (a busy host must not turn a slow answer into a
// reconnection) and at most pingTimeout.
func stallPingTimeout(stall time.Duration) time.Duration {
	return min(max(stall, 2*time.Second), pingTimeout)
}

// readWatched reads one stream (read) under a watchdog; a stream the
// watchdog ended returns the stall's reason.
func (l *Live) readWatched(ctx context.Context, cancel context.CancelCauseFunc, cli *client.Client, body io.Reader) error {
	p := &progress{}
	stall := time.Duration(l.env.Config.StallTimeoutMs) * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.watchdog(ctx, cancel, cli, p, stall)
	}()
	err := l.read(meter{r: body, p: p}, p)
	cancel(nil) // ends the watchdog (a stall's cause stays)
	<-done
	if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
		return cause
	}
	return err
}
