package forumdb_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkBodies measures what reads and writes forum bodies (a topic's detail, a page of 20
// replies with their first nested ones, and a reply posted) on both backends, on the same seeded
// forum: first with the bodies on their rows, then after `docs migrate --to mongo`
// (MigrateBodiesToStore, timed and logged) with the bodies in MongoDB, here FerretDB 1.24 on the
// same PostgreSQL, whose figures are FerretDB's, not MongoDB's (every find there is a sequential
// scan of the collection). FORUM_BODIES_N topics are seeded, 200 by default, each with 10
// replies, each of those with one nested reply. Each sub-benchmark reports p50/p95/p99:
//
//	go test ./domain/forum/forumdb/ -run '^$' -bench Bodies -benchtime 100x -count 1 -timeout 30m
func BenchmarkBodies(b *testing.B) {
	ctx := context.Background()
	n := 200
	if s := os.Getenv("FORUM_BODIES_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("FORUM_BODIES_N=%q: a number of topics", s)
		}
	}
	pool, _ := pgtest.New(b)
	org := identitytest.NewOrg(b, pool)
	people := identitytest.IDs(org.Members(b, pool, 20))
	for _, sql := range []string{`
		INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
			created_at, updated_at, last_activity_at)
		SELECT gen_random_uuid(), 'maintenance', ($1::uuid[])[1 + i % 20], 'question', 'Pump ' || i || ' vibrates after the shift',
			b.t, '<p>' || b.t || '</p>', left(b.t, 200), b.t, now() - i * interval '5 minutes', now() - i * interval '5 minutes',
			now() - i * interval '5 minutes'
		FROM generate_series(1, $2::int) i,
		     LATERAL (SELECT 'Line ' || i % 40 || ': the **pump** on the conveyor needs attention; خط الإنتاج يحتاج إلى مراجعة' AS t) b`,
		`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, reply_count, created_at, updated_at)
		SELECT gen_random_uuid(), t.id, ($1::uuid[])[1 + g % 20], 0, 'Check the *bearing* ' || g, '<p>Check the <em>bearing</em> ' || g || '</p>', 1,
			t.created_at + g * interval '1 minute', t.created_at + g * interval '1 minute'
		FROM forum_topics t, generate_series(1, 10) g`,
		`INSERT INTO forum_posts (id, topic_id, parent_id, author_id, depth, body, body_html, created_at, updated_at)
		SELECT gen_random_uuid(), r.topic_id, r.id, ($1::uuid[])[1], 1, 'and the grease', '<p>and the grease</p>',
			r.created_at + interval '1 second', r.created_at + interval '1 second'
		FROM forum_posts r WHERE r.parent_id IS NULL`,
		`UPDATE forum_topics t SET reply_count = 20`,
		`VACUUM ANALYZE`,
		`CHECKPOINT`,
	} {
		var args []any
		switch {
		case strings.Contains(sql, "$2"):
			args = []any{people, n}
		case strings.Contains(sql, "$1"):
			args = []any{people}
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	var topics []string
	rows, err := pool.Query(ctx, `SELECT id::text FROM forum_topics ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		topics = append(topics, id)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	p := identity.Principal{UserID: people[0], OrganizationID: org.ID, EmailVerified: true}
	ops := []struct {
		name string
		run  func(svc *forum.Service, i int) error
	}{
		{"topic", func(svc *forum.Service, i int) error {
			_, err := svc.Topic(ctx, p, topics[i%len(topics)])
			return err
		}},
		{"replies", func(svc *forum.Service, i int) error {
			pg, err := svc.Replies(ctx, p, topics[i%len(topics)], "", 20, "")
			if err == nil && (len(pg.Items) < 10 || pg.Items[0].Content == "" || pg.Items[0].Replies[0].Content == "") {
				b.Fatalf("a page without its bodies: %+v", pg.Items)
			}
			return err
		}},
		{"reply", func(svc *forum.Service, i int) error {
			_, err := svc.Reply(ctx, p, topics[(i*7)%len(topics)], forum.NewReply{Content: "Measured reply " + strconv.Itoa(i)})
			return err
		}},
	}
	measure := func(backend string, svc *forum.Service) {
		for _, op := range ops {
			b.Run(backend+"/"+op.name, func(b *testing.B) {
				pgtest.Measure(b, func(i int) error { return op.run(svc, i) })
			})
		}
	}
	measure("postgres", newService(forumdb.New(pool)))

	bodies := bodiesIn(b)
	start := time.Now()
	m, err := forumdb.MigrateBodiesToStore(ctx, pool, bodies, 500)
	if err != nil || !m.OK() {
		b.Fatalf("moving the bodies: %+v %v", m, err)
	}
	b.Logf("moved %d posts (%d versions) to FerretDB in %s", m.Posts, m.Versions, time.Since(start).Round(time.Millisecond))
	measure("mongo", newService(forumdb.WithBodies(pool, bodies, logging.Discard())))
}
