package app

import (
	"context"
	"net"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/redis/clustertest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/rest"
)

func TestOpenFanout(t *testing.T) {
	ctx := context.Background()
	rdb, _ := redistest.New(t)

	t.Run("without a cluster the fan-out is redis.url", func(t *testing.T) {
		p := &System{}
		var checks []rest.HealthCheck
		got, err := p.openFanout(ctx, config.Hub{}, rdb, &checks)
		require.NoError(t, err)
		assert.Same(t, rdb, got)
		assert.Empty(t, checks)
		assert.Empty(t, p.closers)
	})

	t.Run("an unreachable cluster fails the start", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		var checks []rest.HealthCheck
		_, err = (&System{}).openFanout(ctx, config.Hub{FanoutRedisCluster: []string{addr}}, rdb, &checks)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "hub.fanout_redis_cluster")
	})

	t.Run("a cluster", func(t *testing.T) {
		c := clustertest.Start(t)
		p := &System{}
		var checks []rest.HealthCheck
		got, err := p.openFanout(ctx, config.Hub{FanoutRedisCluster: c.Addrs[:1]}, rdb, &checks)
		require.NoError(t, err)
		t.Cleanup(p.Close)
		require.IsType(t, &goredis.ClusterClient{}, got, "the hub shards its fan-out on a cluster client")
		require.Len(t, checks, 1)
		assert.Equal(t, "redis-fanout", checks[0].Name)
		assert.NoError(t, checks[0].Check(ctx))
	})
}
