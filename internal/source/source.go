// Package source produces raw Docker events for plugin_next_batch: replay of
// a recorded .jsonl file (offline) and the daemon's /events stream (live).
//
// A source writes into a Batch (abi/'s preallocated C buffers): the payload is
// the message's bytes as written or received, never a re-encoding, and the
// timestamp is the message's timeNano. Sources never block plugin_next_batch
// for longer than the wait they are given.
package source

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/metrics"
)

// ErrTimeout: nothing (more) is available within the wait. Events already
// added to the batch are delivered with it.
var ErrTimeout = errors.New("timeout")

// ErrEOF: the source is exhausted; it returns ErrEOF with no events on every
// later call. Events already added to the batch are delivered with it.
var ErrEOF = errors.New("eof")

// Batch is where a source writes events.
type Batch interface {
	// Cap is the most events the batch holds.
	Cap() int
	// Len is the number of events added so far.
	Len() int
	// Add copies data (at most the configured maxEventSize bytes; sources
	// drop larger events before calling Add) as the next event, with
	// timestamp ts in nanoseconds since the epoch.
	Add(data []byte, ts uint64)
}

// Source is one open event stream.
type Source interface {
	// Next adds available events to b (which is empty on entry), up to
	// b.Cap(). It waits at most wait for a first event. It returns nil when
	// it added events and may have more, ErrTimeout when nothing was
	// available in time, ErrEOF when the source is exhausted (sticky), or
	// another error when the source failed.
	Next(b Batch, wait time.Duration) error
	// Progress reports how much of the source has been consumed (0..1) and
	// a short human description. Live sources report 0.
	Progress() (float64, string)
	// Close releases the source. It is called exactly once.
	Close() error
}

// Env is what a source needs from the plugin state.
type Env struct {
	Config   config.Config
	Counters *metrics.Counters
	Log      Logger
	// SetLastError publishes a condition the operator should see through
	// plugin_get_last_error although no call failed (e.g. the live source
	// is disconnected and retrying).
	SetLastError func(error)
}

// Endpoint is one open params value plugin_list_open_params suggests.
type Endpoint struct {
	Value, Desc string
}

// Logger is the plugin's leveled logger.
type Logger interface {
	Errorf(format string, args ...any)
	Warnf(format string, args ...any)
	Infof(format string, args ...any)
	Debugf(format string, args ...any)
}

// MaxOpenParamsLen bounds open params; longer strings are refused before
// any parsing.
const MaxOpenParamsLen = 8192

// Open parses params and opens the source they name:
//
//	file:///abs/path/events.jsonl   replay a recorded file (offline)
//	"" | unix:///path.sock | tcp://host:port   the live daemon
func Open(params string, env Env) (Source, error) {
	if len(params) > MaxOpenParamsLen {
		return nil, fmt.Errorf("open params: %d bytes is longer than the %d allowed", len(params), MaxOpenParamsLen)
	}
	p := strings.TrimSpace(params)
	if p == "" {
		return openLive("", env)
	}
	scheme, _, ok := strings.Cut(p, "://")
	if !ok {
		return nil, fmt.Errorf("open params %q: expected file:///abs/path.jsonl, unix:///path.sock or tcp://host:port (or empty for the default daemon)", displayURI(p))
	}
	switch strings.ToLower(scheme) {
	case "file":
		path, err := FilePath(p)
		if err != nil {
			return nil, err
		}
		return OpenReplay(path, env)
	case "unix", "tcp", "http", "https", "ssh", "npipe":
		return openLive(p, env)
	}
	return nil, fmt.Errorf("open params %q: unknown scheme %q (expected file, unix or tcp)", displayURI(p), shorten(scheme))
}

// FilePath extracts the absolute path of a file:// URI (percent-decoding
// applied; host must be empty or localhost; no query or fragment).
func FilePath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("open params %q: malformed URI: %s", displayURI(uri), urlReason(err, uri))
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("open params %q: file URI host must be empty (file:///abs/path), got %q", displayURI(uri), shorten(u.Host))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("open params %q: file URI must not have a query or fragment", displayURI(uri))
	}
	if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("open params %q: file URI needs an absolute path (file:///abs/path.jsonl)", displayURI(uri))
	}
	if strings.ContainsRune(u.Path, 0) {
		return "", fmt.Errorf("open params %q: path contains a NUL byte", displayURI(uri))
	}
	return u.Path, nil
}

// urlReason is why url.Parse refused raw. Its error repeats the whole input,
// which the message around it already shows (shortened, without user
// information); and for a URI with user information even the reason may
// quote a piece of a password, so none is given but that.
func urlReason(err error, raw string) string {
	if redactUser(raw) != raw {
		return "credentials in the URL are not accepted"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// displayURI is a URI as error messages show it: without its user
// information (a password must never reach a log line or a last error) and
// shortened.
func displayURI(uri string) string { return shorten(redactUser(uri)) }

// redactUser replaces the user information of a URI's authority with ***.
// It errs on the side of hiding: a password may hold '/', '?' or '#', which
// end the authority for a URL parser (tcp://admin:pw/x@host:1 has host
// "admin" and port "pw/x..." to url.Parse), so everything up to the last
// '@' after the scheme is redacted, and without a scheme everything up to
// the last '@' (admin:pw@10.0.0.1). File URIs are the exception, as their
// paths often hold '@': only their authority (up to the first '/') is
// looked at, and redacted whole when it holds a ':' (a port or a cut
// password; never valid there anyway).
func redactUser(s string) string {
	j := strings.Index(s, "://")
	if j < 0 {
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			return "***" + s[i:]
		}
		return s
	}
	rest := s[j+3:]
	if strings.EqualFold(s[:j], "file") {
		auth := rest
		if k := strings.IndexByte(rest, '/'); k >= 0 {
			auth = rest[:k]
		}
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			return s[:j+3] + "***" + rest[i:]
		}
		if strings.ContainsRune(auth, ':') {
			return s[:j+3] + "***" + rest[len(auth):]
		}
		return s
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		return s[:j+3] + "***" + rest[i:]
	}
	return s
}

func shorten(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
