package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/realtime/sioclient"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestForumJourney: a question is asked in a category, answered by a member of another
// organization, answered again in a nested reply, liked, marked answered by its author only, and
// found by the answered filter; others cannot change it; unknown ids answer 404.
func TestForumJourney(t *testing.T) { onEachBackend(t, forumJourney) }

func forumJourney(t *testing.T, env *harness.Env) {
	srv := env.Start(t)
	amal, badr := seed.Verified(t, env, srv, "amal"), seed.Verified(t, env, srv, "badr")

	cats := items(t, amal.Do(http.MethodGet, "/api/v1/forum/categories", nil))
	require.Len(t, cats, 6)
	assert.Equal(t, "Automation", cats[0]["name"])
	assert.Equal(t, "الأتمتة", cats[0]["nameAr"])

	res := amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{
		"title": "How to improve production line efficiency using sensors?", "kind": "question",
		"category": "Automation", "tags": []string{"Sensors", "sensors", "OEE"},
		"content": "We see **downtime** on line 4.\n\n- vibration\n- heat",
	})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	topic := res.JSON()
	id := topic["id"].(string)
	assert.Equal(t, "Automation", topic["category"])
	assert.Equal(t, "automation", topic["categoryId"])
	assert.Equal(t, []any{"sensors", "oee"}, topic["tags"], "tags are lowercased and de-duplicated")
	assert.Contains(t, topic["contentHtml"], "<strong>downtime</strong>")
	assert.Equal(t, "We see downtime on line 4. vibration heat", topic["excerpt"])
	assert.Equal(t, "Sara Al-Faisal", topic["author"])
	assert.Equal(t, true, topic["isMine"])
	assert.Equal(t, "/api/v1/forum/topics/"+id, res.Header.Get("Location"))

	// A member of another organization answers; the author answers them in a nested reply.
	res = badr.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "Try vibration sensors on the motors."})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	answer := res.JSON()["id"].(string)
	res = amal.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "Which vendor?", "parentId": answer})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	assert.EqualValues(t, 1, res.JSON()["depth"])
	res = badr.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "x", "parentId": uuid.NewString()})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a parent of no reply of this topic")

	// The topic's author hears of the answer, the answerer of the reply to it; nobody of their own.
	unreadReaches(t, amal.Client, 1)
	unreadReaches(t, badr.Client, 1)
	note := items(t, badr.Do(http.MethodGet, "/api/v1/notifications", nil))[0]
	assert.Equal(t, "reply", note["type"])
	assert.Equal(t, "forum_topic", note["targetType"])
	assert.Equal(t, id, note["targetId"])
	assert.Equal(t, "How to improve production line efficiency using sensors?", note["data"].(map[string]any)["title"])
	assert.Equal(t, "Which vendor?", note["data"].(map[string]any)["preview"])

	detail := badr.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).JSON()
	assert.EqualValues(t, 2, detail["replies"])
	assert.Equal(t, false, detail["isMine"])
	comments := detail["comments"].([]any)
	require.Len(t, comments, 1)
	first := comments[0].(map[string]any)
	assert.Equal(t, answer, first["id"])
	assert.EqualValues(t, 1, first["replyCount"])
	require.Len(t, first["replies"], 1)
	assert.Equal(t, "Which vendor?", first["replies"].([]any)[0].(map[string]any)["content"])

	// Likes: once per user, with the viewer's own state.
	for range 2 {
		res = badr.Do(http.MethodPut, "/api/v1/forum/topics/"+id+"/like", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.EqualValues(t, 1, res.JSON()["likes"])
	}
	assert.Equal(t, true, badr.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).JSON()["likedByMe"])
	assert.Equal(t, false, amal.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).JSON()["likedByMe"])
	res = amal.Do(http.MethodPut, "/api/v1/forum/replies/"+answer+"/like", nil)
	assert.EqualValues(t, 1, res.JSON()["likes"])
	res = amal.Do(http.MethodDelete, "/api/v1/forum/replies/"+answer+"/like", nil)
	assert.EqualValues(t, 0, res.JSON()["likes"])

	// Only the author marks the best answer, and edits or deletes the topic.
	res = badr.Do(http.MethodPut, "/api/v1/forum/topics/"+id+"/best-answer", map[string]any{"replyId": answer})
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())
	res = badr.Do(http.MethodPatch, "/api/v1/forum/topics/"+id, map[string]any{"title": "Hijacked title"})
	assert.Equal(t, http.StatusForbidden, res.Status)
	res = badr.Do(http.MethodDelete, "/api/v1/forum/topics/"+id, nil)
	assert.Equal(t, http.StatusForbidden, res.Status)
	res = amal.Do(http.MethodPut, "/api/v1/forum/topics/"+id+"/best-answer", map[string]any{"replyId": answer})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, true, res.JSON()["hasBestAnswer"])
	assert.Equal(t, answer, res.JSON()["bestAnswerId"])
	assert.Equal(t, true, res.JSON()["comments"].([]any)[0].(map[string]any)["isBestAnswer"])
	require.Equal(t, http.StatusOK, amal.Do(http.MethodPut, "/api/v1/forum/topics/"+id+"/best-answer", map[string]any{"replyId": answer}).Status)
	unreadReaches(t, badr.Client, 2)
	var types []string
	for _, n := range items(t, badr.Do(http.MethodGet, "/api/v1/notifications", nil)) {
		types = append(types, n["type"].(string))
	}
	assert.Equal(t, []string{"best_answer", "reply"}, types, "marked once, however often it is marked")

	listed := func(c seed.Account, query string) []string {
		var out []string
		for _, it := range items(t, c.Do(http.MethodGet, "/api/v1/forum/topics"+query, nil)) {
			out = append(out, it["id"].(string))
		}
		return out
	}
	assert.Contains(t, listed(badr, "?answered=true"), id)
	assert.NotContains(t, listed(badr, "?answered=false"), id)
	assert.Contains(t, listed(badr, "?category=automation"), id)
	assert.NotContains(t, listed(badr, "?category=maintenance"), id)
	assert.Contains(t, listed(badr, "?tag=OEE"), id)
	assert.Contains(t, listed(badr, "?sort=liked"), id)
	assert.NotContains(t, listed(badr, "?bookmarked=true"), id)
	require.Equal(t, http.StatusOK, badr.Do(http.MethodPut, "/api/v1/forum/topics/"+id+"/bookmark", nil).Status)
	assert.Equal(t, []string{id}, listed(badr, "?bookmarked=true"))

	// Views: once per user per day however often they look, counted a moment later.
	require.Eventually(t, func() bool {
		return amal.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).JSON()["views"] == float64(2)
	}, 15*time.Second, 200*time.Millisecond, "two viewers, two views")

	// The sidebar: counts and reputation (badr: a like on his answer is 10, the best answer 50).
	stats := amal.Do(http.MethodGet, "/api/v1/forum/stats", nil).JSON()
	assert.EqualValues(t, 1, stats["bestAnswers"])
	assert.EqualValues(t, 2, stats["activeMembers"])
	assert.EqualValues(t, 2, stats["replies"])
	top := stats["topContributors"].([]any)
	require.NotEmpty(t, top)
	assert.Equal(t, badr.ID, top[0].(map[string]any)["id"])
	assert.EqualValues(t, 50, top[0].(map[string]any)["points"])

	// The author edits: marked edited, rendered again.
	res = amal.Do(http.MethodPatch, "/api/v1/forum/topics/"+id, map[string]any{"content": "Now with _emphasis_."})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.NotNil(t, res.JSON()["editedAt"])
	assert.Contains(t, res.JSON()["contentHtml"], "<em>emphasis</em>")

	// A deleted reply with replies stays as a tombstone; the best answer goes with it.
	require.Equal(t, http.StatusForbidden, amal.Do(http.MethodDelete, "/api/v1/forum/replies/"+answer, nil).Status)
	require.Equal(t, http.StatusNoContent, badr.Do(http.MethodDelete, "/api/v1/forum/replies/"+answer, nil).Status)
	detail = amal.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).JSON()
	assert.Equal(t, false, detail["hasBestAnswer"])
	tomb := detail["comments"].([]any)[0].(map[string]any)
	assert.Equal(t, true, tomb["isDeleted"])
	assert.Equal(t, "", tomb["content"])
	assert.Equal(t, "", tomb["author"])
	assert.Len(t, tomb["replies"], 1, "its replies still read")

	// Unknown ids, and ids that are not ids, answer 404 everywhere.
	for _, bad := range []string{uuid.NewString(), "not-an-id"} {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/forum/topics/" + bad},
			{http.MethodPut, "/api/v1/forum/topics/" + bad + "/like"},
			{http.MethodPut, "/api/v1/forum/replies/" + bad + "/like"},
			{http.MethodPut, "/api/v1/forum/topics/" + bad + "/bookmark"},
			{http.MethodGet, "/api/v1/forum/topics/" + bad + "/replies"},
			{http.MethodDelete, "/api/v1/forum/replies/" + bad},
		} {
			res := amal.Do(req.method, req.path, nil)
			assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", req.method, req.path, res)
		}
	}

	// Deleting the topic takes it out of every list and its count out of its category.
	require.Equal(t, http.StatusNoContent, amal.Do(http.MethodDelete, "/api/v1/forum/topics/"+id, nil).Status)
	assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).Status)
	assert.NotContains(t, listed(badr, ""), id)
	assert.EqualValues(t, 0, items(t, amal.Do(http.MethodGet, "/api/v1/forum/categories", nil))[0]["topicCount"])
}

