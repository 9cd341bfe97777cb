package redis_test

import (
	"context"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis"
)

// stalled accepts connections and never answers: a Redis that hangs (CLIENT PAUSE, a full
// network buffer, a stopped process).
func stalled(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	return ln.Addr().String()
}

func TestCallsKeepTheCallersDeadline(t *testing.T) {
	opts, err := redis.Options("redis://" + stalled(t) + "/0")
	require.NoError(t, err)
	c := goredis.NewClient(opts)
	defer c.Close()
	for _, d := range []time.Duration{200 * time.Millisecond, 500 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		start := time.Now()
		err := c.Ping(ctx).Err()
		took := time.Since(start)
		cancel()
		require.Error(t, err)
		assert.Less(t, took, d+250*time.Millisecond, "a %s deadline held the call for %s", d, took)
	}
}
