package logging

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEvery is how often Repeats reports a condition that keeps
// occurring.
const DefaultEvery = 10 * time.Second

// Repeats logs a recurring condition (malformed or oversize input) without
// letting its source flood the log: the first occurrence is logged in full;
// later ones are only counted, and one line per interval says how many
// there were ("...: 1599999 more in the last 10s"), as does Flush. Every
// occurrence is accounted for, either by its own line or in a count.
//
// Without it a hostile daemon sending 3.2 MB of "x\n" made the reader log
// 1.6 million lines (180 MB) in 5 s, synchronously, and on journald hosts
// the flood rate-limited Falco's own output. Safe for concurrent use.
type Repeats struct {
	log   func(format string, args ...any)
	what  string
	every time.Duration
	now   func() time.Time

	pending  atomic.Uint64 // occurrences not reported yet
	mu       sync.Mutex
	reported time.Time // when the last line was written; zero: never
}

// NewRepeats reports through log (a leveled logger method such as
// Logger.Warnf); what names the condition in count lines ("docker daemon
// unix:///var/run/docker.sock: messages that are not JSON objects,
// skipped"); every is the interval between count lines.
func NewRepeats(log func(format string, args ...any), what string, every time.Duration) *Repeats {
	return &Repeats{log: log, what: what, every: every, now: time.Now}
}

// Logf records one occurrence: logged in full (format, args) when nothing
// was reported for an interval, else counted, and the count logged once
// the interval has passed.
func (r *Repeats) Logf(format string, args ...any) {
	r.mu.Lock()
	now := r.now()
	due := r.reported.IsZero() || now.Sub(r.reported) >= r.every
	if !due {
		r.pending.Add(1)
		r.mu.Unlock()
		return
	}
	since := r.reported
	r.reported = now
	n := r.pending.Swap(0)
	r.mu.Unlock()
	if n == 0 {
		r.log(format, args...)
		return
	}
	r.logCount(n+1, now.Sub(since))
}

// FlushDue logs the count of unreported occurrences if the interval has
// passed since the last line. It costs one atomic load when there is
// nothing to report, so readers call it for every good event: a burst of
// bad input followed by good input is reported within an interval.
func (r *Repeats) FlushDue() {
	if r.pending.Load() == 0 {
		return
	}
	r.mu.Lock()
	now := r.now()
	if now.Sub(r.reported) < r.every {
		r.mu.Unlock()
		return
	}
	r.flushLocked(now)
}

// Flush logs the count of unreported occurrences, if any (at the end of a
// stream or file, and at close).
func (r *Repeats) Flush() {
	r.mu.Lock()
	r.flushLocked(r.now())
}

func (r *Repeats) flushLocked(now time.Time) {
	n := r.pending.Swap(0)
	since := r.reported
	if n > 0 {
		r.reported = now
	}
	r.mu.Unlock()
	if n > 0 {
		r.logCount(n, now.Sub(since))
	}
}

func (r *Repeats) logCount(n uint64, over time.Duration) {
	r.log("%s: %d more in the last %s", r.what, n, fmtDuration(over))
}

func fmtDuration(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Second).String()
	}
	return fmt.Sprint(d.Round(time.Millisecond))
}
