package forumdb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/forum/forummongo"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestMain runs the tests with a PostgreSQL template and a FerretDB (bin/ferretdb, built if
// missing), for the forum's bodies in MongoDB.
func TestMain(m *testing.M) { os.Exit(mongotest.Around(func() int { return pgtest.Run(m) })) }

// opener builds the store under test on pool.
type opener func(t *testing.T, pool *pgxpool.Pool) *forumdb.Store

// bodiesIn is a forum.Bodies on a MongoDB database of the test's own.
func bodiesIn(t testing.TB) *forummongo.Store {
	db, _ := mongotest.Database(t)
	s := forummongo.New(db)
	_, err := s.EnsureSchema(context.Background())
	require.NoError(t, err)
	return s
}

// eachBackend runs a test of the store with the bodies on the rows and with the bodies in
// MongoDB: what the forum does must not depend on where the bodies are.
func eachBackend(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("postgres", func(t *testing.T) {
		test(t, func(_ *testing.T, pool *pgxpool.Pool) *forumdb.Store { return forumdb.New(pool) })
	})
	t.Run("bodies in mongo", func(t *testing.T) {
		test(t, func(t *testing.T, pool *pgxpool.Pool) *forumdb.Store {
			return forumdb.WithBodies(pool, bodiesIn(t), logging.Discard())
		})
	})
}

func newService(store forum.Store) *forum.Service {
	return forum.NewService(forum.Deps{Store: store, Renderer: forum.Markdown{MD: markdown.New()}})
}

// flaky is a Bodies store whose next Put fails when told to: the fault a crash between the two
// stores leaves (a write committed, its body not stored).
type flaky struct {
	forum.Bodies
	failNext atomic.Bool
}

var errDown = errors.New("document store unreachable")

func (f *flaky) Put(ctx context.Context, k forum.Key, version int, b forum.Body) error {
	if f.failNext.CompareAndSwap(true, false) {
		return errDown
	}
	return f.Bodies.Put(ctx, k, version, b)
}

