package abi

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
)

// stopper stops a background service of a plugin state.
type stopper interface{ Stop() }

var errMetricsAlloc = errors.New("plugin_init: cannot allocate the metrics array")

// maxProfileSeconds caps the duration a profiler request may ask for
// (profile, trace, and delta profiles such as heap?seconds=N).
const maxProfileSeconds = 60

// profiler serves net/http/pprof from the plugin's own Go runtime. A Go
// host's -cpuprofile cannot see inside a c-shared plugin (it has its own
// runtime), so the plugin serves its own profiles.
//
// It has no authentication, so it exposes as little as it can: a unix
// socket of mode 0600 (its owner only), or a loopback port (any local
// user); no /debug/pprof/cmdline (Falco's argv, which can carry secrets
// given with -o); durations capped at maxProfileSeconds (a CPU profile or
// trace costs CPU for as long as it runs).
type profiler struct {
	srv *http.Server
	ln  net.Listener
}

func startProfiler(addr string) (*profiler, error) {
	ln, err := listenProfiler(addr)
	if err != nil {
		return nil, fmt.Errorf("init config: key \"pprofAddr\": %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/pprof/" {
			profilerIndex(w)
			return
		}
		pprof.Index(w, r) // named profiles only: "cmdline" is not one (404)
	})
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &profiler{
		srv: &http.Server{
			Handler:           capSeconds(mux),
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      (maxProfileSeconds + 30) * time.Second,
		},
		ln: ln,
	}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warnf("pprof server on %s: %v", addr, err)
		}
	}()
	logger.Infof("serving pprof on %s (/debug/pprof/)", addr)
	return p, nil
}

// listenProfiler listens on unix:///path (mode 0600; a stale socket left by
// a process that died is replaced) or a loopback host:port.
func listenProfiler(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if err := config.CheckSocketPath(path); err != nil {
			return nil, err
		}
		ln, err := net.Listen("unix", path)
		if errors.Is(err, syscall.EADDRINUSE) && staleSocket(path) {
			os.Remove(path)
			ln, err = net.Listen("unix", path)
		}
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, fmt.Errorf("make %s owner-only: %w", path, err)
		}
		return ln, nil
	}
	if err := config.CheckLoopbackAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("%s did not resolve to a loopback address", addr)
	}
	return ln, nil
}

// staleSocket reports whether path is a socket nobody listens on.
func staleSocket(path string) bool {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 {
		return false
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// capSeconds refuses a "seconds" parameter (as net/http/pprof reads it:
// query or form) that is not a number in (0, maxProfileSeconds].
func capSeconds(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.FormValue("seconds"); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0) || f > maxProfileSeconds {
				http.Error(w, fmt.Sprintf("seconds must be a number greater than 0 and at most %d", maxProfileSeconds), http.StatusBadRequest)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// profilerIndex lists what is served (net/http/pprof's own index links
// cmdline, which is not).
func profilerIndex(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<html><head><title>/debug/pprof/</title></head><body><p>Profiles of the docker plugin's Go runtime (durations at most " + strconv.Itoa(maxProfileSeconds) + " s):</p><ul>\n")
	for _, p := range rpprof.Profiles() {
		n := html.EscapeString(p.Name())
		fmt.Fprintf(&b, "<li><a href=\"%s?debug=1\">%s</a> (%d)</li>\n", n, n, p.Count())
	}
	for _, n := range []string{"profile", "trace", "symbol"} {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", n, n)
	}
	b.WriteString("</ul></body></html>\n")
	w.Write([]byte(b.String()))
}

func (p *profiler) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}
