package source

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"

	"github.com/falco-docker/docker-plugin/internal/container"
	"github.com/falco-docker/docker-plugin/internal/escape"
	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/logging"
)

// API versions the live source speaks. The version actually used is
// negotiated per connection: the daemon's (from /_ping) capped at
// MaxAPIVersion, so the plugin talks to Debian 12's engine (1.41) as well
// as to Docker 29 (1.44 to 1.52) — the registry plugin pinned 1.43 and
// could talk to neither. DOCKER_API_VERSION, Docker's own convention, pins
// it instead.
const (
	MinAPIVersion = "1.41"
	MaxAPIVersion = "1.52"
)

// Timeouts of one connection attempt. The event stream itself has none: it
// is idle for as long as the daemon has nothing to say.
const (
	pingTimeout = 10 * time.Second
	// fastOpenTimeout bounds plugin_open with failFast.
	fastOpenTimeout = 5 * time.Second
	// resumeWindow is how far before the newest event read a reconnection
	// asks the daemon to start again (since=). Podman parses since as a
	// float64 (about 240 ns of resolution today), and its events arrive
	// 80-360 ms after their timestamp and not in timestamp order (a pull
	// stamped before the create that caused it): resuming exactly at the
	// newest timestamp could skip an event a few hundred ns after it, or
	// one stamped before it and not yet read. What the daemon replays from
	// the window that was already delivered is dropped (seenSet).
	resumeWindow = 2 * time.Second
	// seenMax bounds the events remembered for deduplication (the Docker
	// daemon itself keeps only its last 256 events to replay).
	seenMax = 4096
	// maxDaemonText bounds what the plugin quotes of text the daemon
	// chose (error messages, status lines) in a log line or last error;
	// the text is escaped too (package escape).
	maxDaemonText = 512
	// maxErrorBody is how much of a non-200 answer is read for its message.
	maxErrorBody = 64 << 10
)

// Live is the live source: the daemon's GET /events stream, read by its
// own goroutine into a bounded queue that plugin_next_batch drains. The
// daemon drops a subscriber that stops reading for about 100 ms, so the
// reader never waits for Falco: a full queue drops (and counts) events.
//
// On a stream end or error the reader reconnects with jittered exponential
// backoff and asks for since=<timeNano of the newest event it read>, so the
// events the daemon published meanwhile (its in-memory buffer holds the
// last 256) are delivered; the overlap at that exact timestamp is dropped
// as duplicates. Live never returns ErrEOF.
type Live struct {
	env      Env
	endpoint string // as the operator named it (or DOCKER_HOST / default)
	opts     []client.Opt
	useTLS   bool
	pinned   bool   // DOCKER_API_VERSION is set: no negotiation
	filters  string // Engine API filters JSON, "" for none
	// podmanFilters is filters in Podman's vocabulary, sent when the
	// daemon is Podman (its Docker-compatible endpoint filters on its own
	// verbs: event=die matches nothing there, event=died the deaths).
	podmanFilters string

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// Queue, shared with the reader.
	mu       sync.Mutex
	q        eventQueue
	dropping bool   // inside a run of drops (log once per run)
	dropRun  uint64 // events dropped in the current run
	wake     *waiter

	status    atomic.Pointer[string]
	delivered uint64 // events handed out (Falco's thread only)

	// Malformed and oversize messages are logged first in full, then as
	// counts (a hostile daemon must not flood the log).
	malformedLog, oversizeLog *logging.Repeats

	// enr adds the security context of their container to events
	// (containerContext); nil when it is off. The reader hands it every
	// event; it delivers them to push in the same order.
	enr *container.Enricher

	// Reader-owned.
	opened  time.Time
	maxTS   uint64        // newest timestamp read
	seen    seenSet       // events read within resumeWindow of maxTS
	seed    maphash.Seed  //
	rbuf    *bufio.Reader //
	failing bool          // the last attempt failed; clear the last error on success
}

