package search_test

import (
	"context"
	"strings"
	"testing"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/location"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/people/peopledb"
	"github.com/p2psandbox/hub/domain/search"
	"github.com/p2psandbox/hub/domain/search/searchdb"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// BenchmarkSearch measures suggestions while typing and one search of every type on 100,000
// topics and 100,000 published use cases whose titles mix twelve plant-floor words in English
// and Arabic, and 2,000 people:
//
//	go test ./domain/search/ -run '^$' -bench Search -benchtime 50x -timeout 30m
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	org := identitytest.NewOrg(b, pool)
	members := identitytest.IDs(org.Members(b, pool, 2000))
	words := `ARRAY['pump','sensor','vibration','quality','audit','robot','conveyor','مضخة','صيانة','الجودة','حساس','خط']`
	for _, sql := range []string{
		`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
			created_at, updated_at, last_activity_at)
		SELECT gen_random_uuid(),
			(ARRAY['automation','quality-management','maintenance','artificial-intelligence','internet-of-things','general'])[1 + i % 6],
			($1::uuid[])[1 + i % 2000], 'question',
			'Line ' || i % 40 || ': the ' || w[1 + i % 12] || ' on the ' || w[1 + (i / 7) % 12] || ' ' || i, 'b', 'b', 'b',
			'the ' || w[1 + (i / 3) % 12] || ' needs attention',
			now() - make_interval(mins => i), now(), now() - make_interval(mins => i)
		FROM generate_series(1, 100000) i, (SELECT ` + words + ` AS w) s`,
		`INSERT INTO use_cases (id, organization_id, author_id, status, category, title, published_at, created_at, updated_at)
		SELECT gen_random_uuid(), $2, ($1::uuid[])[1 + i % 2000], 'published', 'Automation',
			w[1 + i % 12] || ' ' || w[1 + (i / 5) % 12] || ' programme ' || i,
			now() - make_interval(mins => i), now() - make_interval(mins => i), now()
		FROM generate_series(1, 100000) i, (SELECT ` + words + ` AS w) s`,
		`VACUUM ANALYZE`,
		`CHECKPOINT`,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = append(args, members)
		}
		if strings.Contains(sql, "$2") {
			args = append(args, org.ID)
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("seeding: %v\n%s", err, sql)
		}
	}
	cities, err := location.New()
	if err != nil {
		b.Fatal(err)
	}
	own := searchdb.New(pool)
	svc := &search.Service{
		Topics:        forum.NewService(forum.Deps{Store: forumdb.New(pool)}),
		Replies:       own,
		UseCases:      usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)}),
		People:        people.NewService(peopledb.New(pool)),
		Organizations: own,
		Messages:      messaging.NewService(messaging.Deps{Store: messagingdb.New(pool)}),
		Cities:        cities,
		Titles:        own,
	}
	p := identity.Principal{UserID: members[0], OrganizationID: org.ID, EmailVerified: true}
	for _, q := range []string{"pum", "vibra", "conveyor robot", "صيان", "riy"} {
		b.Run("suggest/"+q, func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				res, err := svc.Suggest(ctx, p, q)
				if err == nil && res.Partial {
					b.Logf("partial answer for %q", q)
				}
				return err
			})
		})
	}
	for _, q := range []string{"vibration", "صيانه"} {
		b.Run("search-all/"+q, func(b *testing.B) {
			pgtest.Measure(b, func(int) error {
				_, err := svc.Search(ctx, p, q, search.TypeAll, 0, "")
				return err
			})
		})
	}
}
