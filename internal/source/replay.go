package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/logging"
)

// Replay is the offline source: one Docker events JSON message per line of a
// file, each delivered as one event whose payload is the line's bytes as
// written (without the line terminator). Blank lines are ignored; lines that
// are not a JSON object are skipped and counted (events_malformed); lines
// longer than maxEventSize are skipped and counted (events_oversize).
//
// A regular file is read to its end, then Next returns ErrEOF forever. A
// FIFO or other pollable file (e.g. `docker events --format '{{json .}}' >
// fifo`) is read with a deadline, so Next returns ErrTimeout while the
// writer is quiet and ErrEOF once it closes.
type Replay struct {
	f        *os.File
	env      Env
	size     int64 // regular files: size at open; else -1
	pollable bool  // reads honour deadlines

	buf      []byte // buf[start:end] holds unread bytes
	start    int
	end      int
	consumed int64 // bytes of complete lines handed out or skipped
	skipping bool  // inside an oversize line: discard up to the next '\n'
	eof      bool  // the file returned io.EOF; buf may still hold a last line
	done     bool  // sticky EOF
	lines    uint64
	lineNo   uint64
	callRead int    // bytes read during the current Next call
	received uint64 // lines counted received in this Next call, not yet in Counters

	// Skipped lines are logged first in full, then as counts.
	malformedLog, oversizeLog *logging.Repeats
}

// OpenReplay opens path for replay.
func OpenReplay(path string, env Env) (*Replay, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open replay file: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open replay file %s: is a directory, expected a .jsonl file", path)
	}
	mode := st.Mode()
	if mode&os.ModeDevice != 0 {
		// /dev/zero never ends a line, /dev/urandom never ends: a device is
		// not a recording, and reading one would only burn Falco's loop.
		return nil, fmt.Errorf("open replay file %s: is a device (mode %s), not a recording: replay reads a .jsonl file or a pipe", path, mode)
	}
	if !mode.IsRegular() && mode&os.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("open replay file %s: not a regular file or a pipe (mode %s)", path, mode)
	}
	// O_NONBLOCK lets the runtime poller manage FIFOs (so deadlines work and
	// opening a FIFO with no writer yet does not hang plugin_open).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open replay file: %w", err)
	}
	r := &Replay{f: f, env: env, size: -1,
		malformedLog: logging.NewRepeats(env.Log.Warnf, "replay: lines that are not JSON objects, skipped", logging.DefaultEvery),
		oversizeLog:  logging.NewRepeats(env.Log.Warnf, fmt.Sprintf("replay: lines larger than maxEventSize %d, skipped", env.Config.MaxEventSize), logging.DefaultEvery),
	}
	if mode.IsRegular() {
		r.size = st.Size()
	} else if err := f.SetReadDeadline(time.Time{}); err == nil {
		r.pollable = true
	}
	bufSize := env.Config.MaxEventSize + 1
	if bufSize < 256<<10 {
		bufSize = 256 << 10
	}
	r.buf = make([]byte, bufSize)
	return r, nil
}

// Next implements Source.
func (r *Replay) Next(b Batch, wait time.Duration) error {
	if r.done {
		return ErrEOF
	}
	r.malformedLog.FlushDue()
	r.oversizeLog.FlushDue()
	r.callRead = 0
	// One atomic add per call, not per line (metrics are read from
	// another thread, and a locked add per event is measurable here).
	defer r.flushReceived()
	deadlineSet := false
	for b.Len() < b.Cap() {
		line, ok, err := r.nextLine()
		if ok {
			r.deliver(b, line)
			continue
		}
		if err == nil {
			// Need more bytes. One call reads a bounded amount: a file
			// without a newline for gigabytes, or of nothing but blank or
			// malformed lines, must not hold Falco's loop; the next call
			// goes on where this one stopped.
			if r.callRead >= maxReplayBytesPerCall {
				return ErrTimeout
			}
			if r.pollable && !deadlineSet {
				_ = r.f.SetReadDeadline(time.Now().Add(wait))
				deadlineSet = true
			}
			if err = r.fill(); err == nil {
				continue
			}
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return ErrTimeout
		case errors.Is(err, syscall.EAGAIN):
			// A FIFO without a writer yet reads as EAGAIN on some
			// kernels; treat it as "nothing yet".
			return ErrTimeout
		case errors.Is(err, io.EOF):
			r.finish()
			return ErrEOF
		default:
			r.finish()
			return fmt.Errorf("read replay file: %w", err)
		}
	}
	return nil
}

