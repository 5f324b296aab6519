package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

// controlAt returns the index of the first C0 control, DEL or UTF-8 C1
// control byte of s, or -1.
func controlAt(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
			return i
		}
	}
	return -1
}

// streamBlob makes the daemon answer every events request with blob, then
// keep the stream open until the client goes.
func streamBlob(d *sourcetest.Daemon, blob []byte) {
	d.Hook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/events") {
			return false
		}
		w.WriteHeader(http.StatusOK)
		w.Write(blob)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	})
}

// TestLiveDaemonErrorTextIsEscapedAndCapped: the daemon's error text goes
// into log lines, the last error and the progress string. A hostile daemon
// must not forge a log line (newline + "[docker]"), drive a terminal, or
// make each retry log a megabyte.
func TestLiveDaemonErrorTextIsEscapedAndCapped(t *testing.T) {
	forged := "\n2024-05-01T10:58:56Z [docker] error: forged line\x1b[2J\x00"
	long := strings.Repeat("A", 100<<10)
	for name, hook := range map[string]func(w http.ResponseWriter, r *http.Request) bool{
		"events refused with a JSON message": func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/events") {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			w.Write([]byte(`{"message":"boom` + jsonEscape(forged) + long[:10<<10] + `"}`))
			return true
		},
		// The ping's answer quotes the daemon in its status line and its
		// body (whichever the ping reports).
		"ping refused with a hostile status and body": func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/_ping") {
				return false
			}
			if r.Method == http.MethodHead { // the docker client then retries with GET, and reads the body
				w.WriteHeader(404)
				return true
			}
			c, bw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return false
			}
			defer c.Close()
			body := "boom" + forged + long
			bw.WriteString("HTTP/1.1 500 boom\x1b[2J\x07\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
			bw.Flush()
			return true
		},
		"events refused with a hostile status line": func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/events") {
				return false
			}
			hj, ok := w.(http.Hijacker)
			if !ok {
				return false
			}
			c, bw, err := hj.Hijack()
			if err != nil {
				return false
			}
			defer c.Close()
			bw.WriteString("HTTP/1.1 503 boom\x1b[2J\x07 " + long[:2000] + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			bw.Flush()
			return true
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := sourcetest.New(t, "1.41")
			d.Hook(hook)
			env := newLiveEnv(nil)
			l := openLiveT(t, d.Endpoint(), env.Env, noenv)
			eventually(t, "the daemon's text in the last error", func() bool {
				e := env.last.Get()
				return e != nil && strings.Contains(e.Error(), "boom")
			})
			eventually(t, "two attempts", func() bool { return env.counters.ConnectErrors.Load() >= 2 })
			_, progress := l.Progress()
			for what, text := range map[string]string{"last error": env.last.Get().Error(), "log": env.log.String(), "progress": progress} {
				for _, line := range strings.Split(text, "\n") {
					if i := controlAt(line); i >= 0 {
						t.Errorf("%s holds a control byte at %d: %.200q", what, i, line)
					}
					if len(line) > 2048 {
						t.Errorf("%s: line of %d bytes: daemon text must be capped", what, len(line))
					}
				}
			}
		})
	}
}

var summaryCount = regexp.MustCompile(`: (\d+) more `)

// tally checks that the lines of log mentioning what are few, and that
// they account for every occurrence: each full line is one, each summary
// says how many more.
func tally(t *testing.T, log, what string, want uint64, maxLines int) {
	t.Helper()
	var lines []string
	var total uint64
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, what) {
			continue
		}
		lines = append(lines, line)
		if m := summaryCount.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			total += n
		} else {
			total++
		}
	}
	if len(lines) > maxLines {
		t.Errorf("%d log lines about %q (want at most %d); first ones:\n%s", len(lines), what, maxLines, strings.Join(lines[:min(len(lines), 5)], "\n"))
	}
	if total != want {
		t.Errorf("log lines about %q account for %d occurrences, counted %d:\n%s", what, total, want, strings.Join(lines[:min(len(lines), 5)], "\n"))
	}
}

