// Package workertest runs a worker for the length of a test.
package workertest

import (
	"context"
	"testing"

	"github.com/p2psandbox/hub/workers"
)

// Serve runs w until the test ends.
func Serve(t testing.TB, w *workers.Worker) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		<-stopped
	})
}
