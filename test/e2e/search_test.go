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

	search := func(who seed.Account, query string) map[string]any {
		t.Helper()
		res := who.Do(http.MethodGet, "/api/v1/search?"+query, nil)
		require.Equal(t, http.StatusOK, res.Status, query+": "+res.String())
		return res.JSON()
	}
	group := func(r map[string]any, typ string) []map[string]any {
		t.Helper()
		g, ok := r[typ].(map[string]any)
		require.True(t, ok, "%s in %v", typ, r)
		var out []map[string]any
		for _, it := range g["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}

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
	assert.EqualValues(t, map[string]any{"topics": 0.0, "use-cases": 1.0, "people": 0.0, "messages": 1.0}, r["counts"])

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
