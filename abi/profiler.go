package abi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
)

// stopper stops a background service of a plugin state.
type stopper interface{ Stop() }

var errMetricsAlloc = errors.New("plugin_init: cannot allocate the metrics array")

// profiler serves net/http/pprof from the plugin's own Go runtime. A Go
// host's -cpuprofile cannot see inside a c-shared plugin (it has its own
// runtime), so the plugin serves its own profiles. Loopback only: profiles
// reveal memory contents.
type profiler struct {
	srv *http.Server
	ln  net.Listener
}

func startProfiler(addr string) (*profiler, error) {
	if err := config.CheckLoopbackAddr(addr); err != nil {
		return nil, fmt.Errorf("init config: key \"pprofAddr\": %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("init config: key \"pprofAddr\": listen %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("init config: key \"pprofAddr\": %s did not resolve to a loopback address", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &profiler{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warnf("pprof server on %s: %v", addr, err)
		}
	}()
	logger.Infof("serving pprof on http://%s/debug/pprof/", ln.Addr())
	return p, nil
}

func (p *profiler) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}
