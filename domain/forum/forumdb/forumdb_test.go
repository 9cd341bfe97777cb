package forumdb_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestCountsStayExactUnderConcurrency: likes (each user twice, at once), unlikes and replies
// racing each other leave the counters equal to the rows they count.
func TestCountsStayExactUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		pool, _ := pgtest.New(t)
		svc := forum.NewService(forum.Deps{Store: open(t, pool), Renderer: forum.Markdown{MD: markdown.New()}})
		org := identitytest.NewOrg(t, pool)
		people := org.Members(t, pool, 12)
		topic, err := svc.CreateTopic(ctx, org.Owner, forum.NewTopic{Title: "Counting under load", Content: "body", Kind: forum.KindQuestion})
		require.NoError(t, err)

		var wg sync.WaitGroup
		for _, p := range people {
			for range 2 {
				wg.Go(func() {
					_, err := svc.Like(ctx, p, "topic", topic.ID, true)
					assert.NoError(t, err)
				})
			}
			wg.Go(func() {
				_, err := svc.Reply(ctx, p, topic.ID, forum.NewReply{Content: "me too"})
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		got, err := svc.Topic(ctx, org.Owner, topic.ID)
		require.NoError(t, err)
		assert.Equal(t, 12, got.Likes)
		assert.Equal(t, 12, got.Replies)

		for _, p := range people[:5] {
			wg.Go(func() {
				n, err := svc.Like(ctx, p, "topic", topic.ID, false)
				assert.NoError(t, err)
				assert.GreaterOrEqual(t, n, 7)
			})
		}
		wg.Wait()
		var rows int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM forum_likes WHERE target_id = $1`, topic.ID).Scan(&rows))
		got, err = svc.Topic(ctx, org.Owner, topic.ID)
		require.NoError(t, err)
		assert.Equal(t, 7, got.Likes)
		assert.Equal(t, rows, got.Likes)
	})
}

// TestReplyTreeAndPages: replies nest to any depth; the topic's page shows two levels, the
// deeper ones load by parent, and pages follow each other without gaps or repeats.
func TestReplyTreeAndPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		pool, _ := pgtest.New(t)
		svc := forum.NewService(forum.Deps{Store: open(t, pool), Renderer: forum.Markdown{MD: markdown.New()}})
		org := identitytest.NewOrg(t, pool)
		p := org.Owner
		topic, err := svc.CreateTopic(ctx, p, forum.NewTopic{Title: "A deep thread", Content: "body"})
		require.NoError(t, err)

		var top []string
		for range 25 {
			r, err := svc.Reply(ctx, p, topic.ID, forum.NewReply{Content: "top"})
			require.NoError(t, err)
			top = append(top, r.ID)
		}
		parent := top[0]
		for depth := 1; depth <= 4; depth++ {
			for i := range 5 {
				r, err := svc.Reply(ctx, p, topic.ID, forum.NewReply{Content: "nested", ParentID: &parent})
				require.NoError(t, err)
				assert.Equal(t, depth, r.Depth)
				if i == 4 {
					parent = r.ID
				}
			}
		}

		seen := allPages(t, func(cursor string) (page.Page[forum.Reply], error) {
			return svc.Replies(ctx, p, topic.ID, "", 10, cursor)
		}, func(r forum.Reply) string { return r.ID })
		assert.Equal(t, top, seen, "every top-level reply once, oldest first")

		first, err := svc.Replies(ctx, p, topic.ID, "", 1, "")
		require.NoError(t, err)
		require.Len(t, first.Items, 1)
		assert.Equal(t, 5, first.Items[0].ReplyCount)
		assert.Len(t, first.Items[0].Replies, 3, "the first three replies of a reply come with it")
		deeper, err := svc.Replies(ctx, p, topic.ID, top[0], 0, "")
		require.NoError(t, err)
		assert.Len(t, deeper.Items, 5, "the rest load by parent")
	})
}

// TestHotAndUnanswered: the hot ranking puts a lively new topic above an old one with more likes,
// its pages follow each other; unanswered lists questions nobody replied to.
func TestHotAndUnanswered(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		pool, _ := pgtest.New(t)
		svc := forum.NewService(forum.Deps{Store: open(t, pool), Renderer: forum.Markdown{MD: markdown.New()}})
		org := identitytest.NewOrg(t, pool)
		people := org.Members(t, pool, 5)
		topic := func(title, kind string) string {
			tp, err := svc.CreateTopic(ctx, org.Owner, forum.NewTopic{Title: title, Content: "body", Kind: kind})
			require.NoError(t, err)
			return tp.ID
		}
		old, lively, quiet := topic("Old and liked", forum.KindQuestion), topic("New and liked", forum.KindQuestion), topic("New and quiet", forum.KindQuestion)
		for _, p := range people {
			_, err := svc.Like(ctx, p, "topic", old, true)
			require.NoError(t, err)
		}
		_, err := svc.Like(ctx, people[0], "topic", lively, true)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `UPDATE forum_topics SET created_at = now() - interval '100 hours' WHERE id = $1`, old)
		require.NoError(t, err)
		_, err = svc.Reply(ctx, people[1], lively, forum.NewReply{Content: "an answer"})
		require.NoError(t, err)

		order := allPages(t, func(cursor string) (page.Page[forum.Topic], error) {
			return svc.Topics(ctx, org.Owner, forum.Query{Sort: forum.SortHot}, 1, cursor)
		}, func(tp forum.Topic) string { return tp.ID })
		assert.Equal(t, []string{lively, quiet, old}, order)

		pg, err := svc.Topics(ctx, org.Owner, forum.Query{Sort: forum.SortUnanswered}, 0, "")
		require.NoError(t, err)
		var unanswered []string
		for _, tp := range pg.Items {
			unanswered = append(unanswered, tp.ID)
		}
		assert.Equal(t, []string{quiet, old}, unanswered)
		require.NotNil(t, pg.Total)
		assert.Equal(t, 2, *pg.Total, "the unanswered are counted")
		assert.False(t, pg.TotalCapped)

		pg, err = svc.Topics(ctx, org.Owner, forum.Query{}, 1, "")
		require.NoError(t, err)
		require.NotNil(t, pg.Total)
		assert.Equal(t, 3, *pg.Total, "every topic, from the categories' counters")
		pg, err = svc.Topics(ctx, org.Owner, forum.Query{}, 1, *pg.NextCursor)
		require.NoError(t, err)
		assert.Nil(t, pg.Total, "with the first page only")
	})
}

// allPages follows a list's cursors to its end and returns the ids of what it listed.
func allPages[T any](t *testing.T, list func(cursor string) (page.Page[T], error), id func(T) string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		pg, err := list(cursor)
		require.NoError(t, err)
		for _, it := range pg.Items {
			out = append(out, id(it))
		}
		if pg.NextCursor == nil {
			return out
		}
		cursor = *pg.NextCursor
	}
}

// TestHotScoreOrder: the hot list ranks by log10(2 × likes + replies + 1) plus the creation
// time in units of 12.5 hours: more engagement climbs, age sinks, ten times the engagement is
// worth 12.5 hours; the score follows the counters at once, does not move with the clock, and
// the pages (also of one category) follow each other without repeats; deleted topics are out.
func TestHotScoreOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		pool, _ := pgtest.New(t)
		svc := forum.NewService(forum.Deps{Store: open(t, pool), Renderer: forum.Markdown{MD: markdown.New()}})
		org := identitytest.NewOrg(t, pool)
		topic := func(title string, hoursOld, likes, replies int, category string) string {
			tp, err := svc.CreateTopic(ctx, org.Owner, forum.NewTopic{Title: title, Content: "body", Category: category})
			require.NoError(t, err)
			_, err = pool.Exec(ctx, `UPDATE forum_topics SET created_at = now() - make_interval(hours => $2),
				like_count = $3, reply_count = $4 WHERE id = $1`, tp.ID, hoursOld, likes, replies)
			require.NoError(t, err)
			return tp.ID
		}
		// Engagements 1, 10 (2 × 4 + 1 + 1), 100 (2 × 45 + 9 + 1), 21 (2 × 10 + 1).
		fresh := topic("Fresh and quiet", 0, 0, 0, "maintenance")
		tenX := topic("Ten times as engaged, 6 hours old", 6, 4, 1, "automation")
		hundredX := topic("A hundred times, a day old", 24, 45, 9, "maintenance")
		dayOld := topic("Liked but a day old", 24, 10, 0, "maintenance")
		twoDays := topic("Hundred times, two days old", 48, 45, 9, "automation")
		gone := topic("Deleted", 0, 40, 40, "maintenance")
		require.NoError(t, svc.DeleteTopic(ctx, org.Owner, gone))

		hot := func(category string) []string {
			return allPages(t, func(cursor string) (page.Page[forum.Topic], error) {
				return svc.Topics(ctx, org.Owner, forum.Query{Sort: forum.SortHot, Category: category}, 2, cursor)
			}, func(tp forum.Topic) string { return tp.ID })
		}
		// Scores relative to a fresh quiet topic, in hours: 10× at 6 h = +12.5 - 6 = +6.5; 100× at
		// 24 h = +25 - 24 = +1; 21× at 24 h = +16.5 - 24 = -7.5; 100× at 48 h = +25 - 48 = -23.
		assert.Equal(t, []string{tenX, hundredX, fresh, dayOld, twoDays}, hot(""))
		assert.Equal(t, []string{hundredX, fresh, dayOld}, hot("maintenance"))

		var before, after float64
		require.NoError(t, pool.QueryRow(ctx, `SELECT hot_score FROM forum_topics WHERE id = $1`, fresh).Scan(&before))
		require.NoError(t, pool.QueryRow(ctx, `SELECT hot_score FROM forum_topics WHERE id = $1`, fresh).Scan(&after))
		assert.Equal(t, before, after, "the score does not move with the clock")
		// Thirty likes (engagement 61, +22 hours) lift the quiet topic above everything.
		people := org.Members(t, pool, 30)
		for _, p := range people {
			_, err := svc.Like(ctx, p, "topic", fresh, true)
			require.NoError(t, err)
		}
		require.NoError(t, pool.QueryRow(ctx, `SELECT hot_score FROM forum_topics WHERE id = $1`, fresh).Scan(&after))
		assert.InDelta(t, 1.785, after-before, 0.001, "log10(61)")
		assert.Equal(t, []string{fresh, tenX, hundredX, dayOld, twoDays}, hot(""))
	})
}

// TestSearchRanksAndPages: a title match ranks above a body match, pages follow each other
// without repeats, filters apply, and a word matching more topics than the search ranks is
// ranked among the most recently active of them only.
func TestSearchRanksAndPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		pool, _ := pgtest.New(t)
		svc := forum.NewService(forum.Deps{Store: open(t, pool), Renderer: forum.Markdown{MD: markdown.New()}})
		org := identitytest.NewOrg(t, pool)
		bound := forumdb.SearchCandidates
		// bound + 10 topics with "gearbox" in the body, active one minute apart (n = 1 the most
		// recent), alternately in two categories; the four oldest also have it in the title.
		_, err := pool.Exec(ctx, `INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html,
			excerpt, body_text, created_at, updated_at, last_activity_at)
			SELECT gen_random_uuid(), CASE WHEN n % 2 = 0 THEN 'maintenance' ELSE 'general' END, $1, 'discussion',
				CASE WHEN n > $2 + 6 THEN 'Gearbox noise ' ELSE 'Line report ' END || n, b, b, b, b,
				now() - make_interval(mins => n), now() - make_interval(mins => n), now() - make_interval(mins => n)
			FROM generate_series(1, $2 + 10) n, LATERAL (SELECT 'the gearbox on line ' || n || ' & <the> press' AS b) x`,
			org.Owner.UserID, bound)
		require.NoError(t, err)
		title, err := svc.CreateTopic(ctx, org.Owner, forum.NewTopic{Title: "Gearbox oil <grade>", Content: "which oil?"})
		require.NoError(t, err)

		first, err := svc.Search(ctx, org.Owner, "gearbox", forum.Query{}, 5, "")
		require.NoError(t, err)
		require.Len(t, first.Items, 5)
		assert.Equal(t, title.ID, first.Items[0].Topic.ID, "the title match, and the most recently active")
		assert.Equal(t, "<mark>Gearbox</mark> oil &lt;grade&gt;", first.Items[0].Title)
		assert.Contains(t, first.Items[1].Highlight, "&amp; &lt;the&gt;")

		seen := allPages(t, func(cursor string) (page.Page[forum.Hit], error) {
			return svc.Search(ctx, org.Owner, "gearbox", forum.Query{}, 100, cursor)
		}, func(h forum.Hit) string { return h.Topic.ID })
		assert.Len(t, seen, bound, "the most recently active matches, as many as the bound")
		unique := map[string]bool{}
		for _, id := range seen {
			unique[id] = true
		}
		assert.Len(t, unique, bound, "no repeats across pages")
		var oldest int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM forum_topics WHERE id = ANY($1::text[]::uuid[])
			AND title LIKE 'Gearbox noise%'`, seen).Scan(&oldest))
		assert.Zero(t, oldest, "the oldest title matches are beyond the candidates")

		maint := allPages(t, func(cursor string) (page.Page[forum.Hit], error) {
			return svc.Search(ctx, org.Owner, "gearbox", forum.Query{Category: "maintenance"}, 100, cursor)
		}, func(h forum.Hit) string { return h.Topic.ID })
		assert.Len(t, maint, (bound+10)/2, "a filter applies before the bound")

		rare, err := svc.Search(ctx, org.Owner, "oil", forum.Query{}, 5, "")
		require.NoError(t, err)
		require.Len(t, rare.Items, 1)
		assert.Equal(t, title.ID, rare.Items[0].Topic.ID)
	})
}