// LiveTarget is an endpoint resolved the way Docker's own tools resolve it.
type LiveTarget struct {
	// Host is the daemon URL: unix:///path or tcp://host:port (the scheme
	// in lower case, whatever the operator wrote).
	Host string
	// TLS is true when DOCKER_CERT_PATH (or DOCKER_TLS_VERIFY with the
	// default ~/.docker) supplies TLS material.
	TLS bool
	// CertPath is the directory of ca.pem, cert.pem and key.pem.
	CertPath string
	// Verify is DOCKER_TLS_VERIFY: verify the daemon's certificate.
	Verify bool
	// LoopbackOnly: a tcp:// endpoint without verified TLS, accepted
	// because it names a loopback address; the connection must really
	// reach one (see loopbackOnly).
	LoopbackOnly bool
	// Warning, when set, is logged at open: the connection is not
	// authenticated (TLS without verification, or plaintext TCP to a
	// non-loopback address under allowInsecureTcp).
	Warning string
}

// ResolveLive applies Docker's environment conventions to an open params
// value: empty means DOCKER_HOST, else unix:///var/run/docker.sock.
// Secrets (TLS keys) come only from the files the environment names. The
// result is validated: only unix:// and tcp:// endpoints. TLS counts as
// secure only with verification (DOCKER_TLS_VERIFY): plaintext and
// unverified TLS tcp:// endpoints are refused for a non-loopback address
// unless allowInsecure, and warned about whenever verification is off.
func ResolveLive(params string, getenv func(string) string, allowInsecure bool) (LiveTarget, error) {
	var t LiveTarget
	host := strings.TrimSpace(params)
	origin := "open params"
	if host == "" {
		host = getenv(client.EnvOverrideHost)
		origin = "DOCKER_HOST"
	}
	if host == "" {
		host = client.DefaultDockerHost
		origin = "default"
	}
	// Every message shows the endpoint shortened and without the user part:
	// a URL with credentials is refused, and must not leak them doing so.
	proto, addr, ok := strings.Cut(host, "://")
	shown := shorten(host)
	if !strings.EqualFold(proto, "unix") { // unix://@name is an abstract socket, not a user
		shown = displayURI(host)
	}
	if !ok || addr == "" {
		return t, fmt.Errorf("docker endpoint %q (%s): expected unix:///path.sock or tcp://host:port", shown, origin)
	}
	// Schemes are case-insensitive here, but not in the docker client: a
	// "TCP://127.0.0.1:P" once passed the loopback check and then sent the
	// events request to http://api.moby.localhost/ (through a proxy or a
	// DNS search domain: another host's events).
	proto = strings.ToLower(proto)
	host = proto + "://" + addr
	t.Host = host

	t.CertPath = getenv(client.EnvOverrideCertPath)
	t.Verify = getenv(client.EnvTLSVerify) != ""
	if t.CertPath == "" && t.Verify {
		// The docker CLI's default when only DOCKER_TLS_VERIFY is set. The
		// operator asked for verified TLS: without a directory, fail
		// rather than fall back to plaintext.
		home := getenv("HOME")
		if home == "" {
			return t, fmt.Errorf("docker endpoint %s (%s): DOCKER_TLS_VERIFY is set but no certificate directory is: set DOCKER_CERT_PATH (the default, $HOME/.docker, needs HOME, which is not set)", shown, origin)
		}
		t.CertPath = filepath.Join(home, ".docker")
	}
	t.TLS = t.CertPath != ""

	switch proto {
	case "unix":
		if !strings.HasPrefix(addr, "/") {
			return t, fmt.Errorf("docker endpoint %q (%s): unix socket path must be absolute (unix:///var/run/docker.sock)", shown, origin)
		}
		if strings.ContainsRune(addr, 0) {
			return t, fmt.Errorf("docker endpoint %q (%s): path contains a NUL byte", shown, origin)
		}
	case "tcp":
		u, err := url.Parse("tcp://" + addr)
		if err != nil {
			return t, fmt.Errorf("docker endpoint %q (%s): malformed: %s", shown, origin, urlReason(err, host))
		}
		if u.Hostname() == "" || u.Port() == "" {
			return t, fmt.Errorf("docker endpoint %q (%s): expected tcp://host:port", shown, origin)
		}
		if u.User != nil {
			return t, fmt.Errorf("docker endpoint %q (%s): credentials in the URL are not accepted; use TLS client certificates (DOCKER_CERT_PATH)", shown, origin)
		}
		if t.TLS && t.Verify {
			break
		}
		// Plaintext, or TLS without verifying the daemon's certificate
		// (DOCKER_CERT_PATH without DOCKER_TLS_VERIFY): anyone on the path
		// can read and forge the stream, so loopback only, unless allowed.
		what := "plaintext TCP"
		if t.TLS {
			what = "TLS without verifying the daemon's certificate (DOCKER_CERT_PATH is set, DOCKER_TLS_VERIFY is not)"
			t.Warning = fmt.Sprintf("docker endpoint %s: %s: anyone on the path can impersonate the daemon; set DOCKER_TLS_VERIFY=1", shown, what)
		}
		switch {
		case allowInsecure:
			if !isLoopback(u.Hostname()) && !t.TLS {
				t.Warning = fmt.Sprintf("docker endpoint %s: plaintext TCP to a non-loopback address (allowInsecureTcp): anyone on the path can read and forge events", shown)
			}
		case isLoopback(u.Hostname()):
			t.LoopbackOnly = true
		default:
			return t, fmt.Errorf("docker endpoint %s (%s): refusing %s to a non-loopback address (anyone on the path could read and forge events); set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for verified TLS, or init config allowInsecureTcp: true", shown, origin, what)
		}
	case "ssh":
		return t, fmt.Errorf("docker endpoint %q (%s): ssh:// needs the docker CLI's connection helper, which a plugin cannot run; forward the socket (ssh -L /tmp/docker.sock:/var/run/docker.sock) and use unix:///tmp/docker.sock", shown, origin)
	default:
		return t, fmt.Errorf("docker endpoint %q (%s): unsupported scheme %q (expected unix or tcp)", shown, origin, shorten(proto))
	}
	return t, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientOpts builds the docker client options for t: host, TLS from the
// environment-named files (loaded here, so that a bad TLS setup fails at
// open with a clear error), API version from DOCKER_API_VERSION.
func (t LiveTarget) clientOpts(getenv func(string) string) []client.Opt {
	opts := []client.Opt{client.WithHost(t.Host)}
	if t.TLS {
		opts = []client.Opt{tlsOpt(t), client.WithHost(t.Host)}
	}
	if t.LoopbackOnly {
		opts = append(opts, withLoopbackOnly())
	}
	if v := getenv(client.EnvOverrideAPIVersion); v != "" {
		opts = append(opts, client.WithVersion(v))
	}
	return opts
}

// tlsOpt loads ca.pem, cert.pem and key.pem from t.CertPath. Errors name
// the files, never their contents.
func tlsOpt(t LiveTarget) client.Opt {
	return func(c *client.Client) error {
		ca := filepath.Join(t.CertPath, "ca.pem")
		cert := filepath.Join(t.CertPath, "cert.pem")
		key := filepath.Join(t.CertPath, "key.pem")
		for _, f := range []string{ca, cert, key} {
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("TLS (DOCKER_CERT_PATH=%s): %s: %v", t.CertPath, filepath.Base(f), errors.Unwrap(err))
			}
		}
		if err := client.WithTLSClientConfig(ca, cert, key)(c); err != nil {
			return fmt.Errorf("TLS (DOCKER_CERT_PATH=%s): cannot load ca.pem/cert.pem/key.pem: %s", t.CertPath, sanitizeTLSError(err))
		}
		if !t.Verify {
			if hc := c.HTTPClient(); hc != nil {
				if tr, ok := hc.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
					tr.TLSClientConfig.InsecureSkipVerify = true
				}
			}
		}
		return nil
	}
}