// TestForumRefusesBadPostsAndNeutralisesXSS: what a post must be, and markup that could run never
// survives rendering.
func TestForumRefusesBadPostsAndNeutralisesXSS(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal := seed.Verified(t, env, srv, "xss")

	unconfirmed := seed.Founder(t, srv, "unconfirmed")
	res := unconfirmed.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "A good title", "content": "body"})
	assert.Equal(t, http.StatusForbidden, res.Status, "posting waits for a confirmed address: %s", res)

	for name, body := range map[string]map[string]any{
		"short title":      {"title": "Hey", "content": "body"},
		"no content":       {"title": "A good title", "content": "  "},
		"unknown category": {"title": "A good title", "content": "body", "category": "cooking"},
		"unknown kind":     {"title": "A good title", "content": "body", "kind": "poll"},
		"too many tags":    {"title": "A good title", "content": "body", "tags": []string{"a", "b", "c", "d", "e", "f"}},
		"too many links":   {"title": "A good title", "content": strings.Repeat("[cheap](https://spam.example/x) https://spam.example/y ", 6)},
	} {
		res := amal.Do(http.MethodPost, "/api/v1/forum/topics", body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res)
	}

	corpus := strings.Join([]string{
		`<script>alert(1)</script>`,
		`[click](javascript:alert(1))`,
		`<img src=x onerror=alert(1)>`,
		`![x](javascript:alert(1))`,
		`<svg onload=alert(1)><circle/></svg>`,
		`<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<div style="background:url(javascript:alert(1))">styled</div>`,
		`[ok](https://example.com)`,
	}, "\n\n")
	res = amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "Hostile markup", "content": corpus})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	html := strings.ToLower(res.JSON()["contentHtml"].(string))
	for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "<svg", "<iframe", "data:text/html", "style="} {
		assert.NotContains(t, html, bad)
	}
	assert.Contains(t, html, `href="https://example.com"`, "safe links survive")
	assert.Contains(t, html, `rel="nofollow`)
	assert.Equal(t, corpus, res.JSON()["content"], "the Markdown is kept as written, for editing")
}

