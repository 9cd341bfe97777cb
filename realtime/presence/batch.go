package presence

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Updates (connects, status changes, disconnects) are committed in groups: the caller that finds
// none in flight sends its own and then, while it waits on Redis, whatever others queued behind
// it goes out in the next round trip as one pipeline. A quiet node pays one round trip per update
// as before; a node taking a thousand handshakes a second pays one per batch, not one per socket
// (docs/perf.md, "Realtime hub"). No goroutine of its own: the callers do the sending.

// maxBatch bounds one pipeline.
const maxBatch = 256

// batchWait bounds a batch's round trip, whoever's context started it.
const batchWait = 5 * time.Second

type update struct {
	keys []string
	args []any
	user string
	ch   Change
	err  error
	done chan struct{}
}

type batcher struct {
	mu      sync.Mutex
	queued  []*update
	sending bool
}

// run queues u and returns once it is committed (or failed).
func (s *Store) run(ctx context.Context, u *update) (Change, error) {
	u.done = make(chan struct{})
	b := &s.batch
	b.mu.Lock()
	b.queued = append(b.queued, u)
	lead := !b.sending
	b.sending = true
	b.mu.Unlock()
	if lead {
		s.send(context.WithoutCancel(ctx))
	}
	select {
	case <-u.done:
		return u.ch, u.err
	case <-ctx.Done():
		// Committed or not, the result is the sender's to deliver; the caller moves on.
		return Change{}, fmt.Errorf("presence: updating %s: %w", u.user, ctx.Err())
	}
}

// send commits queued updates until none are left.
func (s *Store) send(ctx context.Context) {
	b := &s.batch
	for {
		b.mu.Lock()
		n := min(len(b.queued), maxBatch)
		if n == 0 {
			b.sending = false
			b.queued = nil
			b.mu.Unlock()
			return
		}
		batch := b.queued[:n:n]
		b.queued = b.queued[n:]
		b.mu.Unlock()
		s.commit(ctx, batch)
	}
}

func (s *Store) commit(ctx context.Context, batch []*update) {
	ctx, cancel := context.WithTimeout(ctx, batchWait)
	defer cancel()
	defer func() {
		for _, u := range batch {
			close(u.done)
		}
	}()
	if len(batch) == 1 {
		u := batch[0]
		res, err := updateScript.Run(ctx, s.rdb, u.keys, u.args...).Slice()
		u.ch, u.err = s.result(u, res, err)
		return
	}
	cmds := make([]*goredis.Cmd, len(batch))
	_, _ = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, u := range batch {
			cmds[i] = updateScript.EvalSha(ctx, p, u.keys, u.args...)
		}
		return nil
	})
	for i, u := range batch {
		res, err := cmds[i].Slice()
		if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
			// Redis restarted (or flushed its scripts): Run loads the script again.
			res, err = updateScript.Run(ctx, s.rdb, u.keys, u.args...).Slice()
		}
		u.ch, u.err = s.result(u, res, err)
	}
}

func (s *Store) result(u *update, res []any, err error) (Change, error) {
	if err != nil {
		if errors.Is(err, goredis.Nil) {
			err = fmt.Errorf("no result: %w", err)
		}
		return Change{}, fmt.Errorf("presence: updating %s: %w", u.user, err)
	}
	return parseChange(u.user, res)
}
