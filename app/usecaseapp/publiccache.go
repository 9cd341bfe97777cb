package usecaseapp

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// publicCache keeps the public routes' answers (the landing map, stats, featured) for as long as
// a shared cache may keep them anyway (publicMaxAge): they are the same for everyone, the map's
// whole answer costs 80-110 ms to build at 100,000 use cases (docs/perf.md), and a landing page
// is what every visitor opens. A change to what is public, made on this node, clears it at once
// (the bus's in-process events); one made on another node shows within publicMaxAge. Concurrent misses of one key build it once (singleflight). Its
// size is bounded in bytes (a whole map is some 7 MB), oldest entries going first.
type publicCache struct {
	ttl    time.Duration
	budget int
	now    func() time.Time
	group  singleflight.Group

	mu      sync.Mutex
	entries map[string]cached
	bytes   int
}

type cached struct {
	at   time.Time
	body []byte
}

func newPublicCache(ttl time.Duration, budget int) *publicCache {
	return &publicCache{ttl: ttl, budget: budget, now: time.Now, entries: map[string]cached{}}
}

// get answers key from the cache, or builds it with build (once for concurrent callers) and
// keeps it for the cache's time to live. Errors are not kept.
func (c *publicCache) get(ctx context.Context, key string, build func(context.Context) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.body, nil
	}
	v, err, _ := c.group.Do(key, func() (any, error) {
		// The builder outlives a caller that gives up: the others wait on the same answer.
		body, err := build(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		c.put(key, body)
		return body, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func (c *publicCache) put(key string, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.bytes -= len(old.body)
	}
	now := c.now()
	c.entries[key] = cached{at: now, body: body}
	c.bytes += len(body)
	for c.bytes > c.budget && len(c.entries) > 1 {
		// Expired entries first, then the oldest; a few hundred keys at most, so a scan is fine.
		var oldest string
		var at time.Time
		for k, e := range c.entries {
			if k == key {
				continue
			}
			if oldest == "" || e.at.Before(at) {
				oldest, at = k, e.at
			}
		}
		c.bytes -= len(c.entries[oldest].body)
		delete(c.entries, oldest)
	}
}

// clear forgets every answer: a use case entered or left the public ones, or its marks changed.
func (c *publicCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.bytes = map[string]cached{}, 0
}
