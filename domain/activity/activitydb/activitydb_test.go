package activitydb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/activity"
	"github.com/p2psandbox/hub/domain/activity/activitydb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestVisibility records one entry of each kind in situations that hide it (an organization-only
// or private actor, a deleted topic, a hidden reply, a draft, an organization's event, a deleted
// event, a follow of a private profile, a follow undone) and checks, viewer by viewer and scope
// by scope, exactly which entries each sees.
func TestVisibility(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	orgA, orgB := identitytest.NewOrg(t, pool), identitytest.NewOrg(t, pool)
	a1 := orgA.Owner
	a2 := orgA.Member(t, pool, identitytest.Privacy("organization", "anyone"))
	a3 := orgA.Member(t, pool, identitytest.Privacy("private", "anyone"))
	b1 := orgB.Owner
	store := activitydb.New(pool)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	var eventID int64
	record := func(name string, rec func(id int64) (int64, error)) {
		t.Helper()
		eventID++
		id, err := rec(eventID)
		require.NoError(t, err, name)
		require.NotZero(t, id, name)
		again, err := rec(eventID)
		require.NoError(t, err)
		assert.Zero(t, again, "a redelivered event writes nothing")
	}
	now := time.Now()
	topic := func(title string, author identity.Principal) string {
		id := uuid.NewString()
		exec(`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
			created_at, updated_at, last_activity_at) VALUES ($1, 'automation', $2, 'question', $3, 'b', 'b', 'b', 'b', now(), now(), now())`,
			id, author.UserID, title)
		record(title, func(e int64) (int64, error) { return store.TopicPosted(ctx, e, now, id) })
		return id
	}
	t1 := topic("T1 public", a1)
	topic("T2 organization-only author", a2)
	topic("T3 private author", a3)
	t4 := topic("T4 deleted", b1)
	exec(`UPDATE forum_topics SET deleted_at = now() WHERE id = $1`, t4)
	reply := uuid.NewString()
	exec(`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at) VALUES ($1, $2, $3, 0, 'r', 'r', now(), now())`, reply, t1, b1.UserID)
	record("reply", func(e int64) (int64, error) { return store.ReplyPosted(ctx, e, now, reply) })
	exec(`UPDATE forum_posts SET hidden_by = $2, hidden_reason = 'spam' WHERE id = $1`, reply, a1.UserID)
	reply2 := uuid.NewString()
	exec(`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at) VALUES ($1, $2, $3, 0, 'r', 'r', now(), now())`, reply2, t1, b1.UserID)
	record("answer", func(e int64) (int64, error) { return store.ReplyPosted(ctx, e, now, reply2) })
	record("best", func(e int64) (int64, error) { return store.BestAnswer(ctx, e, now, reply2, a1.UserID) })

	useCase := func(title, status string) {
		id := uuid.NewString()
		exec(`INSERT INTO use_cases (id, organization_id, author_id, status, category, title, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'Automation', $5, now(), now())`, id, orgA.ID, a1.UserID, status, title)
		record(title, func(e int64) (int64, error) { return store.UseCasePublished(ctx, e, now, id) })
	}
	useCase("U1 published", "published")
	useCase("U2 back to draft", "draft")

	event := func(title string, by identity.Principal, org *string, deleted bool) {
		id := uuid.NewString()
		exec(`INSERT INTO calendar_events (id, organization_id, created_by, title, title_ar, starts_at, ends_at, time_zone, deleted_at)
			VALUES ($1, $2, $3, $4, $4, now() + interval '1 day', now() + interval '2 days', 'Asia/Riyadh', CASE WHEN $5 THEN now() END)`,
			id, org, by.UserID, title, deleted)
		record(title, func(e int64) (int64, error) { return store.EventCreated(ctx, e, now, id) })
	}
	event("E1 organization A's", a1, &orgA.ID, false)
	event("E2 platform", b1, nil, false)
	event("E3 deleted", b1, nil, true)

	follow := func(by, of identity.Principal, undo bool) {
		exec(`INSERT INTO people_follows (follower_id, followee_id) VALUES ($1, $2)`, by.UserID, of.UserID)
		record("follow", func(e int64) (int64, error) { return store.Followed(ctx, e, now, by.UserID, of.UserID) })
		if undo {
			exec(`DELETE FROM people_follows WHERE follower_id = $1 AND followee_id = $2`, by.UserID, of.UserID)
		}
	}
	follow(b1, a3, false) // of a private profile
	follow(a2, a1, true)  // undone
	follow(b1, a1, false)

	name := func(p identity.Principal) string {
		var n string
		require.NoError(t, pool.QueryRow(ctx, `SELECT first_name || ' ' || last_name FROM users WHERE id = $1`, p.UserID).Scan(&n))
		return n
	}
	followedA1 := "followed " + name(a1)
	followedA3 := "followed " + name(a3)
	public := []string{followedA1, "event_created E2 platform", "use_case_published U1 published", "best_answer T1 public",
		"answer_posted T1 public", "question_asked T1 public"}
	cases := []struct {
		name   string
		viewer identity.Principal
		scope  string
		want   []string
	}{
		{"another organization sees only what is public", b1, activity.ScopePlatform, public},
		{"a member sees their organization's members and events", a1, activity.ScopePlatform, []string{followedA1,
			"event_created E2 platform", "event_created E1 organization A's", "use_case_published U1 published",
			"best_answer T1 public", "answer_posted T1 public", "question_asked T2 organization-only author", "question_asked T1 public"}},
		{"a private member sees their own and the follow of them", a3, activity.ScopePlatform, []string{followedA1, followedA3,
			"event_created E2 platform", "event_created E1 organization A's", "use_case_published U1 published",
			"best_answer T1 public", "answer_posted T1 public", "question_asked T3 private author",
			"question_asked T2 organization-only author", "question_asked T1 public"}},
		{"organization A, for its founder", a1, activity.ScopeOrganization, []string{"event_created E1 organization A's",
			"use_case_published U1 published", "best_answer T1 public", "question_asked T2 organization-only author", "question_asked T1 public"}},
		{"organization B, for its founder", b1, activity.ScopeOrganization, []string{followedA1, "event_created E2 platform", "answer_posted T1 public"}},
		{"me: mine, about mine, and who I follow", b1, activity.ScopeMe, []string{followedA1, "event_created E2 platform",
			"use_case_published U1 published", "best_answer T1 public", "answer_posted T1 public", "question_asked T1 public"}},
		{"me: a1's own and what was done to their content", a1, activity.ScopeMe, []string{followedA1, "event_created E1 organization A's",
			"use_case_published U1 published", "best_answer T1 public", "answer_posted T1 public", "question_asked T1 public"}},
		{"me: the private member", a3, activity.ScopeMe, []string{followedA3, "question_asked T3 private author"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := store.Feed(ctx, activity.Query{Viewer: tc.viewer.UserID, OrganizationID: tc.viewer.OrganizationID, Scope: tc.scope, Limit: 50})
			require.NoError(t, err)
			got := []string{}
			for _, e := range entries {
				if e.Kind != activity.KindMemberJoined {
					got = append(got, e.Kind+" "+e.Content)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}

	// Pages by id: two then the rest, no repeats.
	first, err := store.Feed(ctx, activity.Query{Viewer: b1.UserID, OrganizationID: b1.OrganizationID, Scope: activity.ScopePlatform, Limit: 2})
	require.NoError(t, err)
	require.Len(t, first, 2)
	last, err := strconv.ParseInt(first[1].ID, 10, 64)
	require.NoError(t, err)
	rest, err := store.Feed(ctx, activity.Query{Viewer: b1.UserID, OrganizationID: b1.OrganizationID, Scope: activity.ScopePlatform, Limit: 50, After: last})
	require.NoError(t, err)
	assert.Len(t, rest, len(public)-2)
}

// TestMeFollows checks the me feed's branch of the people followed: a followee's entries appear
// only while their profile is visible to the viewer (public, or their organization's when the
// viewer is in it; never private, removed or unfollowed), an entry both by a followee and about
// the viewer's content appears once, and pages of two walk the three branches merged, newest
// first, with no repeats or gaps.
func TestMeFollows(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	orgA, orgB := identitytest.NewOrg(t, pool), identitytest.NewOrg(t, pool)
	viewer := orgB.Owner
	pub := orgA.Owner
	orgOnly := orgA.Member(t, pool, identitytest.Privacy("organization", "anyone"))
	private := orgA.Member(t, pool, identitytest.Privacy("private", "anyone"))
	removed := orgA.Member(t, pool)
	unfollowed := orgA.Member(t, pool)
	colleague := orgB.Member(t, pool, identitytest.Privacy("organization", "anyone"))
	stranger := orgB.Member(t, pool)
	store := activitydb.New(pool)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	var eventID int64
	now := time.Now()
	topic := func(title string, author identity.Principal) string {
		t.Helper()
		id := uuid.NewString()
		exec(`INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html, excerpt, body_text,
			created_at, updated_at, last_activity_at) VALUES ($1, 'automation', $2, 'question', $3, 'b', 'b', 'b', 'b', now(), now(), now())`,
			id, author.UserID, title)
		eventID++
		_, err := store.TopicPosted(ctx, eventID, now, id)
		require.NoError(t, err)
		return id
	}
	reply := func(topicID string, author identity.Principal) {
		t.Helper()
		id := uuid.NewString()
		exec(`INSERT INTO forum_posts (id, topic_id, author_id, depth, body, body_html, created_at, updated_at) VALUES ($1, $2, $3, 0, 'r', 'r', now(), now())`, id, topicID, author.UserID)
		eventID++
		_, err := store.ReplyPosted(ctx, eventID, now, id)
		require.NoError(t, err)
	}
	for _, p := range []identity.Principal{pub, orgOnly, private, removed, unfollowed, colleague} {
		exec(`INSERT INTO people_follows (follower_id, followee_id) VALUES ($1, $2)`, viewer.UserID, p.UserID)
	}
	mine := topic("V1 mine", viewer)
	topic("P1 public followee", pub)
	topic("O1 organization-only followee of another organization", orgOnly)
	topic("X1 private followee", private)
	topic("R1 removed followee", removed)
	topic("U1 unfollowed", unfollowed)
	topic("C1 organization-only colleague", colleague)
	topic("S1 not followed", stranger)
	reply(mine, pub)      // by a followee about mine: once
	reply(mine, stranger) // about mine by someone not followed
	topic("P2 public followee", pub)
	topic("V2 mine", viewer)
	exec(`UPDATE users SET deleted_at = now() WHERE id = $1`, removed.UserID)
	exec(`DELETE FROM people_follows WHERE follower_id = $1 AND followee_id = $2`, viewer.UserID, unfollowed.UserID)

	want := []string{"question_asked V2 mine", "question_asked P2 public followee", "answer_posted V1 mine",
		"answer_posted V1 mine", "question_asked C1 organization-only colleague", "question_asked P1 public followee",
		"question_asked V1 mine"}
	wantActors := []string{viewer.UserID, pub.UserID, stranger.UserID, pub.UserID, colleague.UserID, pub.UserID, viewer.UserID}
	line := func(e activity.Entry) string { return e.Kind + " " + e.Content }

	all, err := store.Feed(ctx, activity.Query{Viewer: viewer.UserID, OrganizationID: viewer.OrganizationID, Scope: activity.ScopeMe, Limit: 50})
	require.NoError(t, err)
	got, actors := []string{}, []string{}
	for _, e := range all {
		got, actors = append(got, line(e)), append(actors, e.UserID)
	}
	assert.Equal(t, want, got)
	assert.Equal(t, wantActors, actors)

	// Pages of two: the same entries in the same order.
	got = []string{}
	var after int64
	for range len(want) {
		entries, err := store.Feed(ctx, activity.Query{Viewer: viewer.UserID, OrganizationID: viewer.OrganizationID, Scope: activity.ScopeMe, Limit: 2, After: after})
		require.NoError(t, err)
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			got = append(got, line(e))
		}
		after, err = strconv.ParseInt(entries[len(entries)-1].ID, 10, 64)
		require.NoError(t, err)
	}
	assert.Equal(t, want, got)

	// A member of organization A who follows the organization-only member sees their topic; the
	// private member's stays hidden from a colleague too.
	exec(`INSERT INTO people_follows (follower_id, followee_id) VALUES ($1, $2), ($1, $3)`, pub.UserID, orgOnly.UserID, private.UserID)
	entries, err := store.Feed(ctx, activity.Query{Viewer: pub.UserID, OrganizationID: pub.OrganizationID, Scope: activity.ScopeMe, Limit: 50})
	require.NoError(t, err)
	got = []string{}
	for _, e := range entries {
		got = append(got, line(e))
	}
	assert.Equal(t, []string{"question_asked P2 public followee", "answer_posted V1 mine",
		"question_asked O1 organization-only followee of another organization", "question_asked P1 public followee"}, got)
}
