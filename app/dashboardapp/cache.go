package dashboardapp

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/domain/dashboard"
)

// cache keeps computed dashboards in Redis, each with the versions of its user's and
// organization's counters (and of all counters, moved by a rebuild) as they were before it was
// computed. An event that changes a counter moves its version, so the next read misses; one
// round trip reads a dashboard and the current versions together. The time to live bounds what
// no event invalidates: other users' activity that moves the month's ranking, and use case
// views.
type cache struct {
	rdb    goredis.UniversalClient
	prefix string
	ttl    time.Duration
	log    *slog.Logger
}

// versionTTL outlives every cached dashboard, so a version that expired was not read by one.
const versionTTL = 48 * time.Hour

func newCache(rdb goredis.UniversalClient, prefix string, ttl time.Duration, log *slog.Logger) *cache {
	return &cache{rdb: rdb, prefix: prefix + "dashboard:", ttl: ttl, log: log}
}

func (c *cache) userVersion(id string) string { return c.prefix + "v:u:" + id }
func (c *cache) orgVersion(id string) string  { return c.prefix + "v:o:" + id }
func (c *cache) generation() string           { return c.prefix + "v:all" }
func (c *cache) key(userID, period string) string {
	return c.prefix + "d:" + userID + ":" + period
}

type entry struct {
	Stamp     string              `json:"s"`
	Dashboard dashboard.Dashboard `json:"d"`
}

// Get returns the cached dashboard when its stamp is current, and the current stamp.
func (c *cache) Get(ctx context.Context, userID, orgID, period string) (*dashboard.Dashboard, string, bool) {
	pipe := c.rdb.Pipeline()
	val := pipe.Get(ctx, c.key(userID, period))
	vers := pipe.MGet(ctx, c.userVersion(userID), c.orgVersion(orgID), c.generation())
	if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
		c.log.Warn("reading the dashboard cache", "err", err)
		return nil, "", false
	}
	parts := make([]string, 0, 4)
	parts = append(parts, orgID)
	for _, v := range vers.Val() {
		s, _ := v.(string)
		parts = append(parts, s)
	}
	stamp := strings.Join(parts, ":")
	raw, err := val.Bytes()
	if err != nil {
		return nil, stamp, false
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil || e.Stamp != stamp {
		return nil, stamp, false
	}
	return &e.Dashboard, stamp, true
}

// Put keeps d with the stamp Get returned before it was computed.
func (c *cache) Put(ctx context.Context, userID, period, stamp string, d dashboard.Dashboard) {
	raw, err := json.Marshal(entry{Stamp: stamp, Dashboard: d})
	if err == nil {
		err = c.rdb.Set(ctx, c.key(userID, period), raw, c.ttl).Err()
	}
	if err != nil {
		c.log.Warn("writing the dashboard cache", "err", err)
	}
}

// Invalidate moves the versions of the users and organizations a change touched.
func (c *cache) Invalidate(ctx context.Context, t dashboard.Touched) {
	if len(t.Users)+len(t.Organizations) == 0 {
		return
	}
	pipe := c.rdb.Pipeline()
	bump := func(key string) {
		pipe.Incr(ctx, key)
		pipe.Expire(ctx, key, versionTTL)
	}
	for _, id := range t.Users {
		bump(c.userVersion(id))
	}
	for _, id := range t.Organizations {
		bump(c.orgVersion(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.Warn("invalidating dashboards", "err", err)
	}
}

// Flush makes every cached dashboard stale.
func (c *cache) Flush(ctx context.Context) {
	pipe := c.rdb.Pipeline()
	pipe.Incr(ctx, c.generation())
	pipe.Expire(ctx, c.generation(), versionTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.Warn("flushing dashboards", "err", err)
	}
}
