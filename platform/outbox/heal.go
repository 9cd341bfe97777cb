package outbox

import (
	"context"
	"log/slog"
	"time"
)

// RunHealer runs heal at once and then every interval until ctx ends, logging how many items it
// delivered and what it could not. heal is the delivery of what a store's own transactional
// outbox holds for another store (use case documents and forum bodies bound for MongoDB): the
// rows its writes' deliveries after commit left behind.
func RunHealer(ctx context.Context, every time.Duration, log *slog.Logger, what string, heal func(context.Context) (int, error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := heal(ctx)
		if n > 0 && log != nil {
			log.InfoContext(ctx, what+" delivered from the outbox", "count", n)
		}
		if err != nil && ctx.Err() == nil && log != nil {
			log.WarnContext(ctx, "healing "+what, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
