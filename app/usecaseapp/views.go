package usecaseapp

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// viewWindow is how long one user's views of a use case count once.
const viewWindow = 24 * time.Hour

// views counts use case views in Redis, once per user and use case per viewWindow, and adds them to
// the use cases every flush interval from whichever node flushes first: a page view costs one Redis
// round trip, never a write to the use case's row.
type views struct {
	rdb    goredis.UniversalClient
	prefix string
	log    *slog.Logger
}

// take reads and clears the pending counts in one step, so two nodes never add the same views.
var take = goredis.NewScript(`local v = redis.call('HGETALL', KEYS[1]) redis.call('DEL', KEYS[1]) return v`)

func (v *views) pending() string { return v.prefix + "usecase:views" }

// Seen counts userID's view of useCaseID unless it was counted in the window. A failure is
// logged: a view is not worth failing a page for.
func (v *views) Seen(ctx context.Context, useCaseID, userID string) {
	ok, err := v.rdb.SetNX(ctx, v.prefix+"usecase:viewed:"+useCaseID+":"+userID, 1, viewWindow).Result()
	if err == nil && ok {
		err = v.rdb.HIncrBy(ctx, v.pending(), useCaseID, 1).Err()
	}
	if err != nil {
		v.log.WarnContext(ctx, "counting a use case view", "useCase", useCaseID, "err", err)
	}
}

// flush adds the pending counts to the use cases; on failure they go back to Redis for the next.
func (v *views) flush(ctx context.Context, add func(context.Context, map[string]int) error) {
	raw, err := take.Run(ctx, v.rdb, []string{v.pending()}).StringSlice()
	if err != nil || len(raw) == 0 {
		if err != nil && err != goredis.Nil {
			v.log.WarnContext(ctx, "reading use case views", "err", err)
		}
		return
	}
	counts := map[string]int{}
	for i := 0; i+1 < len(raw); i += 2 {
		n, _ := strconv.Atoi(raw[i+1])
		counts[raw[i]] += n
	}
	if err := add(ctx, counts); err != nil {
		v.log.WarnContext(ctx, "adding use case views", "err", err)
		for id, n := range counts {
			v.rdb.HIncrBy(context.WithoutCancel(ctx), v.pending(), id, int64(n))
		}
	}
}

// run flushes every interval until ctx ends, and once more then.
func (v *views) run(ctx context.Context, every time.Duration, add func(context.Context, map[string]int) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			v.flush(fctx, add)
			cancel()
			return
		case <-t.C:
			v.flush(ctx, add)
		}
	}
}
