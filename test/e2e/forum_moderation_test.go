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

// TestForumModeration: a platform moderator pins and locks a topic (a locked one takes no
// replies), hides a reply and a topic with a reason the authors are told, marks a best answer
// on someone's question and keeps the categories; nobody else may; every edit keeps the version
// before it, and the lists' viewers hear of new topics.
func TestForumModeration(t *testing.T) { onEachBackend(t, forumModeration) }

func forumModeration(t *testing.T, env *harness.Env) {
	modEmail := harness.UniqueEmail("forum-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr := seed.Verified(t, env, srv, "fm-amal"), seed.Verified(t, env, srv, "fm-badr")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lister := socket(t, srv, badr.AccessToken)
	ack, err := lister.EmitWithAck(ctx, "room:join", map[string]any{"room": "forum:all"})
	require.NoError(t, err)
	require.Equal(t, true, ack[0].(map[string]any)["ok"], "anyone may watch the list")
	ack, err = lister.EmitWithAck(ctx, "room:join", map[string]any{"room": "forum:no-such-category"})
	require.NoError(t, err)
	assert.Equal(t, false, ack[0].(map[string]any)["ok"])

	res := amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{
		"title": "Which PLC for a small bottling line?", "kind": "question", "category": "automation",
		"content": "We run **two** fillers.",
	})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	topic := "/api/v1/forum/topics/" + id
	ev, err := lister.Next(ctx, "forum:topic:new")
	require.NoError(t, err)
	listed := ev.Args[0].(map[string]any)["topic"].(map[string]any)
	assert.Equal(t, id, listed["id"])
	assert.Equal(t, "Which PLC for a small bottling line?", listed["title"])
	assert.Nil(t, listed["content"], "the list's shape, without the body")

	res = badr.Do(http.MethodPost, topic+"/replies", map[string]any{"content": "Buy the cheapest one you find."})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	bad := res.JSON()["id"].(string)
	res = badr.Do(http.MethodPost, topic+"/replies", map[string]any{"content": "A compact PLC with 16 I/O fits."})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	good := res.JSON()["id"].(string)

	t.Run("only moderators", func(t *testing.T) {
		for _, req := range []struct{ method, path string }{
			{http.MethodPut, topic + "/pin"}, {http.MethodPut, topic + "/lock"}, {http.MethodPost, topic + "/hide"},
			{http.MethodPost, "/api/v1/forum/replies/" + bad + "/hide"}, {http.MethodPost, "/api/v1/forum/categories"},
			{http.MethodDelete, "/api/v1/forum/categories/maintenance"},
		} {
			res := amal.Do(req.method, req.path, map[string]any{"reason": "x", "name": "Energy", "nameAr": "الطاقة"})
			assert.Equal(t, http.StatusForbidden, res.Status, "%s %s: %s", req.method, req.path, res)
		}
	})

	t.Run("revisions", func(t *testing.T) {
		require.Equal(t, http.StatusOK, amal.Do(http.MethodPatch, topic, map[string]any{"content": "We run **three** fillers."}).Status)
		require.Equal(t, http.StatusOK, amal.Do(http.MethodPatch, topic, map[string]any{"title": "Which PLC for a bottling line?"}).Status)
		revs := items(t, badr.Do(http.MethodGet, topic+"/revisions", nil))
		require.Len(t, revs, 3)
		assert.Equal(t, "We run **two** fillers.", revs[0]["content"])
		assert.Equal(t, "Which PLC for a small bottling line?", revs[0]["title"])
		assert.Contains(t, revs[0]["contentHtml"], "<strong>two</strong>")
		assert.Equal(t, "We run **three** fillers.", revs[1]["content"])
		assert.Equal(t, "Which PLC for a bottling line?", revs[2]["title"])
		assert.Equal(t, true, revs[2]["current"])
		assert.EqualValues(t, 3, revs[2]["version"])

		require.Equal(t, http.StatusOK, badr.Do(http.MethodPatch, "/api/v1/forum/replies/"+good, map[string]any{"content": "A compact PLC with 24 I/O fits."}).Status)
		revs = items(t, amal.Do(http.MethodGet, "/api/v1/forum/replies/"+good+"/revisions", nil))
		require.Len(t, revs, 2)
		assert.Equal(t, "A compact PLC with 16 I/O fits.", revs[0]["content"])
		assert.Nil(t, revs[0]["title"])
	})

	t.Run("pin and lock", func(t *testing.T) {
		res := mod.Do(http.MethodPut, topic+"/pin", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, true, res.JSON()["isPinned"])
		first := items(t, badr.Do(http.MethodGet, "/api/v1/forum/topics", nil))[0]
		assert.Equal(t, id, first["id"], "pinned on top")

		res = mod.Do(http.MethodPut, topic+"/lock", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, true, res.JSON()["isLocked"])
		res = badr.Do(http.MethodPost, topic+"/replies", map[string]any{"content": "Late to the party."})
		assert.Equal(t, http.StatusConflict, res.Status, "a locked topic takes no replies: %s", res)
		require.Equal(t, http.StatusOK, mod.Do(http.MethodDelete, topic+"/lock", nil).Status)
		require.Equal(t, http.StatusOK, mod.Do(http.MethodDelete, topic+"/pin", nil).Status)
	})

	t.Run("best answer by a moderator", func(t *testing.T) {
		res := mod.Do(http.MethodPut, topic+"/best-answer", map[string]any{"replyId": good})
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, good, res.JSON()["bestAnswerId"])
		res = badr.Do(http.MethodPut, topic+"/best-answer", map[string]any{"replyId": bad})
		assert.Equal(t, http.StatusForbidden, res.Status, "still not anyone else")
	})

	t.Run("hiding tells the author why", func(t *testing.T) {
		hide := "/api/v1/forum/replies/" + bad + "/hide"
		assert.Equal(t, http.StatusUnprocessableEntity, mod.Do(http.MethodPost, hide, map[string]any{"reason": " "}).Status)
		require.Equal(t, http.StatusNoContent, mod.Do(http.MethodPost, hide, map[string]any{"reason": "Not helpful advice"}).Status)
		assert.Equal(t, http.StatusNotFound, mod.Do(http.MethodPost, hide, map[string]any{"reason": "again"}).Status)
		assert.Equal(t, http.StatusNotFound, amal.Do(http.MethodGet, "/api/v1/forum/replies/"+bad+"/revisions", nil).Status,
			"no version of a hidden reply can be read")
		detail := amal.Do(http.MethodGet, topic, nil).JSON()
		assert.EqualValues(t, 1, detail["replies"])
		for _, c := range detail["comments"].([]any) {
			assert.NotEqual(t, bad, c.(map[string]any)["id"], "a hidden reply without replies leaves the thread")
		}
		note := hiddenNotice(t, badr.Client)
		data := note["data"].(map[string]any)
		assert.Equal(t, "Not helpful advice", data["reason"])
		assert.Equal(t, "reply", data["postType"])
		assert.Equal(t, bad, data["replyId"])
		assert.Equal(t, id, note["targetId"])

		require.Equal(t, http.StatusNoContent, mod.Do(http.MethodPost, topic+"/hide", map[string]any{"reason": "Duplicate of an older topic"}).Status)
		assert.Equal(t, http.StatusNotFound, amal.Do(http.MethodGet, topic, nil).Status)
		assert.Equal(t, http.StatusNotFound, amal.Do(http.MethodGet, topic+"/revisions", nil).Status)
		note = hiddenNotice(t, amal.Client)
		assert.Equal(t, "Duplicate of an older topic", note["data"].(map[string]any)["reason"])
		assert.Equal(t, "topic", note["data"].(map[string]any)["postType"])
	})

	t.Run("categories", func(t *testing.T) {
		res := mod.Do(http.MethodPost, "/api/v1/forum/categories", map[string]any{"name": "Energy & Utilities", "nameAr": "الطاقة والمرافق", "position": 2})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		assert.Equal(t, "energy-utilities", res.JSON()["slug"])
		cats := items(t, amal.Do(http.MethodGet, "/api/v1/forum/categories", nil))
		require.Len(t, cats, 7)
		assert.Equal(t, "energy-utilities", cats[1]["id"], "at the position asked")
		assert.Equal(t, http.StatusConflict, mod.Do(http.MethodPost, "/api/v1/forum/categories", map[string]any{"name": "energy & utilities", "nameAr": "x y"}).Status)
		assert.Equal(t, http.StatusUnprocessableEntity, mod.Do(http.MethodPost, "/api/v1/forum/categories", map[string]any{"slug": "Bad Slug", "name": "Ok name", "nameAr": "اسم"}).Status)

		res = mod.Do(http.MethodPatch, "/api/v1/forum/categories/energy-utilities", map[string]any{"name": "Energy", "position": 99})
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "Energy", res.JSON()["name"])
		cats = items(t, amal.Do(http.MethodGet, "/api/v1/forum/categories", nil))
		assert.Equal(t, "energy-utilities", cats[6]["id"], "moved last")
		assert.Equal(t, "quality-management", cats[1]["id"], "the others closed up")

		res = amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "Solar on factory roofs", "category": "energy", "content": "Anyone?"})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		assert.Equal(t, http.StatusConflict, mod.Do(http.MethodDelete, "/api/v1/forum/categories/energy-utilities", nil).Status, "it has a live topic")
		require.Equal(t, http.StatusNoContent, amal.Do(http.MethodDelete, "/api/v1/forum/topics/"+res.JSON()["id"].(string), nil).Status)
		assert.Equal(t, http.StatusNoContent, mod.Do(http.MethodDelete, "/api/v1/forum/categories/energy-utilities", nil).Status)
		assert.Equal(t, http.StatusConflict, mod.Do(http.MethodDelete, "/api/v1/forum/categories/general", nil).Status)
		assert.Equal(t, http.StatusNotFound, mod.Do(http.MethodDelete, "/api/v1/forum/categories/energy-utilities", nil).Status)
		assert.Len(t, items(t, amal.Do(http.MethodGet, "/api/v1/forum/categories", nil)), 6)
	})
}

// hiddenNotice waits for c's post_hidden notification.
func hiddenNotice(t *testing.T, c *harness.Client) map[string]any {
	t.Helper()
	var found map[string]any
	var seen []map[string]any
	assert.Eventually(t, func() bool {
		seen = items(t, c.Do(http.MethodGet, "/api/v1/notifications", nil))
		for _, n := range seen {
			if n["type"] == "post_hidden" {
				found = n
				return true
			}
		}
		return false
	}, 15*time.Second, 50*time.Millisecond, "a post_hidden notification")
	if found == nil {
		t.Fatalf("notifications: %v", seen)
	}
	return found
}