// TestForumTopicRoomIsLive: viewers who joined a topic's room hear new, edited and deleted
// replies and the topic's counters change, on two nodes; a topic that does not exist cannot be
// joined.
func TestForumTopicRoomIsLive(t *testing.T) {
	env := harness.NewEnv(t)
	nodes := []*harness.Server{env.Start(t), env.Start(t)}
	amal, badr := seed.Verified(t, env, nodes[0], "live-a"), seed.Verified(t, env, nodes[1], "live-b")
	res := amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "Live thread", "content": "Who is watching?"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	join := func(c *sioclient.Client, room string) map[string]any {
		ack, err := c.EmitWithAck(ctx, "room:join", map[string]any{"room": room})
		require.NoError(t, err)
		require.NotEmpty(t, ack)
		return ack[0].(map[string]any)
	}
	viewers := []*sioclient.Client{socket(t, nodes[0], amal.AccessToken), socket(t, nodes[1], badr.AccessToken)}
	for _, v := range viewers {
		assert.Equal(t, true, join(v, "topic:"+id)["ok"])
	}
	assert.Equal(t, false, join(viewers[1], "topic:"+uuid.NewString())["ok"], "an unknown topic cannot be joined")

	res = badr.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "Me, from another node."})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	reply := res.JSON()["id"].(string)
	for i, v := range viewers {
		ev, err := v.Next(ctx, "post:new")
		require.NoError(t, err, "viewer %d", i)
		r := ev.Args[0].(map[string]any)["reply"].(map[string]any)
		assert.Equal(t, reply, r["id"])
		assert.Equal(t, "Me, from another node.", r["content"])
		assert.Equal(t, false, r["isMine"], "pushes carry nobody's own view")
		topic := ev.Args[0].(map[string]any)["topic"].(map[string]any)
		assert.EqualValues(t, 1, topic["replies"], "the topic's counters come with the reply")
		assert.Nil(t, topic["content"])
	}

	require.Equal(t, http.StatusOK, amal.Do(http.MethodPut, "/api/v1/forum/topics/"+id+"/like", nil).Status)
	ev, err := viewers[1].Next(ctx, "topic:updated")
	require.NoError(t, err)
	assert.EqualValues(t, 1, ev.Args[0].(map[string]any)["topic"].(map[string]any)["likes"])

	require.Equal(t, http.StatusOK, badr.Do(http.MethodPatch, "/api/v1/forum/replies/"+reply, map[string]any{"content": "Edited."}).Status)
	ev, err = viewers[0].Next(ctx, "post:updated")
	require.NoError(t, err)
	assert.Equal(t, "Edited.", ev.Args[0].(map[string]any)["reply"].(map[string]any)["content"])

	require.Equal(t, http.StatusNoContent, badr.Do(http.MethodDelete, "/api/v1/forum/replies/"+reply, nil).Status)
	ev, err = viewers[0].Next(ctx, "post:deleted")
	require.NoError(t, err)
	gone := ev.Args[0].(map[string]any)["reply"].(map[string]any)
	assert.Equal(t, reply, gone["id"])
	assert.Equal(t, true, gone["isDeleted"])
	assert.Equal(t, "", gone["content"])
}

