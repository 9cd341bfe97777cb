package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// feed is the content and kind of each entry of a viewer's feed of scope, newest first,
// leaving member_joined aside unless asked.
func feed(t *testing.T, c seed.Account, scope string, members bool) []string {
	t.Helper()
	res := c.Do(http.MethodGet, "/api/v1/activity?limit=100&scope="+scope, nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	var out []string
	for _, it := range items(t, res) {
		if it["kind"] == "member_joined" && !members {
			continue
		}
		out = append(out, it["kind"].(string)+" "+it["content"].(string))
	}
	return out
}

// TestActivityFeed: a scripted sequence by several users (a question, an answer, a best answer,
// a published use case, a private member's question, a question hidden by a moderator) gives the
// expected entries in order for each viewer and scope, pushed live to the platform room, and
// nothing that a viewer may not see.
func TestActivityFeed(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("act-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr, carol := seed.Verified(t, env, srv, "act-amal"), seed.Verified(t, env, srv, "act-badr"), seed.Verified(t, env, srv, "act-carol")
	require.Equal(t, http.StatusOK, carol.Do(http.MethodPatch, "/api/v1/me", map[string]any{"profileVisibility": "private"}).Status)

	// badr listens to the platform's feed live.
	sock := socket(t, srv, badr.AccessToken)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ack, err := sock.EmitWithAck(ctx, "room:join", map[string]any{"room": "activity:platform"})
	require.NoError(t, err)
	require.Equal(t, true, ack[0].(map[string]any)["ok"], ack)
	ack, err = sock.EmitWithAck(ctx, "room:join", map[string]any{"room": "activity:elsewhere"})
	require.NoError(t, err)
	assert.Equal(t, false, ack[0].(map[string]any)["ok"], "the platform room is the kind's only room")

	post := func(c seed.Account, title, kind string) string {
		res := c.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": title, "kind": kind,
			"category": "Quality Management", "content": "What do you use for this on your lines?"})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		return res.JSON()["id"].(string)
	}
	q := post(amal, "Which gauges for torque checks?", "question")
	res := badr.Do(http.MethodPost, "/api/v1/forum/topics/"+q+"/replies", map[string]any{"content": "Digital torque wrenches with logging."})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	answer := res.JSON()["id"].(string)
	require.Equal(t, http.StatusOK, amal.Do(http.MethodPut, "/api/v1/forum/topics/"+q+"/best-answer", map[string]any{"replyId": answer}).Status)

	// A use case: its draft makes no entry, its publication does.
	res = amal.Do(http.MethodPost, "/api/v1/use-cases", completeUseCase(t))
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	uc := res.JSON()["id"].(string)
	res = amal.Do(http.MethodPost, "/api/v1/use-cases/"+uc+"/submit", nil, `If-Match: "1"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+uc+"/decision", map[string]any{"action": "publish"})
	require.Equal(t, http.StatusOK, res.Status, res.String())

	post(carol, "A private member's question", "question")
	hidden := post(badr, "A discussion a moderator hides", "discussion")

	want := []string{
		"topic_posted A discussion a moderator hides",
		"use_case_published AI Quality Inspection System",
		"best_answer Which gauges for torque checks?",
		"answer_posted Which gauges for torque checks?",
		"question_asked Which gauges for torque checks?",
	}
	require.Eventually(t, func() bool { return len(feed(t, badr, "platform", false)) == len(want) }, 15*time.Second, 100*time.Millisecond)
	assert.Equal(t, want, feed(t, badr, "platform", false))

	// Live, in the same order, once each (badr's socket is also in his own and his organization's
	// rooms, so entries about him arrive more than once: clients keep them by id).
	var live []string
	seen := map[string]bool{}
	for len(live) < len(want) {
		ev, err := sock.Next(ctx, "activity:new")
		require.NoError(t, err, "so far %v", live)
		e := ev.Args[0].(map[string]any)
		assert.NotEqual(t, carol.ID, e["userId"], "a private member's entries reach only them")
		if seen[e["id"].(string)] || e["kind"] == "member_joined" {
			continue
		}
		seen[e["id"].(string)] = true
		live = append([]string{e["kind"].(string) + " " + e["content"].(string)}, live...)
	}
	assert.Equal(t, want, live)

	// The frontend's shape, with ids and a link.
	top := items(t, badr.Do(http.MethodGet, "/api/v1/activity?scope=platform&limit=4", nil))
	best := top[2]
	assert.Equal(t, "answer", best["type"])
	assert.Equal(t, "chose a best answer", best["action"])
	assert.Equal(t, "Quality Management", best["category"])
	assert.Equal(t, amal.ID, best["userId"])
	assert.Equal(t, q, best["targetId"])
	assert.Equal(t, "/forum/topics/"+q+"#reply-"+answer, best["link"])

	// The moderator hides the discussion: its entry leaves every feed.
	require.Equal(t, http.StatusNoContent, mod.Do(http.MethodPost, "/api/v1/forum/topics/"+hidden+"/hide", map[string]any{"reason": "Off topic"}).Status)
	want = want[1:]

	cases := []struct {
		name   string
		viewer seed.Account
		scope  string
		want   []string
	}{
		{"platform, for another organization", badr, "platform", want},
		{"platform, for the private member: their own too", carol, "platform", append([]string{"question_asked A private member's question"}, want...)},
		{"organization: only its members'", amal, "organization", []string{
			"use_case_published AI Quality Inspection System", "best_answer Which gauges for torque checks?", "question_asked Which gauges for torque checks?"}},
		{"organization of the answerer", badr, "organization", []string{"answer_posted Which gauges for torque checks?"}},
		{"me: mine and what others did to my content", amal, "me", want},
		{"me: the answerer's own and the best answer among theirs", badr, "me", []string{
			"best_answer Which gauges for torque checks?", "answer_posted Which gauges for torque checks?"}},
		{"me: the private member's own", carol, "me", []string{"question_asked A private member's question"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, feed(t, tc.viewer, tc.scope, false)) })
	}

	// member_joined: each founder's, never the private member's to others.
	joined := map[any]bool{}
	for _, it := range items(t, badr.Do(http.MethodGet, "/api/v1/activity?limit=100", nil)) {
		if it["kind"] == "member_joined" {
			joined[it["userId"]] = true
			assert.Equal(t, "member", it["type"])
		}
	}
	assert.True(t, joined[amal.ID] && joined[badr.ID], "%v", joined)
	assert.False(t, joined[carol.ID])

	// Pages: the cursor walks on without repeats.
	res = badr.Do(http.MethodGet, "/api/v1/activity?scope=platform&limit=2", nil)
	require.Equal(t, http.StatusOK, res.Status)
	cur, ok := res.JSON()["nextCursor"].(string)
	require.True(t, ok)
	next := items(t, badr.Do(http.MethodGet, "/api/v1/activity?scope=platform&limit=2&cursor="+cur, nil))
	assert.Equal(t, want[2], next[0]["kind"].(string)+" "+next[0]["content"].(string))

	// Hostile queries.
	for _, bad := range []string{"scope=everyone", "limit=0x", "limit=1000", "cursor=%00", "cursor=eyJpIjotMX0", "scope=%ff", "cursor=" + cur + "x"} {
		res := badr.Do(http.MethodGet, "/api/v1/activity?"+bad, nil)
		assert.True(t, res.Status == http.StatusBadRequest || res.Status == http.StatusUnprocessableEntity, bad+": "+res.String())
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), bad)
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/activity", nil).Status)
}
