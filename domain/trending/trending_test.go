package trending_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/trending"
	"github.com/p2psandbox/hub/domain/trending/trendingdb"
	"github.com/p2psandbox/hub/domain/trending/trendingredis"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// world is a crafted forum and library: each topic's and use case's signals placed in time so
// that each window ranks them differently (see the expectations in TestTrendingOrder).
type world struct {
	pool  *pgxpool.Pool
	job   *trending.Job
	svc   *trending.Service
	cache *trendingredis.Cache
	ids   map[string]string
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	rdb, prefix := redistest.New(t)
	org := identitytest.NewOrg(t, pool)
	people := identitytest.IDs(org.Members(t, pool, 12))
	w := &world{pool: pool, ids: map[string]string{}, now: time.Now().UTC().Truncate(time.Second)}
	ago := func(h float64) time.Time { return w.now.Add(-time.Duration(h * float64(time.Hour))) }
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	topic := func(name, category string, created time.Time, views int, hidden bool) {
		id := uuid.NewString()
		w.ids[name] = id
		exec(`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
			view_count, created_at, updated_at, last_activity_at) VALUES ($1, $2, $3, 'question', $4, 'b', 'b', 'b', 'b', $5, $6, $6, $6)`,
			id, category, people[0], name, views, created)
		if hidden {
			exec(`UPDATE forum_topics SET hidden_by = $2, hidden_reason = 'x' WHERE id = $1`, id, people[0])
		}
	}
	replies := func(name string, n int, at time.Time) {
		for i := range n {
			exec(`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at)
				VALUES ($1, $2, $3, 0, 'r', 'r', $4, $4)`, uuid.NewString(), w.ids[name], people[i%len(people)], at)
		}
	}
	topic("T1 old but busy", "automation", ago(20*24), 0, false)
	replies("T1 old but busy", 10, ago(10*24))
	topic("T2 fresh", "automation", ago(2), 0, false)
	replies("T2 fresh", 2, ago(1))
	exec(`INSERT INTO forum_likes (target_type, target_id, user_id, created_at) VALUES ('topic', $1, $2, $3)`, w.ids["T2 fresh"], people[1], ago(1))
	topic("T3 yesterday's hit", "quality-management", ago(30), 0, false)
	replies("T3 yesterday's hit", 8, ago(26))
	topic("T4 hidden", "automation", ago(1), 0, true)
	replies("T4 hidden", 20, ago(0.5))
	topic("T5 much viewed", "maintenance", ago(3), 1000, false)
	topic("T6 too old", "maintenance", ago(40*24), 5000, false)

	useCase := func(name, status string, published time.Time) {
		id := uuid.NewString()
		w.ids[name] = id
		exec(`INSERT INTO use_cases (id, organization_id, author_id, status, category, title, created_at, updated_at, published_at)
			VALUES ($1, $2, $3, $4, 'Predictive Maintenance', $5, $6, $6, $6)`, id, org.ID, people[0], status, name, published)
	}
	react := func(table, name string, n int, at time.Time) {
		for i := range n {
			exec(`INSERT INTO `+table+` (use_case_id, user_id, created_at) VALUES ($1, $2, $3)`, w.ids[name], people[i], at)
		}
		// The counters, as the use cases' store keeps them.
		counter := map[string]string{"use_case_likes": "like_count", "use_case_saves": "save_count"}[table]
		exec(`UPDATE use_cases SET `+counter+` = $2 WHERE id = $1`, w.ids[name], n)
	}
	useCase("U1 saved today", "published", ago(20))
	react("use_case_saves", "U1 saved today", 3, ago(12))
	useCase("U2 liked this week", "published", ago(5*24))
	react("use_case_likes", "U2 liked this week", 5, ago(4*24))
	useCase("U3 draft", "draft", ago(1))
	react("use_case_likes", "U3 draft", 9, ago(0.5))

	store := trendingdb.New(pool)
	w.cache = trendingredis.New(rdb, prefix)
	w.job = &trending.Job{Source: store, Cache: w.cache, Snapshots: store, LockTTL: time.Minute, Now: func() time.Time { return w.now }}
	w.svc = &trending.Service{Cache: w.cache, Snapshots: store}
	return w
}

