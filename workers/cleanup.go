package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// TypeCleanup removes expired rows (stored idempotent responses, and whatever else registers a
// Sweeper). It runs every worker.cleanup_interval.
const TypeCleanup = "maintenance:cleanup"

// Sweeper removes the expired rows of one kind and says how many it removed.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (int64, error)
}

// Cleanup is the handler of TypeCleanup.
type Cleanup struct {
	Log      *slog.Logger
	Sweepers map[string]Sweeper
	Now      func() time.Time
}

// ProcessTask runs every sweeper; one failing does not stop the others.
func (c Cleanup) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	var errs []error
	for name, s := range c.Sweepers {
		n, err := s.Sweep(ctx, now())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if n > 0 {
			c.Log.InfoContext(ctx, "removed expired rows", "kind", name, "rows", n)
		}
	}
	return errors.Join(errs...)
}