func queued(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM forum_body_outbox`).Scan(&n))
	return n
}

func contents(revs []forum.Revision) []string {
	out := make([]string, len(revs))
	for i, r := range revs {
		out[i] = fmt.Sprintf("%d %s", r.Version, r.Content)
		if r.Title != nil {
			out[i] += " / " + *r.Title
		}
		if r.Current {
			out[i] += " (current)"
		}
	}
	return out
}

// TestBodiesLiveInTheStore: with MongoDB, a topic's and a reply's bodies are stored there, one
// document per version, and not on their rows, which keep what search reads; the forum reads
// them back whole (nested replies too); an edit of the title alone carries the body into the next
// version; an edit that changes nothing makes none; the revisions read from the store.
func TestBodiesLiveInTheStore(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	bodies := bodiesIn(t)
	store := forumdb.WithBodies(pool, bodies, logging.Discard())
	svc := newService(store)
	org := identitytest.NewOrg(t, pool)
	p := org.Owner

	topic, err := svc.CreateTopic(ctx, p, forum.NewTopic{Title: "Bearings on the kiln fan", Content: "We see **vibration** at 30 Hz. الاهتزاز عالٍ"})
	require.NoError(t, err)
	reply, err := svc.Reply(ctx, p, topic.ID, forum.NewReply{Content: "Check the *alignment* first."})
	require.NoError(t, err)
	nested, err := svc.Reply(ctx, p, topic.ID, forum.NewReply{Content: "And the grease.", ParentID: &reply.ID})
	require.NoError(t, err)

	var topicOnRow, replyOnRow, searchable bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT body IS NOT NULL OR body_html IS NOT NULL FROM forum_topics WHERE id = $1`, topic.ID).Scan(&topicOnRow))
	require.NoError(t, pool.QueryRow(ctx, `SELECT body IS NOT NULL OR body_html IS NOT NULL,
		search @@ plainto_tsquery('english', 'alignment') FROM forum_posts WHERE id = $1`, reply.ID).Scan(&replyOnRow, &searchable))
	assert.False(t, topicOnRow, "the topic's body is in the store")
	assert.False(t, replyOnRow, "the reply's body is in the store")
	assert.True(t, searchable, "the row keeps the text search reads")
	assert.Zero(t, queued(t, pool), "every body was delivered")

	tk := forum.TopicKey(topic.ID)
	histories, err := bodies.History(ctx, []forum.Key{tk})
	require.NoError(t, err)
	history := histories[tk]
	require.Len(t, history, 1)
	assert.Equal(t, "We see **vibration** at 30 Hz. الاهتزاز عالٍ", history[0].Markdown)
	assert.Equal(t, "Bearings on the kiln fan", *history[0].Title)

	got, err := svc.Topic(ctx, p, topic.ID)
	require.NoError(t, err)
	assert.Equal(t, topic.Content, got.Content)
	assert.Contains(t, got.ContentHTML, "<strong>vibration</strong>")
	page, err := svc.Replies(ctx, p, topic.ID, "", 10, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "Check the *alignment* first.", page.Items[0].Content)
	assert.Contains(t, page.Items[0].ContentHTML, "<em>alignment</em>")
	require.Len(t, page.Items[0].Replies, 1)
	assert.Equal(t, nested.ID, page.Items[0].Replies[0].ID)
	assert.Equal(t, "And the grease.", page.Items[0].Replies[0].Content)

	// The title alone changes: the body is carried into version 2.
	title := "Bearings on the kiln fan (solved)"
	_, err = svc.UpdateTopic(ctx, p, topic.ID, forum.TopicUpdate{Title: &title})
	require.NoError(t, err)
	revs, err := svc.TopicRevisions(ctx, p, topic.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"1 We see **vibration** at 30 Hz. الاهتزاز عالٍ / Bearings on the kiln fan",
		"2 We see **vibration** at 30 Hz. الاهتزاز عالٍ / Bearings on the kiln fan (solved) (current)",
	}, contents(revs))
	histories, err = bodies.History(ctx, []forum.Key{tk})
	require.NoError(t, err)
	history = histories[tk]
	require.Len(t, history, 2)
	assert.Equal(t, title, *history[1].Title)

	// A reply edited twice, then saved unchanged: two versions, no third.
	for _, c := range []string{"Check the alignment and the belt.", "Check the alignment and the belt."} {
		_, err = svc.EditReply(ctx, p, reply.ID, c)
		require.NoError(t, err)
	}
	revs, err = svc.ReplyRevisions(ctx, p, reply.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"1 Check the *alignment* first.", "2 Check the alignment and the belt. (current)"}, contents(revs))
	r, err := store.Reply(ctx, p.UserID, reply.ID)
	require.NoError(t, err)
	assert.Equal(t, "Check the alignment and the belt.", r.Content)
	var searchableNow bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT search @@ plainto_tsquery('english', 'belt') FROM forum_posts WHERE id = $1`, reply.ID).Scan(&searchableNow))
	assert.True(t, searchableNow, "the edit's text is what search reads")
}

// TestForumCrashBetweenStores: a post or edit whose body cannot be stored still answers OK (it
// committed); it reads back with its body, and its revisions list, from the outbox; the healer
// stores it later and the outbox empties, with the same answers.
func TestForumCrashBetweenStores(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	bodies := &flaky{Bodies: bodiesIn(t)}
	store := forumdb.WithBodies(pool, bodies, logging.Discard())
	svc := newService(store)
	org := identitytest.NewOrg(t, pool)
	p := org.Owner

	topic, err := svc.CreateTopic(ctx, p, forum.NewTopic{Title: "Compressor trips at night", Content: "First version."})
	require.NoError(t, err)
	bodies.failNext.Store(true)
	content := "Second version, written while the store was down."
	_, err = svc.UpdateTopic(ctx, p, topic.ID, forum.TopicUpdate{Content: &content})
	require.NoError(t, err, "the edit committed: the store's failure is not the caller's")
	bodies.failNext.Store(true)
	reply, err := svc.Reply(ctx, p, topic.ID, forum.NewReply{Content: "A reply the store never saw."})
	require.NoError(t, err)
	assert.Equal(t, 2, queued(t, pool))

	check := func(when string) {
		got, err := svc.Topic(ctx, p, topic.ID)
		require.NoError(t, err, when)
		assert.Equal(t, content, got.Content, when)
		revs, err := svc.TopicRevisions(ctx, p, topic.ID)
		require.NoError(t, err, when)
		assert.Equal(t, []string{"1 First version. / Compressor trips at night",
			"2 " + content + " / Compressor trips at night (current)"}, contents(revs), when)
		page, err := svc.Replies(ctx, p, topic.ID, "", 10, "")
		require.NoError(t, err, when)
		require.Len(t, page.Items, 1, when)
		assert.Equal(t, reply.ID, page.Items[0].ID, when)
		assert.Equal(t, "A reply the store never saw.", page.Items[0].Content, when)
	}
	check("before healing")

	// A young row is left to its own delivery; an old enough one is healed.
	n, err := store.Heal(ctx, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = store.Heal(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Zero(t, queued(t, pool))
	check("after healing")

	// A retried Put of a delivered version changes nothing.
	require.NoError(t, bodies.Put(ctx, forum.ReplyKey(reply.ID, topic.ID), 1, forum.Body{Markdown: "late", HTML: "late", WrittenAt: time.Now()}))
	check("after a late retry")
}

// TestRowsMoveToTheStoreOnEdit: posts written before MongoDB was configured keep their bodies and
// revisions on their rows and read as before; an edit moves the body to the store, and the
// revisions read on from the rows' history into the store's without a gap.
func TestRowsMoveToTheStoreOnEdit(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	org := identitytest.NewOrg(t, pool)
	p := org.Owner
	before := newService(forumdb.New(pool))
	topic, err := before.CreateTopic(ctx, p, forum.NewTopic{Title: "Written before MongoDB", Content: "v1"})
	require.NoError(t, err)
	v2 := "v2"
	_, err = before.UpdateTopic(ctx, p, topic.ID, forum.TopicUpdate{Content: &v2})
	require.NoError(t, err)
	reply, err := before.Reply(ctx, p, topic.ID, forum.NewReply{Content: "a reply on its row"})
	require.NoError(t, err)

	store := forumdb.WithBodies(pool, bodiesIn(t), logging.Discard())
	svc := newService(store)
	got, err := svc.Topic(ctx, p, topic.ID)
	require.NoError(t, err)
	assert.Equal(t, "v2", got.Content)
	r, err := store.Reply(ctx, p.UserID, reply.ID)
	require.NoError(t, err)
	assert.Equal(t, "a reply on its row", r.Content)

	v3 := "v3"
	_, err = svc.UpdateTopic(ctx, p, topic.ID, forum.TopicUpdate{Content: &v3})
	require.NoError(t, err)
	var onRow bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT body IS NOT NULL FROM forum_topics WHERE id = $1`, topic.ID).Scan(&onRow))
	assert.False(t, onRow, "the edit moved the body to the store")
	revs, err := svc.TopicRevisions(ctx, p, topic.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"1 v1 / Written before MongoDB", "2 v2 / Written before MongoDB", "3 v3 / Written before MongoDB (current)"}, contents(revs))
	got, err = svc.Topic(ctx, p, topic.ID)
	require.NoError(t, err)
	assert.Equal(t, "v3", got.Content)
}

