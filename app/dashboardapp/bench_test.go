package dashboardapp

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2psandbox/hub/domain/dashboard"
	"github.com/p2psandbox/hub/domain/dashboard/dashboarddb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// BenchmarkDashboard measures GET /dashboard's work (Service.Get) for random users of 10,000 in
// 200 organizations after a year of activity: 100,000 topics (one in ten removed), 400,000
// replies, 500,000 likes, 200,000 bookmarks and 100,000 use cases, counted by a rebuild (whose
// time it logs). cold reads the counters on every call (no cache); warm reads dashboards the
// cache holds (a thousand of them); both read the messages live.
//
//	go test ./app/dashboardapp/ -run '^$' -bench Dashboard -count 3 -timeout 30m
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	rdb, prefix := redistest.New(b)
	var people []identity.Principal
	var ids []string
	for range 200 {
		org := identitytest.NewOrg(b, pool)
		people = append(people, org.Owner)
		people = append(people, org.Members(b, pool, 49)...)
	}
	for _, p := range people {
		ids = append(ids, p.UserID)
	}
	start := time.Now()
	n := strconv.Itoa(len(ids))
	// A time in the last year, spread by i.
	at := func(i string) string { return `now() - ((` + i + `::bigint * 7919) % 525600) * interval '1 minute'` }
	steps := []string{
		`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text, created_at, updated_at, last_activity_at, deleted_at)
		 SELECT gen_random_uuid(), 'automation', ($1::uuid[])[1 + (i * 31) % ` + n + `], CASE WHEN i % 3 = 0 THEN 'discussion' ELSE 'question' END,
		        'Topic ' || i, 'b', 'b', 'b', 'b', ` + at("i") + `, ` + at("i") + `, ` + at("i") + `, CASE WHEN i % 10 = 0 THEN now() END
		   FROM generate_series(1, 100000) i`,
		`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at)
		 SELECT gen_random_uuid(), t.ids[1 + i % 100000], ($1::uuid[])[1 + (i * 17) % ` + n + `], 0, 'r', 'r', ` + at("i") + `, ` + at("i") + `
		   FROM generate_series(1, 400000) i, (SELECT array_agg(id) AS ids FROM forum_topics) t`,
		`UPDATE forum_topics t SET best_answer_id = p.id FROM (SELECT DISTINCT ON (topic_id) topic_id, id FROM forum_posts ORDER BY topic_id, id) p
		  WHERE p.topic_id = t.id AND t.kind = 'question' AND hashtext(t.id::text) % 3 = 0`,
		`INSERT INTO forum_likes (target_type, target_id, user_id, created_at)
		 SELECT 'post', p.id, ($1::uuid[])[1 + (k * 101 + hashtext(p.id::text) % 97 + 97) % ` + n + `], p.created_at
		   FROM (SELECT id, created_at FROM forum_posts LIMIT 250000) p, generate_series(1, 2) k ON CONFLICT DO NOTHING`,
		`INSERT INTO forum_likes (target_type, target_id, user_id, created_at)
		 SELECT 'topic', t.id, ($1::uuid[])[1 + (k * 211 + hashtext(t.id::text) % 89 + 89) % ` + n + `], t.created_at
		   FROM forum_topics t, generate_series(1, 3) k WHERE t.deleted_at IS NULL AND k <= 2 + hashtext(t.id::text) % 2
		   ON CONFLICT DO NOTHING`,
		`INSERT INTO forum_bookmarks (user_id, topic_id, created_at)
		 SELECT ($1::uuid[])[1 + (k * 53 + hashtext(t.id::text) % 71 + 71) % ` + n + `], t.id, t.created_at
		   FROM forum_topics t, generate_series(1, 2) k ON CONFLICT DO NOTHING`,
		`INSERT INTO use_cases (id, organization_id, author_id, status, category, title, roi, view_count, verified_at, created_at, updated_at)
		 SELECT gen_random_uuid(), u.organization_id, u.id, (ARRAY['draft','submitted','changes_requested','published','published','published'])[1 + i % 6],
		        'Automation', 'Use case ' || i, 50 + i % 300, i % 500, CASE WHEN i % 4 = 0 THEN now() END, ` + at("i") + `, ` + at("i") + `
		   FROM generate_series(1, 100000) i JOIN users u ON u.id = ($1::uuid[])[1 + (i * 13) % ` + n + `]`,
		`INSERT INTO use_case_transitions (use_case_id, from_status, to_status, action, actor_id, at)
		 SELECT id, 'draft', 'submitted', 'submit', author_id, created_at + interval '1 day' FROM use_cases WHERE status <> 'draft'`,
		`VACUUM ANALYZE`,
	}
	for _, sql := range steps {
		var args []any
		if strings.Contains(sql, "$1") {
			args = []any{ids}
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	b.Logf("seeded in %s", time.Since(start).Round(time.Second))
	store := dashboarddb.New(pool, SubscriberName)
	r, err := dashboard.NewService(store, nil, nil).Rebuild(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("rebuild: %d counters, %d active days, %d monthly rows in %s", r.Counters, r.ActiveDays, r.MonthRows, r.Took.Round(time.Millisecond))
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	pick := func() identity.Principal { return people[rand.IntN(len(people))] }
	b.Run("cold", func(b *testing.B) {
		svc := dashboard.NewService(store, nil, nil)
		pgtest.Measure(b, func(int) error { _, err := svc.Get(ctx, pick(), "30d"); return err })
	})
	b.Run("warm", func(b *testing.B) {
		// A thousand people whose dashboards the cache holds.
		svc := dashboard.NewService(store, newCache(rdb, prefix, time.Hour, log), nil)
		warm := people[:1000]
		for _, p := range warm {
			if _, err := svc.Get(ctx, p, "30d"); err != nil {
				b.Fatal(err)
			}
		}
		pgtest.Measure(b, func(int) error { _, err := svc.Get(ctx, warm[rand.IntN(len(warm))], "30d"); return err })
	})
}
