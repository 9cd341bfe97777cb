package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/p2psandbox/hub/platform/httpserver"
)

// servePprof serves net/http/pprof on its own listener (http.pprof_addr), never on the public
// port: profiles show internals and cost CPU while they run.
func (a *app) servePprof(ctx context.Context) (func() error, error) {
	ln, err := net.Listen("tcp", a.cfg.HTTP.PprofAddr)
	if err != nil {
		return nil, fmt.Errorf("listening for pprof on %s: %w", a.cfg.HTTP.PprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	a.log.Info("pprof listening", "addr", ln.Addr().String())
	return func() error { return httpserver.Serve(ctx, srv, ln, time.Second) }, nil
}