// sanitizeTLSError keeps the first line of a TLS loading error and cuts
// anything that looks like PEM or base64 key material, so that no log,
// error or metric ever echoes a secret.
func sanitizeTLSError(err error) string {
	s := err.Error()
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "-----"); i >= 0 {
		s = s[:i] + "[redacted]"
	}
	// Long unbroken base64-ish runs are key material, not prose.
	fields := strings.Fields(s)
	for i, f := range fields {
		if len(f) > 40 && !strings.ContainsAny(f, "/.:") {
			fields[i] = "[redacted]"
		}
	}
	return strings.Join(fields, " ")
}

// openLive opens the live daemon source named by params.
func openLive(params string, env Env) (Source, error) {
	return OpenLive(params, env, os.Getenv)
}

// OpenLive resolves params with getenv (Docker's conventions), builds the
// docker client (TLS files are loaded now), and starts the reader. With
// failFast, the daemon must answer a ping within a few seconds; otherwise
// an unreachable daemon is retried in the background.
func OpenLive(params string, env Env, getenv func(string) string) (*Live, error) {
	t, err := ResolveLive(params, getenv, env.Config.AllowInsecureTCP)
	if err != nil {
		return nil, err
	}
	l := &Live{
		env:      env,
		endpoint: t.Host,
		opts:     t.clientOpts(getenv),
		useTLS:   t.TLS,
		pinned:   getenv(client.EnvOverrideAPIVersion) != "",
		done:     make(chan struct{}),
		seed:     maphash.MakeSeed(),
		opened:   time.Now(),
	}
	if len(env.Config.Filters) > 0 {
		if l.filters, err = filtersJSON(env.Config.Filters, nil); err != nil {
			return nil, fmt.Errorf("docker events filters: %w", err)
		}
		if l.podmanFilters, err = filtersJSON(env.Config.Filters, podmanEventNames); err != nil {
			return nil, fmt.Errorf("docker events filters: %w", err)
		}
	}
	// Build one client now: a bad host or TLS setup fails plugin_open.
	cli, err := client.NewClientWithOpts(l.opts...)
	if err != nil {
		return nil, fmt.Errorf("docker endpoint %s: %w", l.endpoint, err)
	}
	if t.Warning != "" {
		env.Log.Warnf("%s", t.Warning)
	}
	l.malformedLog = logging.NewRepeats(env.Log.Warnf, fmt.Sprintf("docker daemon %s: messages that are not JSON objects, skipped", l.endpoint), logging.DefaultEvery)
	l.oversizeLog = logging.NewRepeats(env.Log.Warnf, fmt.Sprintf("docker daemon %s: events larger than maxEventSize %d, dropped", l.endpoint, env.Config.MaxEventSize), logging.DefaultEvery)
	if env.Config.FailFast {
		ctx, cancel := context.WithTimeout(context.Background(), fastOpenTimeout)
		_, perr := cli.Ping(ctx)
		cancel()
		if perr != nil {
			cli.Close()
			return nil, fmt.Errorf("docker daemon %s is not reachable (failFast is set): %s", l.endpoint, escape.Capped(perr.Error(), maxDaemonText))
		}
	}
	cli.Close()

	if l.wake, err = newWaiter(); err != nil {
		return nil, fmt.Errorf("live source: %w", err)
	}
	l.q = newEventQueue(env.Config.QueueSize)
	l.rbuf = bufio.NewReaderSize(nil, max(64<<10, env.Config.MaxEventSize+2))
	if env.Config.ContainerContext {
		l.enr = container.New(container.Config{
			Timeout:      time.Duration(env.Config.InspectTimeoutMs) * time.Millisecond,
			Concurrency:  env.Config.InspectConcurrency,
			CacheSize:    env.Config.ContainerCacheSize,
			MaxEventSize: env.Config.MaxEventSize,
			MaxPending:   env.Config.QueueSize,
		}, env.Counters, env.Log, l.push)
	}
	l.setStatus("connecting to " + l.endpoint)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run()
	return l, nil
}

