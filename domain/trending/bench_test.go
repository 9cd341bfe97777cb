package trending_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/trending"
	"github.com/p2psandbox/hub/domain/trending/trendingdb"
	"github.com/p2psandbox/hub/domain/trending/trendingredis"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

// BenchmarkTrending measures the trending:compute job and a read of a ranking on 100,000
// topics and 100,000 published use cases created over 60 days (half in the 30-day window),
// with 400,000 replies, 200,000 topic likes, 50,000 bookmarks, 200,000 use case likes and
// 100,000 saves spread over the last 30 days:
//
//	go test ./domain/trending/ -run '^$' -bench Trending -benchtime 5x -timeout 30m
//
// job: one run (scores of both kinds, every window and category, the snapshot and the cache).
// read: GET /api/v1/trending's service call against the cache.
func BenchmarkTrending(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	rdb, prefix := redistest.New(b)
	org := identitytest.NewOrg(b, pool)
	people := identitytest.IDs(org.Members(b, pool, 200))
	start := time.Now()
	for _, sql := range []string{
		`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
			like_count, view_count, created_at, updated_at, last_activity_at)
		SELECT gen_random_uuid(),
			(ARRAY['automation','quality-management','maintenance','artificial-intelligence','internet-of-things','general'])[1 + i % 6],
			($1::uuid[])[1 + i % 200], 'question', 'Topic ' || i, 'b', 'b', 'b', 'b', 0, (i * 13) % 900,
			now() - make_interval(mins => (i * 864 / 1000)::int), now(), now()
		FROM generate_series(1, 100000) i`,
		`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at)
		SELECT gen_random_uuid(), t.id, ($1::uuid[])[1 + (g + t.n) % 200], 0, 'r', 'r', now() - make_interval(mins => ((t.n * 7 + g * 131)::int) % 43200), now()
		FROM (SELECT id, row_number() OVER () AS n FROM forum_topics) t, generate_series(1, 4) g`,
		`INSERT INTO forum_likes (target_type, target_id, user_id, created_at)
		SELECT 'topic', t.id, ($1::uuid[])[1 + (t.n + g * 37) % 200], now() - make_interval(mins => ((t.n * 11 + g * 97)::int) % 43200)
		FROM (SELECT id, row_number() OVER () AS n FROM forum_topics) t, generate_series(1, 2) g`,
		`INSERT INTO forum_bookmarks (user_id, topic_id, created_at)
		SELECT ($1::uuid[])[1 + t.n % 200], t.id, now() - make_interval(mins => ((t.n * 17)::int) % 43200)
		FROM (SELECT id, row_number() OVER () AS n FROM forum_topics) t WHERE t.n % 2 = 0`,
		`INSERT INTO use_cases (id, organization_id, author_id, status, category, title, view_count, published_at, created_at, updated_at)
		SELECT gen_random_uuid(), $2, ($1::uuid[])[1 + i % 200], 'published',
			(ARRAY['Automation','Quality Management','Maintenance','Artificial Intelligence','Internet of Things','Energy','Safety','Supply Chain','Other'])[1 + i % 9],
			'Use case ' || i, (i * 7) % 2000, now() - make_interval(mins => (i * 864 / 1000)::int), now() - make_interval(mins => (i * 864 / 1000)::int), now()
		FROM generate_series(1, 100000) i`,
		`INSERT INTO use_case_likes (use_case_id, user_id, created_at)
		SELECT u.id, ($1::uuid[])[1 + (u.n + g * 41) % 200], now() - make_interval(mins => ((u.n * 11 + g * 89)::int) % 43200)
		FROM (SELECT id, row_number() OVER () AS n FROM use_cases) u, generate_series(1, 2) g`,
		`INSERT INTO use_case_saves (user_id, use_case_id, created_at)
		SELECT ($1::uuid[])[1 + u.n % 200], u.id, now() - make_interval(mins => ((u.n * 19)::int) % 43200)
		FROM (SELECT id, row_number() OVER () AS n FROM use_cases) u`,
		`VACUUM ANALYZE`,
		`CHECKPOINT`,
	} {
		var args []any
		switch {
		case strings.Contains(sql, "$2"):
			args = []any{people, org.ID}
		case strings.Contains(sql, "$1"):
			args = []any{people}
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	b.Logf("seeded in %s", time.Since(start).Round(time.Second))
	store := trendingdb.New(pool)
	cache := trendingredis.New(rdb, prefix)
	job := &trending.Job{Source: store, Cache: cache, Snapshots: store, LockTTL: 5 * time.Minute}
	svc := &trending.Service{Cache: cache, Snapshots: store}

	for _, kind := range trending.Kinds {
		b.Run("scores/"+kind, func(b *testing.B) {
			d := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				if _, err := store.Scores(ctx, kind, time.Now()); err != nil {
					b.Fatal(err)
				}
				d = append(d, time.Since(t0))
			}
			pgtest.ReportLatencies(b, d)
		})
	}
	b.Run("job", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for b.Loop() {
			t0 := time.Now()
			if err := job.Run(ctx); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		pgtest.ReportLatencies(b, d)
	})
	for _, q := range []struct{ name, kind, window, category string }{
		{"read/topics-7d", trending.KindTopics, "7d", ""},
		{"read/topics-24h-category", trending.KindTopics, "24h", "maintenance"},
		{"read/use-cases-30d", trending.KindUseCases, "30d", ""},
	} {
		b.Run(q.name, func(b *testing.B) {
			d := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				items, err := svc.Trending(ctx, q.kind, q.window, q.category, 10)
				if err != nil || len(items) == 0 {
					b.Fatalf("%d items, %v", len(items), err)
				}
				d = append(d, time.Since(t0))
			}
			pgtest.ReportLatencies(b, d)
		})
	}
}