// TestForumSearchFindsArabicVariantsAndMarksMatches: a topic written with one Arabic spelling is
// found with another, English finds other forms of a word, matches come marked in escaped text,
// and the list's filters apply.
func TestForumSearchFindsArabicVariantsAndMarksMatches(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal := seed.Verified(t, env, srv, "search")
	post := func(title, content, category string) string {
		res := amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": title, "content": content, "category": category, "kind": "question"})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		return res.JSON()["id"].(string)
	}
	arabic := post("صيانة المضخات في المصنع", "نحتاج إلى خطة لصيانة **المضخة** الرئيسية <script>x</script> قبل الصيف", "maintenance")
	english := post("Predictive maintenance for pumps", "Our pumps fail every summer; vibration monitoring helped & saved 20%.", "maintenance")
	post("Quality audits", "Nothing about the other subject here.", "quality-management")

	search := func(query string) []map[string]any {
		res := amal.Do(http.MethodGet, "/api/v1/forum/search?q="+url.QueryEscape(query), nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		var out []map[string]any
		for _, it := range res.JSON()["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	ids := func(hits []map[string]any) []string {
		var out []string
		for _, h := range hits {
			out = append(out, h["topic"].(map[string]any)["id"].(string))
		}
		return out
	}

	// "المضخه" (taa marbuta written as haa) and "المُضخة" (with a diacritic) find "المضخة".
	for _, variant := range []string{"المضخه", "المُضخة", "مضخة"} {
		hits := search(variant)
		require.Equal(t, []string{arabic}, ids(hits), variant)
		assert.Contains(t, hits[0]["titleHighlight"].(string)+hits[0]["highlight"].(string), "<mark>", variant)
	}
	hits := search("صيانه")
	require.Equal(t, []string{arabic}, ids(hits))
	assert.Contains(t, hits[0]["titleHighlight"], "<mark>")

	// English stems: "pump" finds "pumps"; matches are marked, the rest escaped.
	hits = search("pump monitor")
	require.Equal(t, []string{english}, ids(hits))
	assert.Contains(t, hits[0]["highlight"], "<mark>")
	assert.Contains(t, hits[0]["highlight"], "&amp;", "text is escaped before it is marked")
	for _, h := range search("الرئيسية") {
		assert.NotContains(t, h["highlight"], "<script", "no markup but the marks")
	}

	// Filters, and what is refused.
	res := amal.Do(http.MethodGet, "/api/v1/forum/search?q=pumps&category=quality-management", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Empty(t, res.JSON()["items"])
	for _, q := range []string{"", strings.Repeat("x", 201)} {
		res := amal.Do(http.MethodGet, "/api/v1/forum/search?q="+url.QueryEscape(q), nil)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	}
}

// TestForumLimitsPostingRate: topics and replies count together per user; beyond the burst the
// answer is 429 with Retry-After, and another user is not held back.
func TestForumLimitsPostingRate(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_FORUM_POSTS_PER_MINUTE=3")
	fast, other := seed.Verified(t, env, srv, "fast"), seed.Verified(t, env, srv, "calm")
	res := fast.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "Rate limits", "content": "first"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	for range 2 {
		require.Equal(t, http.StatusCreated, fast.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "more"}).Status)
	}
	res = fast.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "too fast"})
	require.Equal(t, http.StatusTooManyRequests, res.Status, res.String())
	assert.Equal(t, "rate_limited", res.JSON()["code"])
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Equal(t, http.StatusCreated, other.Do(http.MethodPost, "/api/v1/forum/topics/"+id+"/replies", map[string]any{"content": "me"}).Status)
}

