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

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestCountsStayExactUnderConcurrency: likes (each user twice, at once), unlikes and replies
// racing each other leave the counters equal to the rows they count.
func TestCountsStayExactUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := forum.NewService(forum.Deps{Store: forumdb.New(pool), Renderer: forum.Markdown{MD: markdown.New()}})
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
}

// TestReplyTreeAndPages: replies nest to any depth; the topic's page shows two levels, the
// deeper ones load by parent, and pages follow each other without gaps or repeats.
func TestReplyTreeAndPages(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := forum.NewService(forum.Deps{Store: forumdb.New(pool), Renderer: forum.Markdown{MD: markdown.New()}})
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
}

// TestHotAndUnanswered: the hot ranking puts a lively new topic above an old one with more likes,
// its pages follow each other; unanswered lists questions nobody replied to.
func TestHotAndUnanswered(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := forum.NewService(forum.Deps{Store: forumdb.New(pool), Renderer: forum.Markdown{MD: markdown.New()}})
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
