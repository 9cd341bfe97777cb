// Package ratelimit limits events per key across every node, in Redis, with the GCRA limiter of
// go-redis/redis_rate: a burst of Policy.Events, refilled evenly over Policy.Per.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// Policy allows Events per Per, all of them at once if they come in a burst.
type Policy struct {
	Events int
	Per    time.Duration
}

func (p Policy) limit() redis_rate.Limit {
	return redis_rate.Limit{Rate: p.Events, Burst: p.Events, Period: p.Per}
}

// Limiter counts events in Redis. Keys are prefixed; redis_rate adds its own "rate:" in front.
type Limiter struct {
	rl     *redis_rate.Limiter
	prefix string
}

// New returns a limiter on rdb whose keys start with prefix.
func New(rdb goredis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb), prefix: prefix + "rl:"}
}

// Hit records one event. It returns 0 when the event is allowed and otherwise how long until one
// would be; a refused event is not counted.
func (l *Limiter) Hit(ctx context.Context, key string, p Policy) (time.Duration, error) {
	res, err := l.rl.Allow(ctx, l.prefix+key, p.limit())
	if err != nil {
		return 0, fmt.Errorf("ratelimit: %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return res.RetryAfter, nil
}

// Peek tells, without counting anything, whether one more event would be allowed now: 0 if so,
// else how long until it would be. It is how failed attempts lock an account: failures Hit,
// attempts Peek.
func (l *Limiter) Peek(ctx context.Context, key string, p Policy) (time.Duration, error) {
	res, err := l.rl.AllowN(ctx, l.prefix+key, p.limit(), 0)
	if err != nil {
		return 0, fmt.Errorf("ratelimit: %s: %w", key, err)
	}
	if res.Remaining > 0 {
		return 0, nil
	}
	interval := p.Per / time.Duration(p.Events)
	wait := res.ResetAfter - time.Duration(p.Events-1)*interval
	return max(wait, time.Second), nil
}

// Reset forgets the events of key.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.rl.Reset(ctx, l.prefix+key); err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", key, err)
	}
	return nil
}