func (l *Live) setStatus(s string) { l.status.Store(&s) }

// run is the reader goroutine: connect, stream, and on any end reconnect
// with backoff until Close.
func (l *Live) run() {
	defer close(l.done)
	cfg := l.env.Config
	minB := time.Duration(cfg.ReconnectMinMs) * time.Millisecond
	maxB := time.Duration(cfg.ReconnectMaxMs) * time.Millisecond
	backoff := minB
	connections := 0
	for {
		connected, err := l.stream(connections)
		l.malformedLog.Flush()
		l.oversizeLog.Flush()
		if l.ctx.Err() != nil {
			return
		}
		if connected {
			connections++
			backoff = minB
		}
		l.env.Counters.ConnectErrors.Add(1)
		// Full jitter in [backoff/2, backoff]: many Falcos restarted with
		// one daemon do not reconnect in lockstep.
		delay := backoff/2 + rand.N(backoff/2+1)
		if backoff < maxB {
			backoff = min(backoff*2, maxB)
		}
		// The reason may quote the daemon (an error body, a status line):
		// escaped and capped, it can neither forge log lines nor be huge.
		msg := fmt.Sprintf("docker daemon %s: %s; reconnecting in %s", l.endpoint, escape.Capped(err.Error(), 2*maxDaemonText), delay.Round(time.Millisecond))
		l.setStatus("disconnected: " + msg)
		l.env.Log.Warnf("%s", msg)
		l.failing = true
		if l.env.SetLastError != nil {
			l.env.SetLastError(errors.New(msg))
		}
		t := time.NewTimer(delay)
		select {
		case <-l.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stream makes one connection and reads it to its end. connected reports
// whether the daemon accepted the events request.
func (l *Live) stream(previous int) (connected bool, err error) {
	cli, err := client.NewClientWithOpts(l.opts...)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(l.ctx, pingTimeout)
	ping, err := l.ping(pctx, cli)
	cancel()
	if err != nil {
		return false, fmt.Errorf("ping: %w", err)
	}
	version := negotiate(ping.apiVersion, cli.ClientVersion(), l.pinned)
	engine := "Docker Engine"
	if ping.podman != "" {
		engine = "Podman " + ping.podman
	}

	q := url.Values{}
	if f := l.filters; f != "" {
		if ping.podman != "" {
			f = l.podmanFilters
		}
		q.Set("filters", f)
	}
	since := uint64(l.opened.UnixNano())
	if l.maxTS != 0 {
		// Resume a little before the newest event read (see
		// resumeWindow); the overlap is dropped as duplicates.
		since = max(l.maxTS, uint64(resumeWindow)+1) - uint64(resumeWindow)
	}
	// Nothing read yet: deliver what happened since plugin_open (Falco
	// often starts before the daemon).
	q.Set("since", formatSince(since))

	u := l.apiURL(cli.DaemonHost(), version, "/events", q)
	sctx, stop := context.WithCancelCause(l.ctx) // the watchdog ends a stalled stream
	defer stop(nil)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("events request: %w", err)
	}
	req.Header.Set("User-Agent", "falco-docker-plugin")
	resp, err := cli.HTTPClient().Do(req)
	if err != nil {
		return false, fmt.Errorf("events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("events: %s", daemonError(resp))
	}
	if previous > 0 {
		l.env.Counters.Reconnects.Add(1)
		l.env.Log.Warnf("docker daemon %s: reconnected (%s, API %s), resuming since %s", l.endpoint, engine, version, event.FormatNano(since))
	} else {
		l.env.Log.Infof("docker daemon %s: connected (%s, API %s)", l.endpoint, engine, version)
	}
	l.setStatus(fmt.Sprintf("connected to %s (%s, API %s)", l.endpoint, engine, version))
	if l.failing && l.env.SetLastError != nil {
		l.env.SetLastError(nil)
	}
	l.failing = false
	if l.enr != nil {
		if err := l.startInspector(version, ping.podman != ""); err != nil {
			l.env.Log.Warnf("docker daemon %s: container context: %v; events go without it", l.endpoint, err)
		}
	}
	return true, l.readWatched(sctx, stop, cli, resp.Body)
}

// startInspector gives the enricher an inspector for this connection: a
// docker client speaking the negotiated version (Podman's compatible API
// takes any /vX.Y prefix), whose answers are bounded, and inspects the
// containers that exist now (in the background: the stream is read at once).
func (l *Live) startInspector(version string, podman bool) error {
	icli, err := client.NewClientWithOpts(append(append([]client.Opt(nil), l.opts...), client.WithVersion(version), container.ClientOpt())...)
	if err != nil {
		return err
	}
	get := func(ctx context.Context, path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.apiURL(icli.DaemonHost(), version, path, nil), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", "falco-docker-plugin")
		return icli.HTTPClient().Do(req)
	}
	l.enr.SetInspector(container.NewDocker(icli, podman, get))
	l.enr.StartResync()
	return nil
}

// negotiate picks the API version: DOCKER_API_VERSION when set (the
// client's version then is that), else the daemon's, capped at
// MaxAPIVersion. A daemon that does not say is assumed to be MinAPIVersion.
func negotiate(daemon, clientVersion string, pinned bool) string {
	if pinned {
		return strings.TrimPrefix(clientVersion, "v")
	}
	if daemon == "" {
		return MinAPIVersion
	}
	if versions.LessThan(MaxAPIVersion, daemon) {
		return MaxAPIVersion
	}
	return daemon
}

// pingResult is what /_ping tells of the daemon.
type pingResult struct {
	apiVersion string // Api-Version
	podman     string // Libpod-Api-Version: Podman's version, "" for Docker
}

// ping asks the daemon's /_ping (unversioned) for its API version and
// whether it is Podman (the docker client's Ping does not expose Podman's
// header).
func (l *Live) ping(ctx context.Context, cli *client.Client) (pingResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.apiURL(cli.DaemonHost(), "", "/_ping", nil), nil)
	if err != nil {
		return pingResult{}, err
	}
	req.Header.Set("User-Agent", "falco-docker-plugin")
	resp, err := cli.HTTPClient().Do(req)
	if err != nil {
		return pingResult{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The reason as the daemon (or a TLS server answering plain
		// HTTP) gave it, escaped and capped.
		return pingResult{}, errors.New(daemonError(resp))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return pingResult{apiVersion: resp.Header.Get("Api-Version"), podman: resp.Header.Get("Libpod-Api-Version")}, nil
}

// apiURL is the URL of path (under /v<version> unless version is "").
func (l *Live) apiURL(daemonHost, version, path string, q url.Values) string {
	if version != "" {
		path = "/v" + version + path
	}
	u := &url.URL{Scheme: "http", Path: path, RawQuery: q.Encode()}
	if l.useTLS {
		u.Scheme = "https"
	}
	hu, err := client.ParseHostURL(daemonHost)
	if err == nil && hu.Scheme == "tcp" {
		u.Host = hu.Host
		u.Path = strings.TrimSuffix(hu.Path, "/") + u.Path
	} else {
		// The transport dials the socket whatever the URL's host is.
		u.Host = client.DummyHost
	}
	return u.String()
}

// daemonError renders a non-200 answer: the status and the daemon's
// {"message": ...}, or the first line of a text body (a TLS server asked in
// plain HTTP answers "Client sent an HTTP request to an HTTPS server."). All
// of it is the daemon's words: escaped and capped (maxDaemonText).
func daemonError(resp *http.Response) string {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	status := escape.Capped(resp.Status, 64)
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return fmt.Sprintf("%s: %s", status, escape.Capped(m.Message, maxDaemonText))
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") || ct == "" {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		if line = strings.TrimSpace(line); line != "" {
			return fmt.Sprintf("%s: %s", status, escape.Capped(line, maxDaemonText))
		}
	}
	return status
}

func formatSince(ns uint64) string {
	return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9)
}

// read consumes one stream: one JSON message per line (the daemon's
// encoder terminates each with "\n"), telling p (the watchdog) how far it
// got.
func (l *Live) read(body io.Reader, p *progress) error {
	br := l.rbuf
	br.Reset(body)
	maxSize := l.env.Config.MaxEventSize
	skipping := false
	for {
		line, err := br.ReadSlice('\n')
		p.consumed.Add(uint64(len(line)))
		if err == nil {
			p.lines.Add(1)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if !skipping {
				l.env.Counters.Received.Add(1)
				l.env.Counters.Oversize.Add(1)
				l.oversizeLog.Logf("docker daemon %s: event larger than maxEventSize %d, dropped", l.endpoint, maxSize)
			}
			skipping = true
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("event stream closed by the daemon")
			}
			return fmt.Errorf("event stream: %w", err)
		}
		if skipping {
			skipping = false
			continue
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		l.accept(line, maxSize)
		l.malformedLog.FlushDue()
		l.oversizeLog.FlushDue()
	}
}

// accept validates, deduplicates and queues one message.
func (l *Live) accept(line []byte, maxSize int) {
	c := l.env.Counters
	c.Received.Add(1)
	if len(line) > maxSize {
		c.Oversize.Add(1)
		l.oversizeLog.Logf("docker daemon %s: %d-byte event is larger than maxEventSize %d, dropped", l.endpoint, len(line), maxSize)
		return
	}
	ts, hasTS, valid := event.Probe(line)
	if !valid {
		c.Malformed.Add(1)
		l.malformedLog.Logf("docker daemon %s: message is not a JSON object, skipped", l.endpoint)
		return
	}
	if !hasTS {
		ts = uint64(time.Now().UnixNano())
	}
	h := maphash.Bytes(l.seed, line)
	if l.seen.contains(ts, h) {
		c.Duplicates.Add(1)
		return
	}
	l.maxTS = max(l.maxTS, ts)
	l.seen.add(ts, h, l.maxTS)
	if l.enr != nil {
		l.enr.Add(line, ts) // never waits for an inspection
		return
	}
	l.push(line, ts)
}

// push queues a copy of line; a full queue drops it (counted, logged once
// per run of drops). Never blocks on Falco. The reader calls it, or, with
// containerContext, the enricher (in the daemon's order).
func (l *Live) push(line []byte, ts uint64) {
	l.mu.Lock()
	if !l.q.put(line, ts) {
		l.env.Counters.Dropped.Add(1)
		l.dropRun++
		first := !l.dropping
		l.dropping = true
		l.mu.Unlock()
		if first {
			l.env.Log.Warnf("docker daemon %s: event queue full (queueSize %d, %d MiB): dropping events until Falco catches up", l.endpoint, len(l.q.slots), queueByteBudget>>20)
		}
		return
	}
	if l.q.n == 1 {
		l.wake.set()
	}
	var recovered uint64
	if l.dropping {
		recovered, l.dropping, l.dropRun = l.dropRun, false, 0
	}
	l.mu.Unlock()
	if recovered > 0 {
		l.env.Log.Warnf("docker daemon %s: event queue has room again; %d events were dropped", l.endpoint, recovered)
	}
}

// Next implements Source: drain the queue into b; with nothing queued,
// wait up to wait for the reader. Never ErrEOF.
func (l *Live) Next(b Batch, wait time.Duration) error {
	if l.drain(b) > 0 {
		return nil
	}
	if wait <= 0 {
		return ErrTimeout
	}
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return ErrTimeout
		}
		l.wake.wait(left)
		if l.drain(b) > 0 {
			return nil
		}
	}
}