// TestForumMentions: the composer finds people across organizations but not hidden ones; a saved
// mention links the profile and notifies once per post (a mention of someone also replied to is
// one notification); a mention of a hidden user stays text and tells no one.
func TestForumMentions(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal, badr, carol := seed.Verified(t, env, srv, "m-amal"), seed.Verified(t, env, srv, "m-badr"), seed.Founder(t, srv, "m-carol")
	require.Equal(t, http.StatusOK, carol.Do(http.MethodPatch, "/api/v1/me", map[string]any{"profileVisibility": "private"}).Status)

	res := amal.Do(http.MethodGet, "/api/v1/forum/mentions?q=@sar", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	found := map[string]string{}
	for _, it := range items(t, res) {
		found[it["id"].(string)] = it["mention"].(string)
	}
	assert.Contains(t, found, badr.ID, "another organization's user")
	assert.NotContains(t, found, carol.ID, "a private profile is not offered")
	assert.Equal(t, http.StatusUnprocessableEntity, amal.Do(http.MethodGet, "/api/v1/forum/mentions?q=", nil).Status)

	hidden := "@[Carol](mention:" + carol.ID + ")"
	res = amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "Calling experts",
		"content": "What do you think " + found[badr.ID] + " and " + found[badr.ID] + "? Also " + hidden})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	topic := res.JSON()
	assert.Contains(t, topic["contentHtml"], `href="/users/`+badr.ID+`"`)
	assert.NotContains(t, topic["contentHtml"], carol.ID, "a hidden user's mention stays text")
	assert.Contains(t, topic["contentHtml"], "@Carol")

	unreadReaches(t, badr.Client, 1)
	n := items(t, badr.Do(http.MethodGet, "/api/v1/notifications", nil))[0]
	assert.Equal(t, "mention", n["type"])
	assert.Equal(t, topic["id"], n["targetId"])

	// badr replies mentioning amal, who is also the topic's author: one notification, the mention.
	res = badr.Do(http.MethodPost, "/api/v1/forum/topics/"+topic["id"].(string)+"/replies",
		map[string]any{"content": "Thanks @[Amal](mention:" + amal.ID + ")"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	unreadReaches(t, amal.Client, 1)
	var types []string
	for _, n := range items(t, amal.Do(http.MethodGet, "/api/v1/notifications", nil)) {
		types = append(types, n["type"].(string))
	}
	assert.Equal(t, []string{"mention"}, types)
	time.Sleep(500 * time.Millisecond)
	res = carol.Do(http.MethodGet, "/api/v1/notifications/unread-count", nil)
	assert.EqualValues(t, 0, res.JSON()["unread"], "the hidden user was not told")
}
