package dockertest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// SlowProxy is an HTTP proxy on a unix socket of the test's in front of an
// engine: it holds the answers to some requests (a slow daemon), and
// records each line of the event streams it forwards with the time it did.
// Tests make inspection slow with it and check what that does to the event
// stream the plugin delivers.
type SlowProxy struct {
	path string
	srv  *http.Server

	mu    sync.Mutex
	slow  func(path string) bool
	delay time.Duration
	held  int
	lines []StreamLine
}

// StreamLine is one line of an event stream the proxy forwarded.
type StreamLine struct {
	Data []byte
	At   time.Time
}

// NewSlowProxy starts a proxy to engine e (unix sockets only); it stops
// when the test ends.
func NewSlowProxy(t testing.TB, e *Engine) *SlowProxy {
	t.Helper()
	sock := "/var/run/docker.sock"
	h := e.host
	if h == "" {
		h = os.Getenv("DOCKER_HOST")
	}
	switch {
	case h == "":
	case strings.HasPrefix(h, "unix://"):
		sock = strings.TrimPrefix(h, "unix://")
	default:
		unavailable(t, "DOCKER_HOST=%s cannot be proxied (unix:// only)", h)
	}
	dir, err := os.MkdirTemp("", "fdp-slow-")
	if err != nil {
		t.Fatal(err)
	}
	p := &SlowProxy{path: filepath.Join(dir, "docker.sock")}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: "engine"})
			r.Out.Host = "engine"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
		FlushInterval: -1, // event streams go through as they come
		ModifyResponse: func(resp *http.Response) error {
			if strings.HasSuffix(resp.Request.URL.Path, "/events") {
				resp.Body = &lineRecorder{rc: resp.Body, p: p}
			}
			return nil
		},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		slow, delay := p.slow, p.delay
		if slow != nil && slow(r.URL.Path) {
			p.held++
		} else {
			delay = 0
		}
		p.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	go p.srv.Serve(ln)
	t.Cleanup(func() {
		p.srv.Close()
		os.RemoveAll(dir)
	})
	return p
}

// Endpoint is the proxy's address as plugin open params.
func (p *SlowProxy) Endpoint() string { return "unix://" + p.path }

// Slow holds the answer to every request whose path slow selects for
// delay (the request's end cancels the wait).
func (p *SlowProxy) Slow(slow func(path string) bool, delay time.Duration) {
	p.mu.Lock()
	p.slow, p.delay = slow, delay
	p.mu.Unlock()
}

// Held is the number of requests held so far.
func (p *SlowProxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// Lines returns the event stream lines forwarded so far, in order.
func (p *SlowProxy) Lines() []StreamLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]StreamLine(nil), p.lines...)
}

// lineRecorder passes an event stream through, recording its lines.
type lineRecorder struct {
	rc  io.ReadCloser
	p   *SlowProxy
	buf []byte
}

func (l *lineRecorder) Read(b []byte) (int, error) {
	n, err := l.rc.Read(b)
	l.buf = append(l.buf, b[:n]...)
	now := time.Now()
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimSpace(l.buf[:i]); len(line) > 0 {
			l.p.mu.Lock()
			l.p.lines = append(l.p.lines, StreamLine{Data: bytes.Clone(line), At: now})
			l.p.mu.Unlock()
		}
		l.buf = l.buf[i+1:]
	}
	return n, err
}

func (l *lineRecorder) Close() error { return l.rc.Close() }
