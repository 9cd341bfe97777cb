// Package redistest gives each test a Redis client and a key prefix of its own, so that tests
// share the local server without seeing each other's keys.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/platform/redis"
)

// DefaultURL is used when P2P_TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the test server's URL.
func URL() string {
	if u := os.Getenv("P2P_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// New returns a client and a unique key prefix ("t:<random>:"). Keys under the prefix are deleted
// when the test ends, and so are the rate limiter's ("rate:" + prefix; redis_rate puts its own
// prefix in front of ours).
func New(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	ctx := context.Background()
	c, err := redis.Connect(ctx, URL())
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "t:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
			var cursor uint64
			for {
				keys, next, err := c.Scan(ctx, cursor, pattern, 500).Result()
				if err != nil {
					t.Errorf("redistest: scanning %s: %v", pattern, err)
					break
				}
				if len(keys) > 0 {
					c.Del(ctx, keys...)
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
		}
		c.Close()
	})
	return c, prefix
}

// Queue returns name (a queue under a test's prefix) for asynq, and removes the queue's keys when
// the test ends: asynq names them itself ("asynq:{<queue>}…"), outside the prefix. Call it before
// starting the servers that use the queue, so that its cleanup runs after theirs.
func Queue(t testing.TB, c *goredis.Client, name string) string {
	t.Helper()
	t.Cleanup(func() {
		ctx := context.Background()
		c.SRem(ctx, "asynq:queues", name)
		iter := c.Scan(ctx, 0, "asynq:{"+name+"}*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("redistest: removing the asynq queue %s: %v", name, err)
		}
	})
	return name
}
