package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestSearchEverywhere: one search finds an Arabic topic by a spelling variant, a published use
// case by a technology tag, a person by name and the searcher's own message, each typed and
// marked; never a draft, another pair's conversation or a private profile; pages one type at a
// time; suggestions complete a prefix from topics, use cases, people and cities; hostile queries
// answer 422 and the routes need a session.
func TestSearchEverywhere(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("se-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr, nura := seed.Verified(t, env, srv, "se-amal"), seed.Verified(t, env, srv, "se-badr"), seed.Verified(t, env, srv, "se-nura")

	// A published use case tagged with a technology, and a draft with the same word.
	uc := completeUseCase(t)
	uc["tags"] = []any{"Thermography", "AI"}
	res := amal.Do(http.MethodPost, "/api/v1/use-cases", uc)
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	published := res.JSON()["id"].(string)
	require.Equal(t, http.StatusOK, amal.Do(http.MethodPost, "/api/v1/use-cases/"+published+"/submit", nil).Status)
	res = mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+published+"/decision", map[string]any{"action": "publish"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	draft := amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "Thermography draft nobody sees", "tags": []any{"Thermography"}})
	require.Equal(t, http.StatusCreated, draft.Status, draft.String())

	// An Arabic topic (written with ة), and messages: amal's with badr, and badr's with nura that
	// amal may not find.
	res = badr.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": "صيانة المضخة الرئيسية في المصنع", "kind": "question",
		"category": "Maintenance", "content": "كم مرة تجرون الصيانة الوقائية للمضخة؟"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	topic := res.JSON()["id"].(string)
	send := func(from, to seed.Account, text string) {
		res := from.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{to.ID}})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		id := res.JSON()["id"].(string)
		require.Equal(t, http.StatusCreated, from.Do(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"content": text}).Status)
	}
	send(amal, badr, "Thermography results from line 3 attached")
	send(badr, nura, "Private: thermography budget")
	res = badr.Do(http.MethodPatch, "/api/v1/me", map[string]any{"firstName": "Badruddin"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = nura.Do(http.MethodPatch, "/api/v1/me", map[string]any{"firstName": "Nurhayat", "profileVisibility": "private"})
	require.Equal(t, http.StatusOK, res.Status, res.String())

	search := func(who seed.Account, query string) map[string]any { return searchAs(t, who, query) }
	group := func(r map[string]any, typ string) []map[string]any { return resultsOf(t, r, typ) }

	// amal: the use case by its tag (not the draft), her own message, no topic.
	r := search(amal, "q=thermography")
	assert.Equal(t, "all", r["type"])
	ucs := group(r, "useCases")
	require.Len(t, ucs, 1, "the published use case, not the draft")
	assert.Equal(t, published, ucs[0]["id"])
	msgs := group(r, "messages")
	require.Len(t, msgs, 1, "amal's own conversation only")
	assert.Contains(t, msgs[0]["highlight"], "<mark>")
	assert.Empty(t, group(r, "topics"))
	assert.EqualValues(t, map[string]any{"topics": 0.0, "replies": 0.0, "use-cases": 1.0, "people": 0.0, "organizations": 0.0,
		"messages": 1.0}, r["counts"])

	// The Arabic topic by another spelling (ه for ة, ا for أ), marked.
	r = search(nura, "q="+url.QueryEscape("صيانه المضخه"))
	topics := group(r, "topics")
	require.Len(t, topics, 1)
	assert.Equal(t, topic, topics[0]["topic"].(map[string]any)["id"])
	assert.Contains(t, topics[0]["titleHighlight"], "<mark>")

	// People by name; a private profile is not found by others.
	people := group(search(amal, "type=people&q=badrud"), "people")
	var found bool
	for _, p := range people {
		found = found || p["id"] == badr.ID
	}
	assert.True(t, found, "badr by his first name")
	assert.Empty(t, group(search(amal, "type=people&q=nurhayat"), "people"), "a private profile")

	// One type at a time, with its cursor.
	r = search(badr, "type=messages&q=thermography&limit=1")
	assert.Len(t, group(r, "messages"), 1)
	assert.Nil(t, r["topics"], "only the type asked for")
	next := r["messages"].(map[string]any)["nextCursor"]
	require.NotNil(t, next, "badr has two thermography messages")
	r = search(badr, "type=messages&q=thermography&limit=1&cursor="+url.QueryEscape(next.(string)))
	assert.Len(t, group(r, "messages"), 1)

	// A single letter: no messages (they need two), the rest searched.
	r = search(amal, "q=t")
	assert.Empty(t, group(r, "messages"))

	// Suggestions.
	suggest := func(q string) []map[string]any {
		t.Helper()
		res := amal.Do(http.MethodGet, "/api/v1/search/suggest?q="+url.QueryEscape(q), nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, false, res.JSON()["partial"])
		var out []map[string]any
		for _, it := range res.JSON()["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	got := suggest("quality insp")
	require.Len(t, got, 1)
	assert.Equal(t, map[string]any{"type": "use-case", "id": published, "text": "AI Quality Inspection System", "link": "/use-cases/" + published}, got[0])
	assert.Empty(t, suggest("thermography draft"), "a draft is never suggested")
	res = amal.Do(http.MethodGet, "/api/v1/search/suggest?q="+url.QueryEscape("المضخه الرئيسيه"), nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	sugg := res.JSON()["items"].([]any)
	require.NotEmpty(t, sugg, "the Arabic topic by another spelling")
	assert.Equal(t, map[string]any{"type": "topic", "id": topic, "text": "صيانة المضخة الرئيسية في المصنع", "link": "/forum/topics/" + topic}, sugg[0])
	res = amal.Do(http.MethodGet, "/api/v1/search/suggest?q="+url.QueryEscape("100%_"), nil)
	require.Equal(t, http.StatusOK, res.Status, "LIKE's wildcards are text: "+res.String())
	res = amal.Do(http.MethodGet, "/api/v1/search/suggest?q=riy", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	city := res.JSON()["items"].([]any)
	require.NotEmpty(t, city)
	last := city[len(city)-1].(map[string]any)
	assert.Equal(t, "city", last["type"])
	assert.Equal(t, "Riyadh", last["text"])
	assert.Equal(t, "الرياض", last["textAr"])

	for _, bad := range []string{"/api/v1/search", "/api/v1/search?q=", "/api/v1/search?q=%00x", "/api/v1/search?q=%ff",
		"/api/v1/search?q=" + strings.Repeat("a", 201), "/api/v1/search?q=x&type=orders", "/api/v1/search?q=x&cursor=abc",
		"/api/v1/search?q=x&type=topics&cursor=abc", "/api/v1/search?q=x&limit=1000", "/api/v1/search?q=x&limit=x",
		"/api/v1/search/suggest", "/api/v1/search/suggest?q=" + strings.Repeat("b", 101)} {
		res := amal.Do(http.MethodGet, bad, nil)
		assert.True(t, res.Status == http.StatusBadRequest || res.Status == http.StatusUnprocessableEntity, bad+": "+res.String())
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/search?q=x", nil).Status)
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/search/suggest?q=x", nil).Status)
}

// TestSearchRepliesAndOrganizations: a reply is found by an Arabic spelling variant, marked, with
// its topic and the link to it, and in a search of everything with its count; a deleted reply, a
// hidden one and the replies of a deleted topic never are; an organization is found by a part of
// its name (and suggested) until it is suspended; the type's message names every type.
func TestSearchRepliesAndOrganizations(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("sr-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	hala, omar, zaid := seed.Verified(t, env, srv, "sr-hala"), seed.Verified(t, env, srv, "sr-omar"), seed.Verified(t, env, srv, "sr-zaid")

	post := func(who seed.Account, path string, body map[string]any) string {
		t.Helper()
		res := who.Do(http.MethodPost, path, body)
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		return res.JSON()["id"].(string)
	}
	topic := post(hala, "/api/v1/forum/topics", map[string]any{"title": "Cooling tower water treatment", "kind": "question",
		"category": "Maintenance", "content": "Which chemicals do you dose, and how often?"})
	gone := post(hala, "/api/v1/forum/topics", map[string]any{"title": "Chiller noise", "kind": "discussion",
		"category": "Maintenance", "content": "Ours got louder after the overhaul."})
	// The same word (مضخة, written with ة) in every reply: only the live one may be found.
	live := post(omar, "/api/v1/forum/topics/"+topic+"/replies", map[string]any{"content": "نستخدم **مضخة** جرعات آلية للكلور"})
	deleted := post(omar, "/api/v1/forum/topics/"+topic+"/replies", map[string]any{"content": "مضخة قديمة حذفت"})
	hidden := post(zaid, "/api/v1/forum/topics/"+topic+"/replies", map[string]any{"content": "مضخة رخيصة للبيع"})
	orphan := post(zaid, "/api/v1/forum/topics/"+gone+"/replies", map[string]any{"content": "مضخة في موضوع محذوف"})
	require.Equal(t, http.StatusNoContent, omar.Do(http.MethodDelete, "/api/v1/forum/replies/"+deleted, nil).Status)
	res := mod.Do(http.MethodPost, "/api/v1/forum/replies/"+hidden+"/hide", map[string]any{"reason": "advertising"})
	require.True(t, res.Status/100 == 2, res.String())
	require.Equal(t, http.StatusNoContent, hala.Do(http.MethodDelete, "/api/v1/forum/topics/"+gone, nil).Status)

	search := func(who seed.Account, query string) map[string]any { return searchAs(t, who, query) }
	items := func(r map[string]any, typ string) []map[string]any { return resultsOf(t, r, typ) }

	// By another spelling (ه for ة), one type at a time.
	r := search(hala, "type=replies&q="+url.QueryEscape("مضخه"))
	assert.Nil(t, r["topics"], "only the type asked for")
	replies := items(r, "replies")
	require.Len(t, replies, 1, "not the deleted, the hidden or the deleted topic's reply: %v", replies)
	got := replies[0]
	assert.Equal(t, live, got["id"])
	assert.Equal(t, topic, got["topicId"])
	assert.Equal(t, "Cooling tower water treatment", got["topicTitle"])
	assert.Equal(t, omar.ID, got["authorId"])
	assert.Equal(t, "/forum/topics/"+topic+"#reply-"+live, got["link"])
	assert.Contains(t, got["highlight"], "<mark>")
	assert.NotContains(t, got["highlight"], "<strong>", "the snippet is text, not the reply's HTML")
	for _, id := range []string{deleted, hidden, orphan} {
		assert.NotEqual(t, id, got["id"])
	}

	// In a search of everything, counted with the rest.
	r = search(zaid, "q="+url.QueryEscape("مضخه"))
	require.Len(t, items(r, "replies"), 1)
	counts := r["counts"].(map[string]any)
	assert.EqualValues(t, 1, counts["replies"])
	assert.EqualValues(t, 0, counts["organizations"])
	assert.Empty(t, items(r, "organizations"))

	// Organizations by a part of their name, any case; a prefix pages with its cursor.
	r = search(hala, "type=organizations&q=SR-ZAID")
	orgs := items(r, "organizations")
	require.Len(t, orgs, 1)
	assert.Equal(t, zaid.OrgID, orgs[0]["id"])
	assert.Equal(t, "sr-zaid Industries", orgs[0]["name"])
	assert.EqualValues(t, 1, orgs[0]["memberCount"])
	assert.Equal(t, "/organizations/"+zaid.OrgID, orgs[0]["link"])
	r = search(hala, "q=industries&type=organizations&limit=2")
	require.Len(t, items(r, "organizations"), 2)
	next := r["organizations"].(map[string]any)["nextCursor"]
	require.NotNil(t, next, "hala's, omar's and zaid's organizations are named Industries")
	first := items(r, "organizations")
	r = search(hala, "q=industries&type=organizations&limit=2&cursor="+url.QueryEscape(next.(string)))
	rest := items(r, "organizations")
	require.Len(t, rest, 1)
	assert.Nil(t, r["organizations"].(map[string]any)["nextCursor"])
	seen := map[any]bool{first[0]["id"]: true, first[1]["id"]: true, rest[0]["id"]: true}
	assert.Len(t, seen, 3, "each organization once across the pages")
	r = search(hala, "q=industries")
	assert.Len(t, items(r, "organizations"), 3)
	assert.EqualValues(t, 3, r["counts"].(map[string]any)["organizations"])
	res = hala.Do(http.MethodGet, "/api/v1/search/suggest?q=sr-zaid", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	var suggested bool
	for _, it := range res.JSON()["items"].([]any) {
		s := it.(map[string]any)
		suggested = suggested || (s["type"] == "organization" && s["id"] == zaid.OrgID)
	}
	assert.True(t, suggested, "the organization is suggested: %s", res.String())

	// A suspended organization is never found.
	res = mod.Do(http.MethodPut, "/api/v1/moderation/organizations/"+zaid.OrgID+"/suspension", map[string]any{"reason": "fraud"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Empty(t, items(search(hala, "type=organizations&q=sr-zaid"), "organizations"))

	res = hala.Do(http.MethodGet, "/api/v1/search?q=x&type=orders", nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	assert.Contains(t, res.String(), "must be all, topics, replies, use-cases, people, organizations or messages")
}

// searchAs runs GET /search?query as who and returns the answer.
func searchAs(t *testing.T, who seed.Account, query string) map[string]any {
	t.Helper()
	res := who.Do(http.MethodGet, "/api/v1/search?"+query, nil)
	require.Equal(t, http.StatusOK, res.Status, query+": "+res.String())
	return res.JSON()
}

// resultsOf is the items of one type of a search's answer.
func resultsOf(t *testing.T, r map[string]any, typ string) []map[string]any {
	t.Helper()
	g, ok := r[typ].(map[string]any)
	require.True(t, ok, "%s in %v", typ, r)
	var out []map[string]any
	for _, it := range g["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}
