// Package viewcount counts views of things (forum topics, use cases) once per viewer per window
// in Redis, and adds them to their rows every flush interval from whichever node flushes first:
// a page view costs one Redis round trip, never a write to the thing's row.
package viewcount

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Window is how long one viewer's views of one thing count once.
const Window = 24 * time.Hour

// Counter counts the views of one kind of thing.
type Counter struct {
	rdb  goredis.UniversalClient
	kind string // keys: <prefix><kind>:views (pending counts), <prefix><kind>:viewed:<id>:<viewer>
	pre  string
	log  *slog.Logger
}

// New returns a counter of kind's views under the Redis key prefix.
func New(rdb goredis.UniversalClient, prefix, kind string, log *slog.Logger) *Counter {
	return &Counter{rdb: rdb, kind: kind, pre: prefix + kind + ":", log: log}
}

// take reads and clears the pending counts in one step, so two nodes never add the same views.
var take = goredis.NewScript(`local v = redis.call('HGETALL', KEYS[1]) redis.call('DEL', KEYS[1]) return v`)

func (c *Counter) pending() string { return c.pre + "views" }

// Seen counts viewerID's view of id unless it was counted in the window. A failure is logged: a
// view is not worth failing a page for.
func (c *Counter) Seen(ctx context.Context, id, viewerID string) {
	ok, err := c.rdb.SetNX(ctx, c.pre+"viewed:"+id+":"+viewerID, 1, Window).Result()
	if err == nil && ok {
		err = c.rdb.HIncrBy(ctx, c.pending(), id, 1).Err()
	}
	if err != nil {
		c.log.WarnContext(ctx, "counting a view", "kind", c.kind, "id", id, "err", err)
	}
}

// Adder adds counted views to the rows of their things.
type Adder func(ctx context.Context, views map[string]int) error

// flush adds the pending counts; on failure they go back to Redis for the next flush.
func (c *Counter) flush(ctx context.Context, add Adder) {
	raw, err := take.Run(ctx, c.rdb, []string{c.pending()}).StringSlice()
	if err != nil || len(raw) == 0 {
		if err != nil && !errors.Is(err, goredis.Nil) {
			c.log.WarnContext(ctx, "reading views", "kind", c.kind, "err", err)
		}
		return
	}
	counts := map[string]int{}
	for i := 0; i+1 < len(raw); i += 2 {
		n, _ := strconv.Atoi(raw[i+1])
		counts[raw[i]] += n
	}
	if err := add(ctx, counts); err != nil {
		c.log.WarnContext(ctx, "adding views", "kind", c.kind, "err", err)
		for id, n := range counts {
			c.rdb.HIncrBy(context.WithoutCancel(ctx), c.pending(), id, int64(n))
		}
	}
}

// Start flushes every interval in the background until the returned stop is called, which
// flushes once more and waits for it.
func (c *Counter) Start(every time.Duration, add Adder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				fctx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				c.flush(fctx, add)
				cancelFlush()
				return
			case <-t.C:
				c.flush(ctx, add)
			}
		}
	}()
	return func() { cancel(); <-done }
}