// TestBodiesStore holds forummongo to forum.Bodies' contract: a version is stored once (a retry
// changes nothing), the highest is the latest, every version is history in order, concurrent
// writers of different versions all land, text round-trips unchanged, and a malformed key is
// refused.
func TestBodiesStore(t *testing.T) {
	ctx := context.Background()
	s := bodiesIn(t)
	_, err := s.EnsureSchema(ctx)
	require.NoError(t, err, "ensuring the schema again changes nothing")
	k := forum.ReplyKey("9b2f6c1e-0000-4000-8000-000000000001", "9b2f6c1e-0000-4000-8000-0000000000ff")
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	require.NoError(t, s.Put(ctx, k, 1, forum.Body{Markdown: "one", HTML: "<p>one</p>", WrittenAt: at}))
	require.NoError(t, s.Put(ctx, k, 1, forum.Body{Markdown: "retry", HTML: "<p>retry</p>", WrittenAt: at}))
	require.NoError(t, s.Put(ctx, k, 3, forum.Body{Markdown: "ثلاثة «٣»", HTML: "<p>ثلاثة «٣»</p>", WrittenAt: at.Add(2 * time.Hour)}))
	require.NoError(t, s.Put(ctx, k, 2, forum.Body{Markdown: "two, late", HTML: "<p>two</p>", WrittenAt: at.Add(time.Hour)}))

	latest, err := s.Latest(ctx, []forum.Key{k, forum.ReplyKey("9b2f6c1e-0000-4000-8000-000000000009", k.Topic)})
	require.NoError(t, err)
	require.Len(t, latest, 1, "a post with no body is left out")
	assert.Equal(t, 3, latest[k].Version)
	assert.Equal(t, "ثلاثة «٣»", latest[k].Markdown)
	assert.Equal(t, at.Add(2*time.Hour), latest[k].WrittenAt)

	histories, err := s.History(ctx, []forum.Key{k})
	require.NoError(t, err)
	var got []string
	for _, h := range histories[k] {
		got = append(got, fmt.Sprintf("%d %s", h.Version, h.Markdown))
	}
	assert.Equal(t, []string{"1 one", "2 two, late", "3 ثلاثة «٣»"}, got)

	c := forum.TopicKey("9b2f6c1e-0000-4000-8000-000000000002")
	title := "concurrent"
	var wg sync.WaitGroup
	for v := 1; v <= 20; v++ {
		wg.Go(func() {
			assert.NoError(t, s.Put(ctx, c, v, forum.Body{Title: &title, Markdown: fmt.Sprint(v), HTML: fmt.Sprint(v), WrittenAt: at}))
		})
	}
	wg.Wait()
	histories, err = s.History(ctx, []forum.Key{c})
	require.NoError(t, err)
	assert.Len(t, histories[c], 20, "every version landed")
	latest, err = s.Latest(ctx, []forum.Key{c})
	require.NoError(t, err)
	assert.Equal(t, 20, latest[c].Version)
	assert.Equal(t, "concurrent", *latest[c].Title)
	histories, err = s.History(ctx, []forum.Key{k, c})
	require.NoError(t, err)
	assert.Len(t, histories[k], 3, "posts of several threads at once")
	assert.Len(t, histories[c], 20)

	for _, bad := range []struct {
		k       forum.Key
		version int
	}{{forum.Key{Type: "page", ID: k.ID, Topic: k.Topic}, 1}, {forum.Key{Type: forum.TypeTopic}, 1}, {forum.Key{Type: forum.TypeReply, ID: k.ID}, 1}, {k, 0}} {
		err := s.Put(ctx, bad.k, bad.version, forum.Body{Markdown: "x", HTML: "x", WrittenAt: at})
		assert.Equal(t, errs.Validation, errs.CodeOf(err), "%+v", bad)
	}
}
