package tests

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// nextBatchUntil calls next_batch on a live (or pollable) instance until done
// holds for the events delivered so far, and returns them; it fails the
// test on any answer but success or timeout, and after timeout.
func nextBatchUntil(t testing.TB, s harness.State, i harness.Instance, what string, timeout time.Duration, done func([]harness.Event) bool) []harness.Event {
	t.Helper()
	var got []harness.Event
	for deadline := time.Now().Add(timeout); !done(got); {
		if time.Now().After(deadline) {
			t.Fatalf("after %v waiting for %s: %d events delivered, metrics %v", timeout, what, len(got), plug.MetricsMap(s))
		}
		evts, rc := plug.NextBatch(s, i)
		if rc != harness.Success && rc != harness.Timeout {
			t.Fatalf("waiting for %s: next_batch rc=%d: %s", what, rc, plug.LastError(s))
		}
		got = append(got, evts...)
	}
	return got
}

// quietFIFO makes a FIFO with a writer that stays open and silent (opened
// O_RDWR, which never blocks on a FIFO), so that a replay of it waits; the
// writer closes when the test ends.
func quietFIFO(t testing.TB) (string, *os.File) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "events.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return fifo, w
}
