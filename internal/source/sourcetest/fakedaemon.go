// Package sourcetest is a fake Docker daemon for tests of the live source:
// it speaks the endpoints the plugin uses (/_ping, /vX/events, and the
// container and exec inspection of the container context) on a
// unix socket (or TCP, with or without TLS), records every events request
// (path, since=, filters=) and streams the lines a test sends. Tests drop
// the stream (Hangup) to exercise reconnection, refuse requests (Refuse) to
// exercise errors, or take over requests (Hook) to play a hostile daemon.
package sourcetest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Daemon is one fake daemon. Create it with New.
type Daemon struct {
	// Sock is the socket path ("" for a TCP daemon).
	Sock string
	// Addr is the TCP address (host:port) of a TCP daemon.
	Addr string
	// TLS, when set before Start, makes a TCP daemon speak TLS.
	TLS *tls.Config
	// Version is the Api-Version the daemon announces ("" = none).
	Version string
	// Libpod, when set, is the Libpod-Api-Version the daemon announces:
	// it then answers as Podman's Docker-compatible service does.
	Libpod string

	srv *httptest.Server

	mu       sync.Mutex
	requests []*http.Request
	status   int
	body     string
	hook     func(w http.ResponseWriter, r *http.Request) bool
	pings    int

	// Containers: inspect documents by id (GET /vX/containers/{id}/json,
	// listed by /vX/containers/json), exec inspect documents by exec id,
	// answers held for a delay, and the inspections counted.
	containers map[string]string
	order      []string
	execs      map[string]string
	delays     map[string]time.Duration
	inspects   map[string]int
	lists      int

	lines  chan string
	hangup chan struct{}
	conns  chan int
	stop   chan struct{}
	once   sync.Once
}

// New starts a fake daemon announcing API version on a fresh socket; it
// stops when the test ends.
func New(t testing.TB, version string) *Daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "dk") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := Prepare(filepath.Join(dir, "d.sock"), version)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// Prepare makes a daemon for sock without listening yet (Start listens):
// tests of a daemon that comes up after the plugin opened.
func Prepare(sock, version string) *Daemon {
	return &Daemon{
		Sock: sock, Version: version,
		containers: map[string]string{}, execs: map[string]string{}, delays: map[string]time.Duration{}, inspects: map[string]int{},
		lines: make(chan string, 1<<16), hangup: make(chan struct{}, 1),
		conns: make(chan int, 64), stop: make(chan struct{}),
	}
}

