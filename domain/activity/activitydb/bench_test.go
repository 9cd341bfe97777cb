package activitydb_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/activity"
	"github.com/p2psandbox/hub/domain/activity/activitydb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkFeed measures a page of each feed on 1,000,000 entries by 200 people of 20
// organizations (one in ten visible to their organization only, one in twenty private) about
// 100,000 topics (1 % hidden), beside 100,000 published use cases, each person following ten
// others:
//
//	go test ./domain/activity/activitydb/ -run '^$' -bench Feed -count 3 -timeout 30m
//
// ACTIVITY_EXPLAIN=1 logs each scope's plan (warm) and how many of ten pages on one connection
// got a generic plan.
func BenchmarkFeed(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	var people, orgs []string
	var viewer identity.Principal
	for range 20 {
		org := identitytest.NewOrg(b, pool)
		ms := append(org.Members(b, pool, 7), org.Owner,
			org.Member(b, pool, identitytest.Privacy("organization", "anyone")),
			org.Member(b, pool, identitytest.Privacy("private", "anyone")))
		for _, m := range ms {
			people, orgs = append(people, m.UserID), append(orgs, org.ID)
		}
		viewer = org.Owner
	}
	start := time.Now()
	steps := []string{
		`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text, created_at, updated_at, last_activity_at, hidden_by)
		 SELECT gen_random_uuid(), 'automation', ($1::uuid[])[1 + i % 200], 'question', 'Topic ' || i, 'b', 'b', 'b', 'b', now(), now(), now(),
		        CASE WHEN i % 100 = 0 THEN ($1::uuid[])[1] END
		   FROM generate_series(1, 100000) i`,
		`INSERT INTO use_cases (id, organization_id, author_id, status, category, title, document, published_at, created_at, updated_at)
		 SELECT gen_random_uuid(), ($2::uuid[])[1 + i % 200], ($1::uuid[])[1 + i % 200], 'published', 'Automation', 'Use case ' || i,
		        jsonb_build_object('title', 'Use case ' || i), now() - i * interval '1 minute', now(), now()
		   FROM generate_series(1, 100000) i`,
		`INSERT INTO people_follows (follower_id, followee_id)
		 SELECT ($1::uuid[])[1 + i], ($1::uuid[])[1 + (i + k * 17) % 200] FROM generate_series(0, 199) i, generate_series(1, 10) k
		 ON CONFLICT DO NOTHING`,
	}
	for chunk := range 10 {
		steps = append(steps, `
		INSERT INTO activity_entries (event_id, kind, actor_id, organization_id, owner_id, topic_id, content, category, link, created_at)
		SELECT i, (ARRAY['question_asked','answer_posted','best_answer','reply_posted'])[1 + i % 4],
		       ($1::uuid[])[1 + i % 200], ($2::uuid[])[1 + i % 200],
		       CASE WHEN i % 2 = 0 THEN ($1::uuid[])[1 + (i * 7) % 200] END, t.ids[1 + i % 100000], 'Topic ' || i, 'Automation', '/forum/topics/x',
		       now() - (1000000 - i) * interval '1 second'
		  FROM generate_series(`+itoa(chunk*100000+1)+`, `+itoa((chunk+1)*100000)+`) i,
		       (SELECT array_agg(id ORDER BY id) AS ids FROM forum_topics) t`)
	}
	steps = append(steps, `VACUUM ANALYZE`, `CHECKPOINT`)
	for _, sql := range steps {
		var args []any
		switch {
		case contains(sql, "$2"):
			args = []any{people, orgs}
		case contains(sql, "$1"):
			args = []any{people}
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	b.Logf("seeded 1,000,000 entries in %s", time.Since(start).Round(time.Second))
	svc := activity.NewService(activitydb.New(pool))
	first, err := svc.Feed(ctx, viewer, activity.ScopePlatform, 20, "")
	if err != nil || first.NextCursor == nil {
		b.Fatal(err)
	}
	for _, scope := range []string{activity.ScopePlatform, activity.ScopeOrganization, activity.ScopeMe} {
		if os.Getenv("ACTIVITY_EXPLAIN") != "" {
			// The third plan, once the pages it reads are cached.
			var lines []string
			for range 3 {
				rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+activitydb.FeedSQL(scope, 21), viewer.UserID, viewer.OrganizationID, int64(500000))
				if err != nil {
					b.Fatal(err)
				}
				lines, _ = pgx.CollectRows(rows, pgx.RowTo[string])
			}
			b.Logf("%s:\n%s", scope, strings.Join(lines, "\n"))
			// Which plans ten pages on one bare connection were given (Feed asks for the generic plan of
			// the me feed in its transaction): generic ones are planned once.
			conn, err := pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 10 {
				rows, err := conn.Query(ctx, activitydb.FeedSQL(scope, 21), viewer.UserID, viewer.OrganizationID, int64(900000-i*50000))
				if err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
			var generic, custom int64
			if err := conn.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`,
				activitydb.FeedSQL(scope, 21)).Scan(&generic, &custom); err != nil {
				b.Fatal(err)
			}
			conn.Release()
			b.Logf("%s: %d generic and %d custom plans in ten pages", scope, generic, custom)
		}
		b.Run(scope+"/first", func(b *testing.B) {
			pgtest.Measure(b, func(int) error { _, err := svc.Feed(ctx, viewer, scope, 20, ""); return err })
		})
		b.Run(scope+"/deep", func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				// A cursor somewhere in the million, as a reader scrolling far back would hold.
				c := cursorAt(rand.Int64N(1000000) + 1)
				_, err := svc.Feed(ctx, viewer, scope, 20, c)
				return err
			})
		})
	}
}
