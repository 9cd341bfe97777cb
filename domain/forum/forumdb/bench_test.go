package forumdb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// seedForum makes a forum of 100,000 topics by 200 people over a year (half of them questions,
// a third of those answered, varied likes, views and tags, bodies of plant-floor sentences in
// English and Arabic) and 1,000,000 replies, one topic holding 500 of them. It returns the
// service, a viewer and the big topic.
func seedForum(b *testing.B) (*forum.Service, identity.Principal, string) {
	b.Helper()
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	org := identitytest.NewOrg(b, pool)
	people := identitytest.IDs(org.Members(b, pool, 200))
	start := time.Now()
	for _, sql := range []string{`
		INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text, tags,
			like_count, view_count, created_at, updated_at, last_activity_at)
		SELECT gen_random_uuid(),
			(ARRAY['automation','quality-management','maintenance','artificial-intelligence','internet-of-things','general'])[1 + i % 6],
			($1::uuid[])[1 + i % 200], CASE WHEN i % 2 = 0 THEN 'question' ELSE 'discussion' END,
			s.w[1 + i % 12] || ' ' || s.w[1 + (i / 12) % 12] || ' topic ' || i, b.t, '<p>' || b.t || '</p>', left(b.t, 200), b.t,
			ARRAY[s.w[1 + i % 12]], (i * 7) % 40, (i * 13) % 900,
			now() - (i || ' minutes')::interval * 5, now() - (i || ' minutes')::interval * 5, now() - (i || ' minutes')::interval * 5
		FROM generate_series(1, 100000) i,
		     (SELECT ARRAY['pump','sensor','vibration','quality','audit','robot','conveyor','مضخة','صيانة','الجودة','حساس','خط'] AS w) s,
		     LATERAL (SELECT 'Line ' || i % 40 || ': the ' || s.w[1 + i % 12] || ' on the ' || s.w[1 + (i / 7) % 12] ||
		                     ' needs attention after the shift; خط الإنتاج ' || s.w[1 + (i / 3) % 12] || ' يحتاج إلى مراجعة' AS t) b`,
		`UPDATE forum_categories c SET topic_count = (SELECT count(*) FROM forum_topics t WHERE t.category_id = c.id)`,
		// Ten replies each for 100,000 topics but one, which has 500 (half of them nested).
		`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at)
		SELECT gen_random_uuid(), t.id, ($1::uuid[])[1 + (g + t.n) % 200], 0, 'a reply ' || g, '<p>a reply ' || g || '</p>',
		       t.created_at + (g || ' minutes')::interval, t.created_at + (g || ' minutes')::interval
		FROM (SELECT id, created_at, row_number() OVER () AS n FROM forum_topics) t, generate_series(1, 10) g
		WHERE t.n > 1`,
		`WITH big AS (SELECT id, created_at FROM forum_topics ORDER BY id LIMIT 1),
		 top AS (
			INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, reply_count, created_at, updated_at)
			SELECT gen_random_uuid(), big.id, ($1::uuid[])[1 + g % 200], 0, 'answer ' || g, '<p>answer ' || g || '</p>', 1,
			       big.created_at + (g || ' seconds')::interval, big.created_at + (g || ' seconds')::interval
			FROM big, generate_series(1, 250) g RETURNING id, topic_id, created_at)
		 INSERT INTO forum_posts (id, topic_id, parent_id, author_id, depth, body, body_html, created_at, updated_at)
		 SELECT gen_random_uuid(), top.topic_id, top.id, ($1::uuid[])[1], 1, 'nested', '<p>nested</p>', top.created_at, top.created_at FROM top`,
		`UPDATE forum_topics t SET reply_count = (SELECT count(*) FROM forum_posts r WHERE r.topic_id = t.id)`,
		`UPDATE forum_topics t SET best_answer_id = (SELECT r.id FROM forum_posts r WHERE r.topic_id = t.id LIMIT 1)
		 WHERE t.kind = 'question' AND (hashtext(t.id::text) % 3) = 0`,
		// What autovacuum does on a live server (it is off on this machine): the dead versions the
		// UPDATEs above left in every topic's row are cleared and the visibility map set; without
		// it a page of a tag's topics read 10,000 heap pages of dead rows.
		`VACUUM ANALYZE`,
		// Flush the seed's writes now rather than in a checkpoint that overlaps the timings.
		`CHECKPOINT`,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = append(args, people)
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	b.Logf("seeded 100,000 topics and 1,000,000 replies in %s", time.Since(start).Round(time.Second))
	var big string
	if err := pool.QueryRow(ctx, `SELECT id FROM forum_topics ORDER BY id LIMIT 1`).Scan(&big); err != nil {
		b.Fatal(err)
	}
	svc := forum.NewService(forum.Deps{Store: forumdb.New(pool), Renderer: forum.Markdown{MD: markdown.New()}})
	return svc, identity.Principal{UserID: people[0], OrganizationID: org.ID, EmailVerified: true}, big
}

// BenchmarkForum measures a page of the topic list for every sort and filter, a topic with 500
// replies, and search, on 100,000 topics and 1,000,000 replies:
//
//	go test ./domain/forum/forumdb/ -run xxx -bench Forum -benchtime 200x -timeout 30m
func BenchmarkForum(b *testing.B) {
	svc, p, big := seedForum(b)
	ctx := context.Background()
	yes, no := true, false
	lists := map[string]forum.Query{
		"list/activity":   {},
		"list/newest":     {Sort: forum.SortNewest},
		"list/liked":      {Sort: forum.SortLiked},
		"list/viewed":     {Sort: forum.SortViewed},
		"list/hot":        {Sort: forum.SortHot},
		"list/unanswered": {Sort: forum.SortUnanswered},
		"list/category":   {Category: "maintenance"},
		"list/tag":        {Tag: "pump"},
		"list/answered":   {Answered: &yes},
		"list/open":       {Answered: &no},
		"list/author":     {AuthorID: p.UserID},
	}
	for name, q := range lists {
		b.Run(name, func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				_, err := svc.Topics(ctx, p, q, 20, "")
				return err
			})
		})
	}
	b.Run("topic-500-replies", func(b *testing.B) {
		pgtest.Measure(b, func(int) error {
			_, err := svc.Topic(ctx, p, big)
			return err
		})
	})
	for _, text := range []string{"vibration", "صيانه", "pump sensor", "conveyor -audit"} {
		b.Run("search/"+text, func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				_, err := svc.Search(ctx, p, text, forum.Query{}, 20, "")
				return err
			})
		})
	}
}
