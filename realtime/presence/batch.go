package presence

import (
	"context"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Redis calls of the handshake path (counting a user's connections, recording a connection, its
// status changes and its end) are committed in groups: the caller that finds none in flight
// sends its own and then, while it waits on Redis, whatever others queued behind it goes out in
// the next round trip as one pipeline. A quiet node pays one round trip per call as before; a
// node taking a thousand handshakes a second pays one per batch, not two per socket
// (docs/perf.md, "Realtime hub"). No goroutine of its own while the node is quiet: the callers
// do the sending.

// maxBatch bounds one pipeline.
const maxBatch = 256

// batchWait bounds a batch's round trip, whoever's context started it.
const batchWait = 5 * time.Second

// op is one call: queue adds its command to a pipeline and returns a function that reads its
// result once the pipeline has run; alone runs it by itself.
type op struct {
	queue func(ctx context.Context, p goredis.Pipeliner) func()
	alone func(ctx context.Context)
	done  chan struct{}
}

type batcher struct {
	mu      sync.Mutex
	queued  []*op
	sending bool
}

// do queues o and returns once it has run, or when ctx ends (the result is then the sender's
// to deliver, and the caller moves on).
func (s *Store) do(ctx context.Context, o *op) error {
	o.done = make(chan struct{})
	b := &s.batch
	b.mu.Lock()
	b.queued = append(b.queued, o)
	lead := !b.sending
	b.sending = true
	b.mu.Unlock()
	if lead {
		s.send(context.WithoutCancel(ctx))
	}
	select {
	case <-o.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send commits one batch of the queued calls; there is at least one (the leader's own, or what
// queued during the batch before). If more queued up meanwhile, a new goroutine goes on
// sending them: the caller returns as soon as its own call is done. (Sending until the queue
// was empty kept one handshake, on a node that never stopped taking handshakes, sending the
// others' calls for seconds.)
func (s *Store) send(ctx context.Context) {
	b := &s.batch
	b.mu.Lock()
	n := min(len(b.queued), maxBatch)
	batch := b.queued[:n:n]
	b.queued = b.queued[n:]
	b.mu.Unlock()
	s.commit(ctx, batch)
	b.mu.Lock()
	more := len(b.queued) > 0
	if !more {
		b.sending = false
		b.queued = nil
	}
	b.mu.Unlock()
	if more {
		go s.send(ctx)
	}
}

func (s *Store) commit(ctx context.Context, batch []*op) {
	ctx, cancel := context.WithTimeout(ctx, batchWait)
	defer cancel()
	if len(batch) == 1 {
		batch[0].alone(ctx)
		close(batch[0].done)
		return
	}
	reads := make([]func(), len(batch))
	_, _ = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, o := range batch {
			reads[i] = o.queue(ctx, p)
		}
		return nil
	})
	for i, o := range batch {
		reads[i]()
		close(o.done)
	}
}

// runUpdate runs the update script for userID through the batcher.
func (s *Store) runUpdate(ctx context.Context, userID string, keys []string, args ...any) (Change, error) {
	var res []any
	var err error
	o := &op{
		queue: func(ctx context.Context, p goredis.Pipeliner) func() {
			cmd := updateScript.EvalSha(ctx, p, keys, args...)
			return func() {
				res, err = cmd.Slice()
				if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
					// Redis restarted (or flushed its scripts): Run loads the script again.
					res, err = updateScript.Run(ctx, s.rdb, keys, args...).Slice()
				}
			}
		},
		alone: func(ctx context.Context) { res, err = updateScript.Run(ctx, s.rdb, keys, args...).Slice() },
	}
	if cerr := s.do(ctx, o); cerr != nil {
		return Change{}, fmt.Errorf("presence: updating %s: %w", userID, cerr)
	}
	if err != nil {
		return Change{}, fmt.Errorf("presence: updating %s: %w", userID, err)
	}
	return parseChange(userID, res)
}

// count reads HLEN key through the batcher.
func (s *Store) count(ctx context.Context, key string) (int64, error) {
	var n int64
	var err error
	o := &op{
		queue: func(ctx context.Context, p goredis.Pipeliner) func() {
			cmd := p.HLen(ctx, key)
			return func() { n, err = cmd.Result() }
		},
		alone: func(ctx context.Context) { n, err = s.rdb.HLen(ctx, key).Result() },
	}
	if cerr := s.do(ctx, o); cerr != nil {
		return 0, cerr
	}
	return n, err
}
