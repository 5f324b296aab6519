// Package logging is the plugin's single logger: one line per message on
// stderr, prefixed with the "docker" component and the level, filtered by the
// logLevel init option. Quiet by default (warnings and errors only):
// reconnects, drops and skipped input are warnings, so operators see them.
//
// Messages quote text the plugin does not control (daemon error bodies,
// endpoints, panic values): the logger escapes control characters in every
// message (package escape), so one message is always exactly one line and
// no quoted text can forge a "[docker]" line or drive a terminal. Recurring
// conditions go through Repeats, so that a hostile input cannot turn into
// a log flood.
package logging

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falco-docker/docker-plugin/internal/escape"
)

// Level orders severities: lower is more severe.
type Level int32

const (
	Error Level = iota
	Warning
	Info
	Debug
)

var levelNames = [...]string{"error", "warning", "info", "debug"}

func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel maps a logLevel option value to a Level.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return Warning, fmt.Errorf("unknown log level %q", s)
}

// Logger writes leveled lines. Safe for concurrent use; the zero value is
// not usable, use New.
type Logger struct {
	level atomic.Int32
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
}

// New returns a logger writing to w (os.Stderr when nil) at level.
func New(w io.Writer, level Level) *Logger {
	if w == nil {
		w = os.Stderr
	}
	l := &Logger{w: w, now: time.Now}
	l.level.Store(int32(level))
	return l
}

// SetLevel changes the level.
func (l *Logger) SetLevel(level Level) { l.level.Store(int32(level)) }

// Enabled reports whether messages at level are written.
func (l *Logger) Enabled(level Level) bool { return int32(level) <= l.level.Load() }

func (l *Logger) logf(level Level, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	msg := escape.String(fmt.Sprintf(format, args...))
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s [docker] %s: %s\n", l.now().Format(time.RFC3339), level, msg)
}

func (l *Logger) Errorf(format string, args ...any) { l.logf(Error, format, args...) }
func (l *Logger) Warnf(format string, args ...any)  { l.logf(Warning, format, args...) }
func (l *Logger) Infof(format string, args ...any)  { l.logf(Info, format, args...) }
func (l *Logger) Debugf(format string, args ...any) { l.logf(Debug, format, args...) }