func (r *Replay) flushReceived() {
	if r.received > 0 {
		r.env.Counters.Received.Add(r.received)
		r.received = 0
	}
}

// finish makes EOF sticky and reports the skipped lines not reported yet.
func (r *Replay) finish() {
	r.done = true
	r.malformedLog.Flush()
	r.oversizeLog.Flush()
}

func (r *Replay) deliver(b Batch, line []byte) {
	r.lineNo++
	if len(line) == 0 || line[0] <= ' ' && len(bytes.TrimSpace(line)) == 0 {
		return
	}
	r.received++
	if len(line) > r.env.Config.MaxEventSize {
		r.env.Counters.Oversize.Add(1)
		r.oversizeLog.Logf("replay: line %d: %d bytes is larger than maxEventSize %d, skipped", r.lineNo, len(line), r.env.Config.MaxEventSize)
		return
	}
	ts, hasTS, valid := event.Probe(line)
	if !valid {
		r.env.Counters.Malformed.Add(1)
		r.malformedLog.Logf("replay: line %d: not a JSON object, skipped", r.lineNo)
		return
	}
	if !hasTS {
		ts = uint64(time.Now().UnixNano())
	}
	b.Add(line, ts)
	r.lines++
}

// nextLine returns the next complete line (without "\n" or "\r\n"). ok is
// false when more bytes are needed (err nil) or the file is exhausted
// (err io.EOF). An oversize line is reported through deliver's size check
// when it fits the buffer, else skipped here.
func (r *Replay) nextLine() (line []byte, ok bool, err error) {
	for {
		i := bytes.IndexByte(r.buf[r.start:r.end], '\n')
		if i >= 0 {
			line = r.buf[r.start : r.start+i]
			r.start += i + 1
			r.consumed += int64(i + 1)
			if r.skipping {
				r.skipping = false
				continue
			}
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, true, nil
		}
		if r.skipping {
			r.consumed += int64(r.end - r.start)
			r.start, r.end = 0, 0
		}
		if !r.eof {
			return nil, false, nil
		}
		// At end of file: a last line without "\n" still counts.
		if r.end > r.start && !r.skipping {
			line = r.buf[r.start:r.end]
			r.consumed += int64(r.end - r.start)
			r.start = r.end
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, true, nil
		}
		return nil, false, io.EOF
	}
}

// fill reads more bytes into buf. When the buffer holds one partial line
// that fills it, that line is oversize: it is counted and skipped.
func (r *Replay) fill() error {
	if r.eof {
		return io.EOF
	}
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		// One line larger than the whole buffer (> maxEventSize).
		r.lineNo++
		r.received++
		r.env.Counters.Oversize.Add(1)
		r.oversizeLog.Logf("replay: line %d: larger than maxEventSize %d, skipped", r.lineNo, r.env.Config.MaxEventSize)
		r.consumed += int64(r.end)
		r.start, r.end = 0, 0
		r.skipping = true
	}
	n, err := r.f.Read(r.buf[r.end:])
	r.end += n
	r.callRead += n
	if n > 0 {
		return nil
	}
	if err == io.EOF {
		r.eof = true
		return nil // let nextLine hand out a last unterminated line
	}
	if err == nil {
		return nil
	}
	return err
}

// Progress implements Source: the fraction of the file consumed.
func (r *Replay) Progress() (float64, string) {
	if r.done {
		return 1, fmt.Sprintf("100.00%% (%d events)", r.lines)
	}
	if r.size <= 0 {
		return 0, fmt.Sprintf("%d events", r.lines)
	}
	p := float64(r.consumed) / float64(r.size)
	if p > 1 {
		p = 1
	}
	return p, fmt.Sprintf("%.2f%% (%d events)", p*100, r.lines)
}

// Close implements Source.
func (r *Replay) Close() error {
	r.malformedLog.Flush()
	r.oversizeLog.Flush()
	return r.f.Close()
}

// maxReplayBytesPerCall bounds the bytes one Next call reads (beyond what
// its buffer already holds): a few milliseconds of work. A batch of real
// events is far smaller (128 events of ~600 bytes); only input that yields
// no events (blank, malformed or oversize lines) ever reaches it.
const maxReplayBytesPerCall = 8 << 20
