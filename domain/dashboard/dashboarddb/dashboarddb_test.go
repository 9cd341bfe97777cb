package dashboarddb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/dashboard"
	"github.com/p2psandbox/hub/domain/dashboard/dashboarddb"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// question is what a posted question changes, as the subscriber says it.
func question(author string) dashboard.Change {
	return dashboard.Change{Contributed: []string{author}, Deltas: []dashboard.Delta{
		{UserID: author, Metric: dashboard.Questions, N: 1},
		{UserID: author, Organization: true, Metric: dashboard.Topics, N: 1},
	}}
}

// TestFiguresByPeriod: changes on different days add up per period, per week and in total,
// for the user and for their organization; contributions rank the month.
func TestFiguresByPeriod(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	store := dashboarddb.New(pool, "dashboard")
	org := identitytest.NewOrg(t, pool)
	amal, badr := org.Owner, org.Member(t, pool)
	other := identitytest.NewOrg(t, pool).Owner

	today := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	var id int64
	apply := func(day time.Time, c dashboard.Change) dashboard.Touched {
		t.Helper()
		id++
		touched, err := store.Apply(ctx, id, day.Add(13*time.Hour), c)
		require.NoError(t, err)
		return touched
	}
	touched := apply(today, question(amal.UserID))
	assert.ElementsMatch(t, []string{amal.UserID}, touched.Users)
	assert.ElementsMatch(t, []string{org.ID}, touched.Organizations)
	apply(today.AddDate(0, 0, -6), question(amal.UserID))  // in the week
	apply(today.AddDate(0, 0, -7), question(amal.UserID))  // not in the week, in 30 days
	apply(today.AddDate(0, 0, -45), question(amal.UserID)) // in 90 days
	apply(today.AddDate(0, 0, -2), question(badr.UserID))
	apply(today, question(other.UserID))
	apply(today, dashboard.Change{Deltas: []dashboard.Delta{{UserID: amal.UserID, Metric: dashboard.Questions, N: -1}}})

	read := func(period string) dashboard.Figures {
		t.Helper()
		per, err := dashboard.ParsePeriod(period)
		require.NoError(t, err)
		f, err := store.Figures(ctx, dashboard.Query{UserID: amal.UserID, OrganizationID: org.ID, Today: today,
			Since: per.Since(today), Month: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		return f
	}
	for _, c := range []struct {
		period                 string
		orgTopics, activeUsers int64
	}{
		{"7d", 3, 2}, {"30d", 4, 2}, {"90d", 5, 2}, {"all", 5, 2},
	} {
		f := read(c.period)
		assert.Equal(t, int64(3), f.User[dashboard.Questions], c.period)
		assert.Equal(t, int64(1), f.UserWeek[dashboard.Questions], c.period, "two in the week, one taken back today")
		assert.Equal(t, c.orgTopics, f.OrgPeriod[dashboard.Topics], c.period)
		assert.Equal(t, int64(5), f.Org[dashboard.Topics], c.period)
		assert.Equal(t, int64(3), f.OrgWeek[dashboard.Topics], c.period)
		if c.period == "7d" || c.period == "30d" {
			assert.Equal(t, c.activeUsers, f.ActiveMembers, c.period)
		}
	}
	f := read("30d")
	assert.Equal(t, int64(3), f.MonthActions, "amal's three contributions in March")
	assert.Equal(t, int64(3), f.MonthActive, "amal, badr and the other organization's founder")
	assert.Equal(t, int64(2), f.MonthBelow)

	// A redelivered event is the subscriber's to skip (its cursor commits with the change);
	// Apply of an unknown user changes nothing and fails nothing.
	touched = apply(today, question(uuid.NewString()))
	assert.Empty(t, touched.Users)
}

// TestRebuildDuringATransaction: an event committed after a transaction that was still running
// when the rebuild took its snapshot sits after the cursor the rebuild sets; the rebuild counted
// it, so Apply skips it once, and applies the next.
func TestRebuildDuringATransaction(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	store := dashboarddb.New(pool, "dashboard")
	org := identitytest.NewOrg(t, pool)
	amal := org.Owner
	topics := forumdb.New(pool)
	post := func() {
		t.Helper()
		require.NoError(t, topics.CreateTopic(ctx, forum.StoredTopic{ID: uuid.NewString(), CategoryID: "automation",
			AuthorID: amal.UserID, Kind: forum.KindQuestion, Title: "Which sensors?", Body: forum.Rendered{Markdown: "b"},
			At: time.Now()}))
	}

	// A transaction that holds the horizon back, as a slow request would.
	slow, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = slow.Rollback(ctx) }()
	var slowXID string
	require.NoError(t, slow.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&slowXID))
	post()
	var eventID int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(id) FROM domain_events WHERE name = 'forum.topic_posted'`).Scan(&eventID))

	r, err := store.Rebuild(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), r.Counted, "the topic's event is after the horizon and already counted")
	var cursor string
	require.NoError(t, pool.QueryRow(ctx, `SELECT txid::text FROM domain_event_cursors WHERE subscriber = 'dashboard'`).Scan(&cursor))
	// The horizon is the cluster's oldest running transaction: this one, or one of another
	// package's tests running beside this one (the server is shared), never a later one.
	slowN, err := strconv.ParseUint(slowXID, 10, 64)
	require.NoError(t, err)
	cursorN, err := strconv.ParseUint(cursor, 10, 64)
	require.NoError(t, err)
	assert.LessOrEqual(t, cursorN, slowN, "the cursor is not past the oldest transaction running")
	require.NoError(t, slow.Rollback(ctx))

	questions := func() int64 {
		t.Helper()
		f, err := store.Figures(ctx, dashboard.Query{UserID: amal.UserID, OrganizationID: org.ID,
			Today: time.Now().UTC().Truncate(24 * time.Hour), Month: time.Now().UTC()})
		require.NoError(t, err)
		return f.User[dashboard.Questions]
	}
	assert.Equal(t, int64(1), questions())
	touched, err := store.Apply(ctx, eventID, time.Now(), question(amal.UserID))
	require.NoError(t, err)
	assert.Empty(t, touched.Users, "skipped: the rebuild counted it")
	assert.Equal(t, int64(1), questions())
	_, err = store.Apply(ctx, eventID+1, time.Now(), question(amal.UserID))
	require.NoError(t, err)
	assert.Equal(t, int64(2), questions(), "the next event counts")
	_, err = store.Apply(ctx, eventID, time.Now(), question(amal.UserID))
	require.NoError(t, err)
	assert.Equal(t, int64(3), questions(), "skipped once only: the subscriber's cursor keeps it from coming again")
}