// ReadyFD is a descriptor that polls readable (POLLIN) exactly while events
// are queued, or -1 where there is none; valid until Close. The plugin's C
// entry point waits on it, so that an idle next_batch never enters Go.
func (l *Live) ReadyFD() int { return l.wake.pollFD() }

func (l *Live) drain(b Batch) int {
	l.mu.Lock()
	k := l.q.drain(b)
	if k > 0 && l.q.n == 0 {
		l.wake.clear()
	}
	l.mu.Unlock()
	l.delivered += uint64(k)
	return k
}

// Progress implements Source: live sources have no end, so 0, with the
// connection state.
func (l *Live) Progress() (float64, string) {
	return 0, fmt.Sprintf("%s; %d events", *l.status.Load(), l.delivered)
}

// Close stops the reader (cancelling its request) and waits for it.
func (l *Live) Close() error {
	l.cancel()
	<-l.done
	if l.enr != nil {
		l.enr.Close()
	}
	l.wake.close()
	l.malformedLog.Flush()
	l.oversizeLog.Flush()
	return nil
}

// ListEndpoints returns the local daemon endpoints that exist on this host,
// as open params values: DOCKER_HOST when set, Docker's default socket,
// rootless Docker, and Podman's rootful and rootless sockets.
func ListEndpoints() []Endpoint {
	return listEndpoints(os.Getenv, isSocket)
}

