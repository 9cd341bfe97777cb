// Package trendingredis is trending's cache: each run's rankings as Redis sorted sets (item id →
// score) with the items' light shapes in a hash, under a generation that a single SET makes
// current once everything is written; the previous generation expires a minute later, after the
// reads that began on it.
package trendingredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/domain/trending"
)

// Cache is the rankings in Redis under a key prefix.
type Cache struct {
	rdb    goredis.UniversalClient
	prefix string
}

// New returns the cache on rdb with keys under prefix.
func New(rdb goredis.UniversalClient, prefix string) *Cache {
	return &Cache{rdb: rdb, prefix: prefix + "trending:"}
}

var _ trending.Cache = (*Cache)(nil)

func (c *Cache) gen() string { return c.prefix + "gen" }
func (c *Cache) ranking(gen, kind, window, category string) string {
	return c.prefix + gen + ":" + kind + ":" + window + ":" + category
}
func (c *Cache) items(gen, kind string) string { return c.prefix + gen + ":" + kind + ":items" }
func (c *Cache) keys(gen string) string        { return c.prefix + gen + ":keys" }

// Replace writes rankings as a new generation and makes it current.
func (c *Cache) Replace(ctx context.Context, rankings []trending.Ranking, at time.Time) error {
	gen := strconv.FormatInt(at.UnixNano(), 36) + "-" + token()[:6]
	var keys []any
	pipe := c.rdb.Pipeline()
	for _, r := range rankings {
		if len(r.Items) == 0 {
			continue
		}
		key := c.ranking(gen, r.Kind, r.Window, r.Category)
		zs := make([]goredis.Z, 0, len(r.Items))
		fields := make([]any, 0, 2*len(r.Items))
		for _, it := range r.Items {
			zs = append(zs, goredis.Z{Score: it.Score, Member: it.ID})
			b, err := json.Marshal(it)
			if err != nil {
				return fmt.Errorf("trendingredis: encoding an item: %w", err)
			}
			fields = append(fields, it.ID, b)
		}
		pipe.ZAdd(ctx, key, zs...)
		pipe.HSet(ctx, c.items(gen, r.Kind), fields...)
		keys = append(keys, key, c.items(gen, r.Kind))
	}
	keys = append(keys, c.keys(gen))
	pipe.SAdd(ctx, c.keys(gen), keys...)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("trendingredis: writing generation %s: %w", gen, err)
	}
	old, err := c.rdb.SetArgs(ctx, c.gen(), gen, goredis.SetArgs{Get: true}).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("trendingredis: making generation %s current: %w", gen, err)
	}
	if old != "" {
		oldKeys, err := c.rdb.SMembers(ctx, c.keys(old)).Result()
		if err != nil {
			return fmt.Errorf("trendingredis: listing generation %s: %w", old, err)
		}
		pipe := c.rdb.Pipeline()
		for _, k := range append(oldKeys, c.keys(old)) {
			pipe.Expire(ctx, k, time.Minute)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("trendingredis: expiring generation %s: %w", old, err)
		}
	}
	return nil
}

// Read is one ranking of the current generation; false when there is none (a cold cache).
func (c *Cache) Read(ctx context.Context, kind, window, category string, limit int) ([]trending.Item, bool, error) {
	gen, err := c.rdb.Get(ctx, c.gen()).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("trendingredis: reading the generation: %w", err)
	}
	zs, err := c.rdb.ZRevRangeWithScores(ctx, c.ranking(gen, kind, window, category), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, false, fmt.Errorf("trendingredis: reading a ranking: %w", err)
	}
	items := make([]trending.Item, 0, len(zs))
	if len(zs) == 0 {
		return items, true, nil
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.Member.(string)
	}
	vals, err := c.rdb.HMGet(ctx, c.items(gen, kind), ids...).Result()
	if err != nil {
		return nil, false, fmt.Errorf("trendingredis: reading items: %w", err)
	}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			// The generation expired under the read: let the caller fall back.
			return nil, false, nil
		}
		var it trending.Item
		if err := json.Unmarshal([]byte(s), &it); err != nil {
			return nil, false, fmt.Errorf("trendingredis: decoding an item: %w", err)
		}
		it.Score = zs[i].Score
		items = append(items, it)
	}
	return items, true, nil
}

// unlockScript deletes the lock only if it is still ours.
var unlockScript = goredis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Lock takes the job's lock for ttl.
func (c *Cache) Lock(ctx context.Context, ttl time.Duration) (func(), bool, error) {
	key, tok := c.prefix+"lock", token()
	ok, err := c.rdb.SetNX(ctx, key, tok, ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	return func() {
		// A fresh context: the run's may be done, and a lock left behind holds off the next run
		// until its ttl.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = unlockScript.Run(ctx, c.rdb, []string{key}, tok).Err()
	}, true, nil
}

func token() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Drop forgets the current generation, as a Redis that lost its data would (an operator's
// reset; tests of cold starts).
func (c *Cache) Drop(ctx context.Context) error {
	return c.rdb.Del(ctx, c.gen()).Err()
}