func (w *world) titles(t *testing.T, kind, window, category string) []string {
	t.Helper()
	items, err := w.svc.Trending(context.Background(), kind, window, category, 10)
	require.NoError(t, err)
	out := []string{}
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

func TestTrendingOrder(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.job.Run(context.Background()))
	cases := []struct {
		kind, window, category string
		want                   []string
	}{
		{trending.KindTopics, "24h", "", []string{"T2 fresh", "T5 much viewed"}},
		{trending.KindTopics, "7d", "", []string{"T3 yesterday's hit", "T2 fresh", "T5 much viewed"}},
		{trending.KindTopics, "30d", "", []string{"T3 yesterday's hit", "T1 old but busy", "T2 fresh", "T5 much viewed"}},
		{trending.KindTopics, "30d", "Automation", []string{"T1 old but busy", "T2 fresh"}},
		{trending.KindTopics, "30d", "automation", []string{"T1 old but busy", "T2 fresh"}},
		{trending.KindTopics, "24h", " MAINTENANCE ", []string{"T5 much viewed"}},
		{trending.KindTopics, "24h", "quality-management", []string{}},
		{trending.KindTopics, "7d", "no such category", []string{}},
		{trending.KindUseCases, "24h", "", []string{"U1 saved today"}},
		{trending.KindUseCases, "7d", "", []string{"U1 saved today", "U2 liked this week"}},
		{trending.KindUseCases, "30d", "predictive maintenance", []string{"U1 saved today", "U2 liked this week"}},
	}
	for _, tc := range cases {
		t.Run(tc.kind+" "+tc.window+" "+tc.category, func(t *testing.T) {
			assert.Equal(t, tc.want, w.titles(t, tc.kind, tc.window, tc.category))
		})
	}
	items, err := w.svc.Trending(context.Background(), trending.KindUseCases, "7d", "", 1)
	require.NoError(t, err)
	require.Len(t, items, 1)
	u1 := items[0]
	assert.Equal(t, 3, u1.Saves)
	assert.Equal(t, "/use-cases/"+w.ids["U1 saved today"], u1.Link)
	assert.Greater(t, u1.Score, 7.0)

	for _, bad := range []struct{ kind, window string }{{"people", "7d"}, {"topics", "1y"}, {"", ""}} {
		_, err := w.svc.Trending(context.Background(), bad.kind, bad.window, "", 10)
		assert.Error(t, err, bad)
	}
}

// TestConcurrentRunsMakeOneRanking: two workers run the job at once; one computes, the other
// finds the lock held, and one generation is current.
func TestConcurrentRunsMakeOneRanking(t *testing.T) {
	w := newWorld(t)
	slow := &slowSource{Source: w.job.Source}
	var errsOf [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		job := *w.job
		job.Source = slow
		wg.Add(1)
		go func() { defer wg.Done(); errsOf[i] = job.Run(context.Background()) }()
	}
	wg.Wait()
	busy := 0
	for _, err := range errsOf {
		if errors.Is(err, trending.ErrBusy) {
			busy++
		} else {
			require.NoError(t, err)
		}
	}
	assert.Equal(t, 1, busy, "one run computes, the other finds it busy: %v", errsOf)
	assert.Equal(t, []string{"T2 fresh", "T5 much viewed"}, w.titles(t, trending.KindTopics, "24h", ""))
	var gens int
	require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT count(DISTINCT computed_at) FROM trending_snapshots`).Scan(&gens))
	assert.Equal(t, 1, gens)
	// The lock is released: the next run computes.
	require.NoError(t, w.job.Run(context.Background()))
}

type slowSource struct{ trending.Source }

func (s *slowSource) Scores(ctx context.Context, kind string, now time.Time) ([]trending.Scored, error) {
	time.Sleep(300 * time.Millisecond)
	return s.Source.Scores(ctx, kind, now)
}

// TestFailedRunServesTheLastRanking: a run that fails (its signals' table gone) leaves the last
// ranking in Redis and in the snapshot; a cold cache reads the snapshot.
func TestFailedRunServesTheLastRanking(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	require.NoError(t, w.job.Run(ctx))
	want := w.titles(t, trending.KindTopics, "7d", "")
	require.Len(t, want, 3)

	// New signals, then a run that fails before it writes anything.
	_, err := w.pool.Exec(ctx, `UPDATE forum_topics SET hidden_by = author_id WHERE title = 'T3 yesterday''s hit'`)
	require.NoError(t, err)
	_, err = w.pool.Exec(ctx, `ALTER TABLE forum_bookmarks RENAME TO forum_bookmarks_gone`)
	require.NoError(t, err)
	assert.Error(t, w.job.Run(ctx))
	assert.Equal(t, want, w.titles(t, trending.KindTopics, "7d", ""), "the stale ranking is still served")

	// Cold: Redis lost everything; the snapshot answers the same.
	require.NoError(t, w.cache.Drop(ctx))
	assert.Equal(t, want, w.titles(t, trending.KindTopics, "7d", ""))

	// Repaired: the next run sees the hidden topic gone.
	_, err = w.pool.Exec(ctx, `ALTER TABLE forum_bookmarks_gone RENAME TO forum_bookmarks`)
	require.NoError(t, err)
	require.NoError(t, w.job.Run(ctx))
	assert.Equal(t, []string{"T2 fresh", "T5 much viewed"}, w.titles(t, trending.KindTopics, "7d", ""))
}