func isSocket(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&os.ModeSocket != 0
}

func listEndpoints(getenv func(string) string, exists func(string) bool) []Endpoint {
	var out []Endpoint
	seen := map[string]bool{}
	add := func(value, desc string) {
		if !seen[value] {
			seen[value] = true
			out = append(out, Endpoint{Value: value, Desc: desc})
		}
	}
	if h := getenv(client.EnvOverrideHost); h != "" {
		if _, err := ResolveLive(h, getenv, true); err == nil {
			add(h, "Docker daemon named by DOCKER_HOST")
		}
	}
	candidates := []struct{ path, desc string }{
		{"/var/run/docker.sock", "Docker Engine (rootful, default socket)"},
	}
	if xdg := getenv("XDG_RUNTIME_DIR"); strings.HasPrefix(xdg, "/") {
		candidates = append(candidates,
			struct{ path, desc string }{filepath.Join(xdg, "docker.sock"), "Docker Engine (rootless)"},
			struct{ path, desc string }{filepath.Join(xdg, "podman", "podman.sock"), "Podman (rootless, Docker-compatible API)"},
		)
	}
	candidates = append(candidates, struct{ path, desc string }{"/run/podman/podman.sock", "Podman (rootful, Docker-compatible API)"})
	for _, c := range candidates {
		if exists(c.path) {
			add("unix://"+c.path, c.desc)
		}
	}
	return out
}
