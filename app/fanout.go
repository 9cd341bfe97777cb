package app

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/rest"
)

// openFanout returns the Redis client that carries the hub's broadcasts between nodes and from
// workers: with hub.fanout_redis_cluster, a Redis Cluster client (the hub then uses sharded
// pub/sub, rooms spread over the shards; realtime/sio fanout.go), closed with the system and
// checked by /health/ready; else rdb, the application's Redis. Every hub and worker process
// must make the same choice, or broadcasts miss the processes on the other side.
func (p *System) openFanout(ctx context.Context, cfg config.Hub, rdb *goredis.Client, checks *[]rest.HealthCheck) (goredis.UniversalClient, error) {
	if len(cfg.FanoutRedisCluster) == 0 {
		return rdb, nil
	}
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:       cfg.FanoutRedisCluster,
		DialTimeout: 2 * time.Second,
		// As platform/redis: calls keep their caller's deadline.
		ContextTimeoutEnabled: true,
		// A process that only publishes (a worker's emitter) learns that a shard's replica took
		// over within a second, not ten (go-redis's default); nodes learn it sooner, when their
		// subscription to the dead primary breaks.
		ClusterStateReloadInterval: time.Second,
	})
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := cc.Ping(pingCtx).Err(); err != nil {
		_ = cc.Close()
		return nil, fmt.Errorf("redis cluster of the hub's fan-out (hub.fanout_redis_cluster): %w", err)
	}
	p.onClose(func() { _ = cc.Close() })
	*checks = append(*checks, rest.HealthCheck{Name: "redis-fanout", Check: func(ctx context.Context) error {
		return cc.Ping(ctx).Err()
	}})
	return cc, nil
}
