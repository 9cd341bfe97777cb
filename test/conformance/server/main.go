// Command server is the conformance server: our realtime/sio package configured the way the official
// Engine.IO and Socket.IO protocol test suites expect (their README "Test suite" sections), so that
// scripts/conformance.sh can run those suites against it unchanged.
//
//	/engine.io/  Engine.IO alone; every message is echoed back as it came (text as text, binary as binary)
//	/socket.io/  Socket.IO with the namespaces "/" and "/custom"
//
// It listens on 127.0.0.1:3000 because the suites hard-code http://localhost:3000; PORT overrides
// the port, HOST the address.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/p2psandbox/hub/realtime/sio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "conformance server:", err)
		os.Exit(1)
	}
}

// options are the values both suites assert on (the handshake must announce them, and the heartbeat
// and connect-timeout tests wait for them to expire).
func options(log *slog.Logger) sio.Options {
	return sio.Options{
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		MaxPayload:     1_000_000,
		ConnectTimeout: time.Second,
		CORSOrigins:    []string{"*"},
		Namespaces:     []string{"/custom"},
		Log:            log,
	}
}

func run() error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level()}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := options(log)
	echo := sio.NewEngineEcho(opts)
	io, err := sio.New(ctx, opts, sio.EchoHooks())
	if err != nil {
		return fmt.Errorf("socket.io server: %w", err)
	}
	defer io.Close()

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", echo)
	mux.Handle("/socket.io/", io.Handler())

	addr := net.JoinHostPort(env("HOST", "127.0.0.1"), env("PORT", "3000"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// scripts/conformance.sh waits for this line.
	fmt.Printf("conformance server listening on http://%s (/engine.io/, /socket.io/)\n", ln.Addr())

	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Long-polling requests and WebSockets do not end on their own; after the grace period the
	// process exits regardless.
	_ = srv.Shutdown(shutdown)
	return nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// level is warn by default: the suites provoke protocol errors on purpose, and a debug log
// (LOG_LEVEL=debug) is for reading one failing test, not for CI output.
func level() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		return slog.LevelWarn
	}
	return l
}
