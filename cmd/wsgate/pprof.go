package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/wsgate/wsgate/internal/tlsconf"
)

// pprofProfiles are the runtime's named profiles served under
// /debug/pprof/NAME.
var pprofProfiles = []string{"heap", "goroutine", "allocs", "block", "mutex", "threadcreate"}

// checkPprofAddr refuses a profiling address reachable from other hosts
// unless allowRemote: profiles expose memory contents and the command line.
// An empty host (":6060") listens on every interface, so it counts as
// remote.
func checkPprofAddr(addr string, allowRemote bool) error {
	if addr == "" || allowRemote {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr %q: %w", addr, err)
	}
	if !tlsconf.IsLoopbackHost(host) {
		return fmt.Errorf("--pprof-addr %q is not a loopback address (127.0.0.1, ::1, localhost); profiles expose memory contents, add --pprof-allow-remote to serve them to other hosts anyway", addr)
	}
	return nil
}

// listenPprof binds the profiling listener (nil when addr is empty), after
// checkPprofAddr. The bound address is checked again, since "localhost"
// is whatever the resolver says it is.
func listenPprof(addr string, allowRemote bool) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	if err := checkPprofAddr(addr, allowRemote); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen pprof %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !allowRemote && !tcp.IP.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("--pprof-addr %q bound %s, which is not a loopback address; add --pprof-allow-remote to allow it", addr, tcp)
	}
	return ln, nil
}

// pprofHandler serves net/http/pprof on a mux of its own: the package's
// init also registers on http.DefaultServeMux, which nothing here serves.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	for _, name := range pprofProfiles {
		mux.Handle("/debug/pprof/"+name, pprof.Handler(name))
	}
	return mux
}

// servePprof serves profiles on ln until stop is closed, then closes the
// server and its connections (a running CPU profile or trace is cut short:
// it must not hold up the gateway's shutdown). The returned channel is
// closed once the server has stopped.
func servePprof(ln net.Listener, stop <-chan struct{}, allowRemote bool, log *slog.Logger) <-chan struct{} {
	log = log.With("part", "pprof")
	srv := &http.Server{
		Handler:           pprofHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: /debug/pprof/profile and /trace take ?seconds=N.
		IdleTimeout: time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); allowRemote && (!ok || !tcp.IP.IsLoopback()) {
		log.Warn("pprof is served beyond loopback: anyone who can reach this address can read memory profiles", "addr", ln.Addr().String())
	}
	log.Info("pprof listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server stopped", "err", err)
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-stop
		_ = srv.Close()
		<-served
	}()
	return done
}
