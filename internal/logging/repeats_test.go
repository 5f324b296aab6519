package logging

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newRepeats(c *clock) (*Repeats, *[]string) {
	var lines []string
	r := NewRepeats(func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }, "bad lines", 10*time.Second)
	r.now = c.now
	return r, &lines
}

func TestRepeats(t *testing.T) {
	c := &clock{t: at}
	r, lines := newRepeats(c)
	r.Logf("line %d: bad", 1) // first: in full
	for k := 2; k <= 1000; k++ {
		c.advance(time.Millisecond)
		r.Logf("line %d: bad", k) // counted
	}
	r.FlushDue() // not due yet
	c.advance(9*time.Second + time.Millisecond)
	r.Logf("line %d: bad", 1001) // 10 s after the first line: the count
	r.Logf("line %d: bad", 1002)
	c.advance(10 * time.Second)
	r.FlushDue() // due: the one left
	r.FlushDue() // nothing left
	c.advance(time.Second)
	r.Logf("line %d: bad", 1003)
	r.Flush() // within the interval: counted, then flushed
	r.Flush()
	c.advance(time.Minute)
	r.Logf("line %d: bad", 1004) // quiet for long: in full again
	want := []string{
		"line 1: bad",
		"bad lines: 1000 more in the last 10s",
		"bad lines: 1 more in the last 10s",
		"bad lines: 1 more in the last 1s",
		"line 1004: bad",
	}
	if strings.Join(*lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(*lines, "\n"), strings.Join(want, "\n"))
	}
}

// Concurrent callers lose no occurrence.
func TestRepeatsConcurrent(t *testing.T) {
	var mu sync.Mutex
	total := 0
	r := NewRepeats(func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if f == "x" {
			total++
			return
		}
		total += int(a[1].(uint64))
	}, "x", time.Hour)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 10000; k++ {
				r.Logf("x")
				r.FlushDue()
			}
		}()
	}
	wg.Wait()
	r.Flush()
	if total != 40000 {
		t.Errorf("accounted for %d occurrences, want 40000", total)
	}
}

// Whatever a message quotes, it is one line without control characters:
// a daemon's error text cannot forge a [docker] line or drive a terminal.
func TestLoggerEscapesMessages(t *testing.T) {
	l, b := newFixed(Debug)
	l.Warnf("events: %s", "500 boom\n2024-05-01T10:58:56Z [docker] error: forged\x1b[2J\x00")
	want := `2024-05-01T10:58:56Z [docker] warning: events: 500 boom\n2024-05-01T10:58:56Z [docker] error: forged\x1b[2J\x00` + "\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