// TestLiveMalformedFloodIsAggregated: 3.2 MB of "x\n" from a hostile daemon
// is 1.6 million malformed messages. Each is counted; the log says so in a
// few lines (first occurrence, then counts), not 1.6 million.
func TestLiveMalformedFloodIsAggregated(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	const n = 1600000
	oversize := bytes.Repeat([]byte(`{"x":"`+strings.Repeat("y", 1100)+`"}`+"\n"), 2000)
	streamBlob(d, append(bytes.Repeat([]byte("x\n"), n), oversize...))
	env := newLiveEnv(func(c *config.Config) { c.MaxEventSize = 1024 })
	l, err := OpenLive(d.Endpoint(), env.Env, noenv)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for env.counters.Malformed.Load() < n || env.counters.Oversize.Load() < 2000 {
		if time.Now().After(deadline) {
			l.Close()
			t.Fatalf("malformed %d, oversize %d after 60 s", env.counters.Malformed.Load(), env.counters.Oversize.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.Close() // reports what is left to report
	log := env.log.String()
	tally(t, log, "JSON object", n, 4)
	tally(t, log, "maxEventSize", 2000, 4)
}

// TestReplayMalformedFloodIsAggregated: the same for a replayed file.
func TestReplayMalformedFloodIsAggregated(t *testing.T) {
	const n = 200000
	var b bytes.Buffer
	for k := 0; k < n; k++ {
		b.WriteString("not json\n")
	}
	for k := 0; k < 500; k++ {
		b.WriteString(`{"x":"` + strings.Repeat("y", 1100) + "\"}\n")
	}
	b.WriteString(`{"x":"` + strings.Repeat("z", 600<<10) + "\"}\n") // larger than the read buffer
	b.WriteString(`{"Type":"container","Action":"start","timeNano":5}` + "\n")
	path := filepath.Join(t.TempDir(), "flood.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := newLiveEnv(func(c *config.Config) { c.MaxEventSize = 1024 })
	r, err := OpenReplay(path, env.Env)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for k := 0; ; k++ {
		batch := &testBatch{Max: 64}
		err := r.Next(batch, time.Millisecond)
		got += batch.Len()
		if err == ErrEOF {
			break
		}
		if err != nil && err != ErrTimeout {
			t.Fatal(err)
		}
		if k > 1e6 {
			t.Fatal("replay never reached EOF")
		}
	}
	r.Close()
	if got != 1 || env.counters.Malformed.Load() != n || env.counters.Oversize.Load() != 501 {
		t.Fatalf("delivered %d, malformed %d, oversize %d", got, env.counters.Malformed.Load(), env.counters.Oversize.Load())
	}
	log := env.log.String()
	tally(t, log, "JSON object", n, 4)
	tally(t, log, "maxEventSize", 501, 4)
}

// jsonEscape writes s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// nextWithin runs one Next call and fails the test if it does not return
// within d (the call is left running: what is tested is that it returns).
func nextWithin(t *testing.T, src Source, b Batch, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- src.Next(b, 5*time.Millisecond) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("a next_batch call did not return within %s", d)
		return nil
	}
}

// TestReplayRefusesCharacterDevices: file:///dev/zero or /dev/urandom as
// open params made next_batch read forever (no newline ever comes, or
// only garbage), blocking Falco's event loop. A recording is a file or a
// pipe, never a device.
func TestReplayRefusesCharacterDevices(t *testing.T) {
	for _, dev := range []string{"/dev/zero", "/dev/urandom", "/dev/null"} {
		if _, err := os.Stat(dev); err != nil {
			continue
		}
		env := newLiveEnv(nil)
		src, err := Open("file://"+dev, env.Env)
		if err == nil {
			nextWithin(t, src, &testBatch{Max: 8}, 5*time.Second)
			src.Close()
			t.Errorf("%s: opened as a replay file", dev)
			continue
		}
		if !strings.Contains(err.Error(), "device") {
			t.Errorf("%s: %v; want it to say it is a device", dev, err)
		}
	}
}

// TestReplayBoundsWorkPerCall: one next_batch call reads a bounded amount
// of the file, whatever the file holds: no newline for gigabytes (a sparse
// file), or nothing but blank or malformed lines. It returns a timeout and
// the next call goes on; the file is still consumed to its end.
func TestReplayBoundsWorkPerCall(t *testing.T) {
	dir := t.TempDir()
	const size = 256 << 20
	sparse := filepath.Join(dir, "zeros.jsonl")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	blank := filepath.Join(dir, "blank.jsonl")
	if err := os.WriteFile(blank, bytes.Repeat([]byte("\n"), 64<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{sparse, blank} {
		st, _ := os.Stat(path)
		env := newLiveEnv(nil)
		r, err := OpenReplay(path, env.Env)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		for {
			before := r.consumed
			err := nextWithin(t, r, &testBatch{Max: 128}, 10*time.Second)
			calls++
			if read := r.consumed - before; read > maxReplayBytesPerCall+int64(len(r.buf)) {
				t.Fatalf("%s: one call went through %d MiB of the file", filepath.Base(path), read>>20)
			}
			if err == ErrEOF {
				break
			}
			if err != ErrTimeout {
				t.Fatalf("%s: Next = %v", filepath.Base(path), err)
			}
		}
		r.Close()
		if r.consumed != st.Size() || calls < int(st.Size()/maxReplayBytesPerCall) {
			t.Errorf("%s: consumed %d of %d bytes in %d calls", filepath.Base(path), r.consumed, st.Size(), calls)
		}
		if path == sparse && env.counters.Oversize.Load() != 1 {
			t.Errorf("a file without newlines is one oversize line; counted %d", env.counters.Oversize.Load())
		}
	}
}

// stallEnv is a live environment with a short stall timeout.
func stallEnv(ms int) liveEnv {
	return newLiveEnv(func(c *config.Config) { c.StallTimeoutMs = ms })
}

// TestLiveDetectsStalledDaemon: a daemon that stops talking mid-stream
// is never heard of again by a reader that just waits: the plugin said
// "connected" and delivered nothing, forever. Each hostile daemon here is
// detected, counted (daemon_stalls), explained, and reconnected to.
func TestLiveDetectsStalledDaemon(t *testing.T) {
	for name, events := range map[string]func(w http.ResponseWriter, r *http.Request){
		// One byte of a message every 20 ms: never a complete message.
		"trickling": func(w http.ResponseWriter, r *http.Request) {
			msg := []byte(`{"Type":"container","Action":"start","Actor":{"ID":"` + strings.Repeat("a", 1<<20))
			for _, b := range msg {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		},
		// Half a message, then silence (while pings are answered).
		"stopped mid-message": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"Type":"container","Action":"st`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		// An endless line at full speed: bytes flow, no message completes.
		"endless message": func(w http.ResponseWriter, r *http.Request) {
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			w.Write([]byte(`{"x":"`))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := sourcetest.New(t, "1.41")
			d.Hook(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/events") {
					return false
				}
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				events(w, r)
				return true
			})
			env := stallEnv(300)
			openLiveT(t, d.Endpoint(), env.Env, noenv)
			eventually(t, "the stall detected and a reconnection", func() bool {
				return env.counters.Stalls.Load() >= 1 && d.Requests() >= 2
			})
			// (The last error said so too, until the reconnection cleared it.)
			if log := env.log.String(); !strings.Contains(log, "stalled: no complete message") {
				t.Errorf("log does not say the daemon stalled:\n%s", log)
			}
		})
	}

	// Silent, and the daemon does not answer pings either (hung).
	t.Run("silent and not answering pings", func(t *testing.T) {
		d := sourcetest.New(t, "1.41")
		hung := make(chan struct{})
		defer close(hung)
		d.Hook(func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/_ping") && d.Requests() > 0 {
				select { // hang until the client gives up
				case <-r.Context().Done():
				case <-hung:
				}
				return true
			}
			return false
		})
		env := stallEnv(300)
		openLiveT(t, d.Endpoint(), env.Env, noenv)
		eventually(t, "the stall detected", func() bool { return env.counters.Stalls.Load() >= 1 })
		if log := env.log.String(); !strings.Contains(log, "stalled: silent for") || !strings.Contains(log, "no answer to a ping") {
			t.Errorf("log does not say the ping went unanswered:\n%s", log)
		}
	})
}

// TestLiveIdleDaemonIsNotStalled: a daemon with nothing to say, that
// answers pings, keeps its stream: no stall, no reconnection.
func TestLiveIdleDaemonIsNotStalled(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	env := stallEnv(400)
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	pings := d.Pings()
	eventually(t, "three pings on the idle stream", func() bool { return d.Pings() >= pings+3 })
	if n := env.counters.Stalls.Load(); n != 0 || d.Requests() != 1 {
		t.Errorf("idle daemon: %d stalls, %d events requests; want 0 and 1", n, d.Requests())
	}
	// A slow but steady daemon (one message at a time, well within the
	// timeout) is not stalled either.
	for k := 0; k < 5; k++ {
		d.Send(msg("start", fmt.Sprint(k), uint64(time.Now().UnixNano())))
		collect(t, l, 1)
		time.Sleep(100 * time.Millisecond)
	}
	if n := env.counters.Stalls.Load(); n != 0 || d.Requests() != 1 {
		t.Errorf("steady daemon: %d stalls, %d events requests; want 0 and 1", n, d.Requests())
	}
}