// NewTCP starts a fake daemon on a loopback TCP port; with tlsConfig it
// speaks TLS (tests of the TLS rules). It stops when the test ends.
func NewTCP(t testing.TB, version string, tlsConfig *tls.Config) *Daemon {
	t.Helper()
	d := Prepare("", version)
	d.TLS = tlsConfig
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// Start listens on the socket (or, without one, on a loopback TCP port).
func (d *Daemon) Start() error {
	var ln net.Listener
	var err error
	if d.Sock != "" {
		ln, err = net.Listen("unix", d.Sock)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	return d.Serve(ln)
}

// Serve serves on ln (any listener: tests bind their own addresses).
func (d *Daemon) Serve(ln net.Listener) error {
	if d.Sock == "" {
		d.Addr = ln.Addr().String()
	}
	d.srv = httptest.NewUnstartedServer(http.HandlerFunc(d.serve))
	d.srv.Listener = ln
	// Handshake failures are what TLS tests provoke: not worth a line.
	d.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if d.TLS != nil {
		d.srv.TLS = d.TLS
		d.srv.StartTLS()
		return nil
	}
	d.srv.Start()
	return nil
}

// Close ends every stream and stops the server.
func (d *Daemon) Close() {
	d.once.Do(func() {
		close(d.stop)
		if d.srv != nil {
			d.srv.Close()
		}
	})
}

// Endpoint is the open params value for this daemon.
func (d *Daemon) Endpoint() string {
	if d.Sock == "" {
		return "tcp://" + d.Addr
	}
	return "unix://" + d.Sock
}

// Hook makes h see every request first; when it returns true the request
// is answered. Tests play hostile daemons with it (stalls, trickles,
// hostile error texts). nil removes it.
func (d *Daemon) Hook(h func(w http.ResponseWriter, r *http.Request) bool) {
	d.mu.Lock()
	d.hook = h
	d.mu.Unlock()
}

// Pings is the number of /_ping requests received so far.
func (d *Daemon) Pings() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pings
}

// Refuse makes later events requests answer status with body.
func (d *Daemon) Refuse(status int, body string) {
	d.mu.Lock()
	d.status, d.body = status, body
	d.mu.Unlock()
}

func (d *Daemon) serve(w http.ResponseWriter, r *http.Request) {
	if d.Version != "" {
		w.Header().Set("Api-Version", d.Version)
	}
	if d.Libpod != "" {
		w.Header().Set("Libpod-Api-Version", d.Libpod)
		w.Header().Set("Server", "Libpod/"+d.Libpod+" (linux)")
	}
	events := strings.HasSuffix(r.URL.Path, "/events")
	d.mu.Lock()
	hook := d.hook
	if strings.HasSuffix(r.URL.Path, "/_ping") {
		d.pings++
	}
	idx := -1
	if events { // recorded even when a hook answers it
		d.requests = append(d.requests, r.Clone(r.Context()))
		idx = len(d.requests) - 1
	}
	status, body := d.status, d.body
	d.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	if strings.HasSuffix(r.URL.Path, "/_ping") {
		w.Write([]byte("OK"))
		return
	}
	if !events {
		d.serveObjects(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		w.Write([]byte(body))
		return
	}
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	select {
	case d.conns <- idx:
	default: // nobody waits for connections (soak tests); never block
	}
	for {
		select {
		case l := <-d.lines:
			if _, err := w.Write([]byte(l)); err != nil {
				return
			}
			if len(d.lines) == 0 {
				w.(http.Flusher).Flush()
			}
		case <-d.hangup:
			w.(http.Flusher).Flush()
			return
		case <-d.stop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// SetContainer makes the daemon know container id: its inspect document is
// doc (the /containers/{id}/json answer), and it is listed. "" forgets it.
func (d *Daemon) SetContainer(id, doc string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if doc == "" {
		delete(d.containers, id)
		return
	}
	if _, ok := d.containers[id]; !ok {
		d.order = append([]string{id}, d.order...) // newest first, as Docker lists
	}
	d.containers[id] = doc
}

// SetExec makes GET /exec/{id}/json answer doc.
func (d *Daemon) SetExec(id, doc string) {
	d.mu.Lock()
	d.execs[id] = doc
	d.mu.Unlock()
}

// DelayInspect holds the inspect answers for container id for delay (a
// slow daemon); the request's end cancels the wait.
func (d *Daemon) DelayInspect(id string, delay time.Duration) {
	d.mu.Lock()
	d.delays[id] = delay
	d.mu.Unlock()
}

// Inspections is the number of inspect requests for container id so far.
func (d *Daemon) Inspections(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inspects[id]
}

// Lists is the number of container list requests so far.
func (d *Daemon) Lists() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lists
}

// serveObjects answers container list and inspect, exec inspect, and 404
// for anything else (images: no digest).
func (d *Daemon) serveObjects(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "v") {
		parts = parts[1:]
	}
	d.mu.Lock()
	var doc string
	var found bool
	var delay time.Duration
	switch {
	case len(parts) == 2 && parts[0] == "containers" && parts[1] == "json":
		d.lists++
		var b strings.Builder
		b.WriteByte('[')
		for i, id := range d.order {
			if _, ok := d.containers[id]; !ok {
				continue
			}
			if i > 0 && b.Len() > 1 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"Id":%q}`, id)
		}
		b.WriteByte(']')
		doc, found = b.String(), true
	case len(parts) == 3 && parts[0] == "containers" && parts[2] == "json":
		d.inspects[parts[1]]++
		doc, found = d.containers[parts[1]]
		delay = d.delays[parts[1]]
	case len(parts) == 3 && parts[0] == "exec" && parts[2] == "json":
		doc, found = d.execs[parts[1]]
	}
	d.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-d.stop:
			return
		}
	}
	if !found {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"No such object"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(doc))
}

// Request returns the i-th events request.
func (d *Daemon) Request(i int) *http.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests[i]
}

// Requests is the number of events requests received so far.
func (d *Daemon) Requests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.requests)
}

// WaitConn waits for the next accepted events stream and returns its
// request index.
func (d *Daemon) WaitConn(t testing.TB) int {
	t.Helper()
	select {
	case i := <-d.conns:
		return i
	case <-time.After(10 * time.Second):
		t.Fatal("the live source did not connect to the fake daemon")
		return -1
	}
}

// Send streams lines (each gets its "\n") to the current connection.
func (d *Daemon) Send(lines ...string) {
	for _, l := range lines {
		d.lines <- l + "\n"
	}
}

// Hangup ends the current stream (as a daemon restart would).
func (d *Daemon) Hangup() { d.hangup <- struct{}{} }

// Batch is a source.Batch in Go memory. Sources reuse the bytes they
// pass to Add, so it copies them.
type Batch struct {
	Max    int // Cap
	Events [][]byte
	TS     []uint64
}

func (b *Batch) Cap() int { return b.Max }
func (b *Batch) Len() int { return len(b.Events) }
func (b *Batch) Add(data []byte, ts uint64) {
	b.Events = append(b.Events, bytes.Clone(data))
	b.TS = append(b.TS, ts)
}

// Log is a source.Logger that keeps the lines (the live reader goroutine
// logs at any time, so tests must not log through testing.T from it).
type Log struct {
	mu    sync.Mutex
	lines []string
}

func (l *Log) add(level, f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, level+": "+fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *Log) Errorf(f string, a ...any) { l.add("error", f, a...) }
func (l *Log) Warnf(f string, a ...any)  { l.add("warning", f, a...) }
func (l *Log) Infof(f string, a ...any)  { l.add("info", f, a...) }
func (l *Log) Debugf(f string, a ...any) { l.add("debug", f, a...) }

// String is every line so far, one per line.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
