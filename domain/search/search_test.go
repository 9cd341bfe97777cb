package search_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/search"
	"github.com/p2psandbox/hub/domain/search/searchdb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestRepliesAndOrganizations: replies are found in English and by an Arabic spelling variant,
// marked, with their topic and link; deleted and hidden replies and the replies of a deleted
// topic never are; organizations are found by a part of their name (by its start under three
// letters); both page with a cursor.
func TestRepliesAndOrganizations(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	org := identitytest.NewOrg(t, pool)
	author, mod := org.Owner.UserID, org.Member(t, pool).UserID
	forumStore := forumdb.New(pool)
	at := time.Now().UTC().Add(-time.Hour)
	topic := func(title string) string {
		id := uuid.NewString()
		require.NoError(t, forumStore.CreateTopic(ctx, forum.StoredTopic{ID: id, CategoryID: "maintenance", AuthorID: author,
			Kind: "question", Title: title, Body: forum.Rendered{Markdown: "b", HTML: "<p>b</p>", Text: "b", Excerpt: "b"}, At: at}))
		return id
	}
	reply := func(topicID, html string) string {
		id := uuid.NewString()
		at = at.Add(time.Second)
		require.NoError(t, forumStore.CreateReply(ctx, forum.StoredReply{ID: id, TopicID: topicID, AuthorID: author,
			Body: forum.Rendered{Markdown: "x", HTML: html, Text: "x", Excerpt: "x"}, At: at}))
		return id
	}
	live := topic("Pump maintenance")
	gone := topic("Old thread")
	arabic := reply(live, "<p>نستخدم مضخة <strong>الطاقة</strong> الشمسية &amp; الرياح</p>")
	english := reply(live, "<p>We replaced the bearings &lt;twice&gt;</p><p>bearings again</p>")
	deleted := reply(live, "<p>bearings deleted</p>")
	hidden := reply(live, "<p>bearings hidden</p>")
	orphan := reply(gone, "<p>bearings in a deleted topic</p>")
	require.NoError(t, forumStore.DeleteReply(ctx, deleted, at))
	require.NoError(t, forumStore.HideReply(ctx, hidden, forum.Hide{By: mod, Reason: "spam", At: at,
		Event: forum.PostHidden{TargetType: "reply", ID: hidden, TopicID: live, By: mod, Reason: "spam"}}))
	require.NoError(t, forumStore.DeleteTopic(ctx, gone, at))

	own := searchdb.New(pool)
	svc := &search.Service{Replies: own, Organizations: own}
	find := func(q, typ string, limit int, cursor string) search.Results {
		t.Helper()
		r, err := svc.Search(ctx, org.Owner, q, typ, limit, cursor)
		require.NoError(t, err)
		return r
	}

	// The Arabic reply by other spellings (ة as ه, أ as ا would be the same), marked in text that
	// was HTML before.
	r := find("مضخه", search.TypeReplies, 0, "")
	require.Len(t, r.Replies.Items, 1)
	h := r.Replies.Items[0]
	assert.Equal(t, arabic, h.ID)
	assert.Equal(t, live, h.TopicID)
	assert.Equal(t, "Pump maintenance", h.TopicTitle)
	assert.Equal(t, "/forum/topics/"+live+"#reply-"+arabic, h.Link)
	assert.Equal(t, author, h.Author.ID)
	assert.Contains(t, h.Highlight, "<mark>")
	assert.Contains(t, h.Highlight, "&amp;", "the text is escaped again before it is marked")
	assert.NotContains(t, h.Highlight, "<strong>")

	// Only the live reply of the live topic; its entities read as text, escaped once.
	r = find("bearings", search.TypeReplies, 0, "")
	require.Len(t, r.Replies.Items, 1, "not the deleted, the hidden or the deleted topic's reply")
	assert.Equal(t, english, r.Replies.Items[0].ID)
	assert.Contains(t, r.Replies.Items[0].Highlight, "&lt;twice&gt;")
	assert.Contains(t, r.Replies.Items[0].Highlight, "<mark>bearings</mark>")
	for _, id := range []string{deleted, hidden, orphan} {
		assert.NotEqual(t, id, r.Replies.Items[0].ID)
	}

	// Paging replies by rank.
	third := reply(live, "<p>bearings once more</p>")
	r = find("bearings", search.TypeReplies, 1, "")
	require.Len(t, r.Replies.Items, 1)
	require.NotNil(t, r.Replies.NextCursor)
	r2 := find("bearings", search.TypeReplies, 1, *r.Replies.NextCursor)
	require.Len(t, r2.Replies.Items, 1)
	assert.ElementsMatch(t, []string{english, third}, []string{r.Replies.Items[0].ID, r2.Replies.Items[0].ID})
	assert.Nil(t, r2.Replies.NextCursor)

	// Organizations: a part of the name, any case; a prefix first; paging by name.
	identitytest.NewOrg(t, pool)
	r = find("ELECTRONICS", search.TypeOrganizations, 1, "")
	require.Len(t, r.Organizations.Items, 1)
	o := r.Organizations.Items[0]
	assert.Equal(t, "Advanced Electronics Co.", o.Name)
	assert.Equal(t, "Riyadh", o.City)
	assert.Equal(t, "/organizations/"+o.ID, o.Link)
	assert.GreaterOrEqual(t, o.MemberCount, 1)
	require.NotNil(t, r.Organizations.NextCursor)
	r2 = find("ELECTRONICS", search.TypeOrganizations, 1, *r.Organizations.NextCursor)
	require.Len(t, r2.Organizations.Items, 1)
	assert.NotEqual(t, o.ID, r2.Organizations.Items[0].ID)
	assert.Nil(t, r2.Organizations.NextCursor)
	assert.Empty(t, find("100%_", search.TypeOrganizations, 0, "").Organizations.Items, "LIKE's wildcards are text")
	assert.Len(t, find("ad", search.TypeOrganizations, 0, "").Organizations.Items, 2, "two letters: the start of a name")
	assert.Empty(t, find("el", search.TypeOrganizations, 0, "").Organizations.Items, "two letters: not inside a name")

	_, err := svc.Search(ctx, org.Owner, "x", "orders", 0, "")
	e, ok := errs.As(err)
	require.True(t, ok)
	require.Len(t, e.Fields, 1)
	assert.Equal(t, "must be all, topics, replies, use-cases, people, organizations or messages", e.Fields[0].Message)
}
