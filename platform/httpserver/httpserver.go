// Package httpserver runs an http.Server until its context ends and then shuts it down
// gracefully: it stops accepting, lets in-flight requests finish within a deadline, and only then
// closes what is left.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves srv on ln until ctx is done, then shuts down within timeout. It returns nil after a
// clean shutdown and an error when serving failed or requests outlived the deadline.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", serveErr)
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("http server: requests still running after %s: %w", timeout, err)
	}
	return nil
}
