package abi

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/falco-docker/docker-plugin/internal/escape"
)

// errNone is the "no error" last error. The SDK's plugin_get_last_error glue
// calls Error() on whatever LastError returns, so it must never be nil.
var errNone = errors.New("")

// lastError is a plugin state's last error, set from the event-loop thread
// and read (plugin_get_last_error) from the same or the main thread.
type lastError struct {
	mu  sync.Mutex
	err error
}

func (l *lastError) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return errNone
	}
	return l.err
}

// SetLastError keeps err for plugin_get_last_error. Falco prints last errors
// in its own log; they can quote text the plugin does not control (a
// daemon's error body, a panic value), so control characters are escaped
// here once for all (package escape).
func (l *lastError) SetLastError(err error) {
	if err != nil && escape.Needed(err.Error()) {
		err = errors.New(escape.String(err.Error()))
	}
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// panicCount counts panics contained in states that no longer exist or
// never existed (a panic in plugin_init), for the log and tests.
var panicCount atomic.Uint64

// panicError turns a recovered value into the error reported through
// plugin_get_last_error: it names the entry point and keeps the panic text;
// the stack goes to the log only (it is long, and the last error has a
// bounded buffer in Falco).
func panicError(entry string, r any) error {
	panicCount.Add(1)
	logger.Errorf("contained a panic in %s: %v", entry, r)
	// One log line per stack line: the logger keeps every message on one
	// line (it escapes newlines), and a stack is read line by line.
	for _, line := range strings.Split(strings.TrimRight(string(debug.Stack()), "\n"), "\n") {
		logger.Errorf("    %s", strings.ReplaceAll(line, "\t", "    "))
	}
	return fmt.Errorf("%s: internal error (Go panic contained, please report): %v", entry, r)
}
