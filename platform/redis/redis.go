// Package redis connects to Redis through go-redis.
package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Connect parses url, opens a client and checks that the server answers.
func Connect(ctx context.Context, url string) (*goredis.Client, error) {
	opts, err := Options(url)
	if err != nil {
		return nil, err
	}
	c := goredis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pingCtx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: connecting to %s: %w", opts.Addr, err)
	}
	return c, nil
}

// Options parses a redis:// or rediss:// URL.
func Options(url string) (*goredis.Options, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parsing url: %w", err)
	}
	opts.DialTimeout = 2 * time.Second
	// Without it go-redis waits out its 3 s read timeout whatever the caller's deadline: a
	// stalled Redis held /health/ready (500 ms) and every request behind it for 3 s.
	opts.ContextTimeoutEnabled = true
	return opts, nil
}
