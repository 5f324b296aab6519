package dockertest

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Proxy forwards connections from a unix socket the test owns to the
// local daemon, so a test can cut a plugin's connection to the real daemon
// and restore it while the daemon itself keeps running.
//
// Cut closes the listener (which removes the socket file) and every
// forwarded connection: the plugin's stream ends and its reconnections fail
// as they would while a daemon restarts. Restore listens again at the same
// path.
type Proxy struct {
	path          string
	network, addr string // the daemon's

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{}
	accepted int
	wg       sync.WaitGroup
}

// NewProxy starts a proxy to the system daemon (see NewProxyTo).
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	return NewProxyTo(t, System(t))
}

// NewProxyTo starts a proxy to engine e (the system daemon: the one
// DOCKER_HOST names, default /var/run/docker.sock) and closes it when the
// test ends. Only a unix socket or plaintext tcp:// daemon can be proxied:
// through a proxy, TLS would verify the proxy's address against the
// daemon's certificate.
func NewProxyTo(t testing.TB, e *Engine) *Proxy {
	t.Helper()
	p := &Proxy{network: "unix", addr: "/var/run/docker.sock", conns: map[net.Conn]struct{}{}}
	h := e.host
	if h == "" {
		h = os.Getenv("DOCKER_HOST")
	}
	switch {
	case h == "":
	case strings.HasPrefix(h, "unix://"):
		p.addr = strings.TrimPrefix(h, "unix://")
	case strings.HasPrefix(h, "tcp://") && os.Getenv("DOCKER_TLS_VERIFY") == "":
		p.network, p.addr = "tcp", strings.TrimPrefix(h, "tcp://")
	default:
		unavailable(t, "DOCKER_HOST=%s cannot be proxied (unix:// or plaintext tcp:// only)", h)
	}
	dir, err := os.MkdirTemp("", "fdp-proxy-")
	if err != nil {
		t.Fatal(err)
	}
	p.path = filepath.Join(dir, "docker.sock")
	t.Cleanup(func() {
		p.Cut()
		p.wg.Wait()
		os.RemoveAll(dir)
	})
	p.Restore(t)
	return p
}

// Endpoint is the proxy's address as plugin open params.
func (p *Proxy) Endpoint() string { return "unix://" + p.path }

// Accepted is the number of connections the proxy has accepted.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Cut closes the listener and every open connection. Connecting to
// Endpoint fails until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore listens again.
func (p *Proxy) Restore(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		t.Fatalf("proxy %s is not cut", p.path)
	}
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Cut
		}
		up, err := net.Dial(p.network, p.addr)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // cut meanwhile
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.accepted++
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies one direction; when either side ends, both close.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
	dst.Close()
	src.Close()
}
