package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
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

// completeUseCase passes every step of the submission form (the domain tests' use case).
func completeUseCase(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../domain/usecase/testdata/complete.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func problemFields(t *testing.T, res *harness.Response) map[string]string {
	t.Helper()
	out := map[string]string{}
	errsList, _ := res.JSON()["errors"].([]any)
	for _, e := range errsList {
		f := e.(map[string]any)
		out[f["field"].(string)] = f["message"].(string)
	}
	return out
}

// TestUseCaseJourney: a draft is started and autosaved (a stale version answers 412), its steps
// validated with field paths in English and Arabic, submitted, sent back by a moderator (not by
// anyone else) with comments its author is notified of, resubmitted and published; it then
// appears in the library and its search, and is liked and saved. Another organization never sees
// the draft nor changes it; unknown ids answer 404; hostile bodies answer 4xx naming the field.
func TestUseCaseJourney(t *testing.T) { onEachBackend(t, useCaseJourney) }

func useCaseJourney(t *testing.T, env *harness.Env) {
	modEmail := harness.UniqueEmail("uc-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr := seed.Verified(t, env, srv, "uc-amal"), seed.Verified(t, env, srv, "uc-badr")

	// A draft, autosaved.
	res := amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "Draft"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	path := "/api/v1/use-cases/" + id
	assert.Equal(t, path, res.Header.Get("Location"))
	assert.Equal(t, `"1"`, res.Header.Get("ETag"))
	assert.Equal(t, "draft", res.JSON()["status"])

	// Complete but for one baseline, which the step validation below names.
	draftBody := completeUseCase(t)
	draftBody["results"].(map[string]any)["quantitativeMetrics"].([]any)[1].(map[string]any)["baseline"] = "x"
	res = amal.Do(http.MethodPatch, path, draftBody, `If-Match: "1"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, `"2"`, res.Header.Get("ETag"))
	assert.Equal(t, "AI Quality Inspection System", res.JSON()["title"])
	assert.Equal(t, "Riyadh", res.JSON()["location"].(map[string]any)["city"])
	res = amal.Do(http.MethodPatch, path, map[string]any{"title": "From another tab"}, `If-Match: "1"`)
	assert.Equal(t, http.StatusPreconditionFailed, res.Status, res.String())
	assert.Equal(t, "precondition_failed", res.JSON()["code"])
	assert.Equal(t, "AI Quality Inspection System", amal.Do(http.MethodGet, path, nil).JSON()["title"], "the stale save changed nothing")

	// Hostile bodies.
	res = amal.Do(http.MethodPatch, path, `{"title": "a\u0000b"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	assert.Contains(t, problemFields(t, res), "title")
	res = amal.Do(http.MethodPatch, path, `{"results": {"quantitativeMetrics": [{"baseline": 5}]}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	assert.Contains(t, problemFields(t, res), "results.quantitativeMetrics.baseline")
	assert.Equal(t, http.StatusBadRequest, amal.Do(http.MethodPatch, path, `{"title": `).Status)
	assert.Equal(t, http.StatusBadRequest, amal.Do(http.MethodPatch, path, `{"colour": "red"}`).Status)
	assert.Equal(t, http.StatusBadRequest, amal.Do(http.MethodPatch, path, []byte("{\"title\": \"\xff\xfe\"}")).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, amal.Do(http.MethodPatch, path, map[string]any{"title": "x"}, "If-Match: soon").Status)

	// Per-step validation: field paths, in English and Arabic.
	res = amal.Do(http.MethodPost, path+"/validate?step=1", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, true, res.JSON()["valid"])
	res = amal.Do(http.MethodPost, path+"/validate?step=4", nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	assert.Equal(t, map[string]string{"results.quantitativeMetrics[1].baseline": "must be at least 2 characters"}, problemFields(t, res))
	res = amal.Do(http.MethodPost, path+"/validate?step=4", nil, "Accept-Language: ar-SA,ar;q=0.9")
	assert.Equal(t, map[string]string{"results.quantitativeMetrics[1].baseline": "يجب ألا يقل عن 2 أحرف"}, problemFields(t, res))
	assert.Equal(t, http.StatusUnprocessableEntity, amal.Do(http.MethodPost, path+"/validate?step=9", nil).Status)
	res = amal.Do(http.MethodPost, path+"/submit", nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "submission checks every step")
	assert.Contains(t, problemFields(t, res), "results.quantitativeMetrics[1].baseline")

	// Another organization sees nothing of the draft and changes nothing; unknown ids are 404.
	for _, p := range []string{path, "/api/v1/use-cases/" + uuid.NewString(), "/api/v1/use-cases/not-an-id"} {
		assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodGet, p, nil).Status, p)
		assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodPatch, p, map[string]any{"title": "Hijacked"}).Status, p)
		assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodDelete, p, nil).Status, p)
		assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodPost, p+"/submit", nil).Status, p)
		assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodPost, p+"/validate?step=1", nil).Status, p)
	}

	// The moderators' queue, live: only reviewers may watch it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watch := func(token string) (*sioclient.Client, map[string]any) {
		sock := socket(t, srv, token)
		ack, err := sock.EmitWithAck(ctx, "room:join", map[string]any{"room": "moderation:use-cases"})
		require.NoError(t, err)
		return sock, ack[0].(map[string]any)
	}
	queueSock, ack := watch(mod.AccessToken)
	require.Equal(t, true, ack["ok"], "%v", ack)
	_, ack = watch(amal.AccessToken)
	assert.Equal(t, false, ack["ok"], "not a reviewer: %v", ack)

	// Fixed and submitted.
	metrics := completeUseCase(t)["results"].(map[string]any)["quantitativeMetrics"].([]any)
	metrics[1].(map[string]any)["baseline"] = "40s"
	res = amal.Do(http.MethodPatch, path, map[string]any{"results": map[string]any{"quantitativeMetrics": metrics}}, `If-Match: "2"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = amal.Do(http.MethodPost, path+"/submit", nil, `If-Match: "3"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "submitted", res.JSON()["status"])
	assert.Equal(t, http.StatusConflict, amal.Do(http.MethodPatch, path, map[string]any{"title": "Too late to edit"}).Status)
	ev, err := queueSock.Next(ctx, "usecase:submitted")
	require.NoError(t, err, "the queue hears of the submission")
	added := ev.Args[0].(map[string]any)
	assert.Equal(t, id, added["useCaseId"])
	assert.Equal(t, "AI Quality Inspection System", added["title"])
	assert.Equal(t, false, added["resubmitted"])

	// Only moderators review.
	assert.Equal(t, http.StatusForbidden, amal.Do(http.MethodGet, "/api/v1/moderation/use-cases", nil).Status)
	res = badr.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+id+"/decision", map[string]any{"action": "publish"})
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())
	queue := items(t, mod.Do(http.MethodGet, "/api/v1/moderation/use-cases", nil))
	require.NotEmpty(t, queue)
	assert.Equal(t, id, queue[len(queue)-1]["id"])
	assert.Equal(t, http.StatusOK, mod.Do(http.MethodGet, path, nil).Status, "moderators read what is submitted")
	decide := func(action, comments string) *harness.Response {
		return mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+id+"/decision", map[string]any{"action": action, "comments": comments})
	}
	assert.Equal(t, http.StatusUnprocessableEntity, decide("request_changes", "").Status, "comments say what to change")
	assert.Equal(t, http.StatusUnprocessableEntity, decide("archive", "x").Status)
	res = decide("request_changes", "Add the payback period.")
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "changes_requested", res.JSON()["status"])
	ev, err = queueSock.Next(ctx, "usecase:reviewed")
	require.NoError(t, err, "and of the decision, which takes it out of the queue")
	assert.Equal(t, "request_changes", ev.Args[0].(map[string]any)["action"])

	// The submitter is told, with the outcome and the comments.
	unreadReaches(t, amal.Client, 1)
	note := items(t, amal.Do(http.MethodGet, "/api/v1/notifications", nil))[0]
	assert.Equal(t, "use_case_reviewed", note["type"])
	assert.Equal(t, "use_case", note["targetType"])
	assert.Equal(t, id, note["targetId"])
	data := note["data"].(map[string]any)
	assert.Equal(t, "AI Quality Inspection System", data["title"])
	assert.Equal(t, "request_changes", data["outcome"])
	assert.Equal(t, "Add the payback period.", data["comments"])

	// Resubmitted, published.
	res = amal.Do(http.MethodPatch, path, map[string]any{"results": map[string]any{"roiAnalysis": map[string]any{"paybackPeriod": "1.5 months"}}})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = amal.Do(http.MethodPost, path+"/submit", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.EqualValues(t, 2, res.JSON()["submissions"])
	res = decide("publish", "")
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "published", res.JSON()["status"])
	unreadReaches(t, amal.Client, 2)

	// The library, its filters and search; a draft never shows.
	res = amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "Another inspection draft"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	draft := res.JSON()["id"].(string)
	listed := func(query string) []string {
		t.Helper()
		res := badr.Do(http.MethodGet, "/api/v1/use-cases"+query, nil)
		var out []string
		for _, it := range items(t, res) {
			out = append(out, it["id"].(string))
		}
		assert.EqualValues(t, len(out), res.JSON()["total"])
		return out
	}
	assert.Equal(t, []string{id}, listed(""))
	assert.Equal(t, []string{id}, listed("?category="+url.QueryEscape("Quality Control")+"&sort=liked"))
	assert.Empty(t, listed("?category=Sustainability"))
	assert.Equal(t, []string{id}, listed("?q=inspections"))
	assert.Equal(t, []string{id}, listed("?organizationId="+amal.OrgID))
	assert.Empty(t, listed("?q=welding"))
	assert.Equal(t, http.StatusUnprocessableEntity, badr.Do(http.MethodGet, "/api/v1/use-cases?sort=random", nil).Status)
	facets := badr.Do(http.MethodGet, "/api/v1/use-cases/facets?category=Sustainability", nil).JSON()
	assert.Equal(t, []any{map[string]any{"value": "Quality Control", "count": float64(1)}}, facets["categories"],
		"the category facet ignores the category filter")
	assert.Empty(t, facets["industries"], "within the filter, nothing")
	assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodGet, "/api/v1/use-cases/"+draft, nil).Status)
	mine := items(t, amal.Do(http.MethodGet, "/api/v1/use-cases/mine?status=draft", nil))
	require.Len(t, mine, 1)
	assert.Equal(t, draft, mine[0]["id"])

	// The detail, likes and saves.
	detail := badr.Do(http.MethodGet, path, nil).JSON()
	assert.Equal(t, "Advanced Electronics Co.", detail["factoryName"])
	assert.Equal(t, false, detail["isMine"])
	assert.True(t, strings.HasSuffix(detail["readTime"].(string), "min read"))
	for range 2 {
		res = badr.Do(http.MethodPut, path+"/like", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.EqualValues(t, 1, res.JSON()["likes"])
	}
	res = badr.Do(http.MethodPut, path+"/save", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.EqualValues(t, 1, res.JSON()["saves"])
	assert.Equal(t, []string{id}, listed("?saved=true"), "badr's saved list")

	// Moderators verify and feature what is published; nobody else may.
	marks := "/api/v1/moderation/use-cases/" + id
	assert.Equal(t, http.StatusForbidden, amal.Do(http.MethodPut, marks+"/verification", nil).Status)
	assert.Empty(t, listed("?verified=true"))
	res = mod.Do(http.MethodPut, marks+"/verification", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, true, res.JSON()["verified"])
	assert.Equal(t, "Sara Al-Faisal", res.JSON()["verifiedBy"])
	assert.Equal(t, false, res.JSON()["isVerified"], "the organization itself is not verified")
	require.Equal(t, http.StatusOK, mod.Do(http.MethodPut, marks+"/featured", nil).Status)
	assert.Equal(t, []string{id}, listed("?verified=true&featured=true"))

	// The landing page, without a session: the map, the figures, the featured ones.
	anon := srv.Client(t)
	res = anon.Do(http.MethodGet, "/api/v1/public/use-cases/map", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "public, max-age=60", res.Header.Get("Cache-Control"))
	features := res.JSON()["features"].([]any)
	require.Len(t, features, 1, "the published one; drafts never")
	f := features[0].(map[string]any)
	assert.Equal(t, id, f["id"])
	assert.Equal(t, []any{46.6753, 24.7136}, f["geometry"].(map[string]any)["coordinates"], "longitude first")
	props := f["properties"].(map[string]any)
	assert.Equal(t, "Riyadh", props["city"])
	assert.Equal(t, "Defect rate: 85% reduction", props["benefits"].([]any)[0])
	res = anon.Do(http.MethodGet, "/api/v1/public/use-cases/map?bbox=39.0,21.0,39.5,21.8", nil)
	assert.Empty(t, res.JSON()["features"], "Jeddah's box holds no Riyadh factory")
	assert.Len(t, anon.Do(http.MethodGet, "/api/v1/public/use-cases/map?bbox=46.5,24.5,47.0,25.0", nil).JSON()["features"], 1)
	for _, bad := range []string{"1,2,3", "a,b,c,d", "47,24,46,25", "0,0,0,200"} {
		assert.Equal(t, http.StatusUnprocessableEntity, anon.Do(http.MethodGet, "/api/v1/public/use-cases/map?bbox="+bad, nil).Status, bad)
	}
	stats := anon.Do(http.MethodGet, "/api/v1/public/stats", nil).JSON()
	assert.EqualValues(t, 1, stats["publishedUseCases"])
	assert.EqualValues(t, 1, stats["contributingCompanies"])
	assert.EqualValues(t, 250, stats["averageRoi"])
	featured := items(t, anon.Do(http.MethodGet, "/api/v1/public/use-cases/featured", nil))
	require.Len(t, featured, 1)
	assert.Equal(t, id, featured[0]["id"])
	assert.Equal(t, false, featured[0]["likedByMe"], "as no one in particular sees it")
	limited := false
	for range 130 {
		if res := anon.Do(http.MethodGet, "/api/v1/public/stats", nil); res.Status == http.StatusTooManyRequests {
			limited = res.Header.Get("Retry-After") != ""
			break
		}
	}
	assert.True(t, limited, "an address is limited to 120 public requests a minute, told when to retry")
	require.Equal(t, http.StatusOK, mod.Do(http.MethodDelete, marks+"/featured", nil).Status)
	assert.Empty(t, listed("?featured=true"))
	assert.Equal(t, http.StatusNotFound, mod.Do(http.MethodPut, "/api/v1/moderation/use-cases/"+draft+"/verification", nil).Status,
		"a draft is nobody else's")
	assert.Empty(t, items(t, amal.Do(http.MethodGet, "/api/v1/use-cases?saved=true", nil)))
	assert.Empty(t, items(t, badr.Do(http.MethodGet, path+"/related", nil)), "nothing else is published")
	assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodGet, "/api/v1/use-cases/"+draft+"/related", nil).Status)
	detail = badr.Do(http.MethodGet, path, nil).JSON()
	assert.Equal(t, true, detail["likedByMe"])
	assert.Equal(t, true, detail["savedByMe"])
	assert.Equal(t, false, amal.Do(http.MethodGet, path, nil).JSON()["likedByMe"])
	require.Eventually(t, func() bool {
		return badr.Do(http.MethodGet, path, nil).JSON()["views"] == float64(1)
	}, 15*time.Second, 200*time.Millisecond, "badr's views count once a day; the author's and the moderator's review do not")
	assert.Equal(t, []string{id}, listed("?sort=viewed"))
	assert.EqualValues(t, 0, badr.Do(http.MethodDelete, path+"/like", nil).JSON()["likes"])
	assert.Equal(t, http.StatusConflict, amal.Do(http.MethodPut, "/api/v1/use-cases/"+draft+"/like", nil).Status)

	// Drafts are deleted by their author only; a published one is not deleted.
	assert.Equal(t, http.StatusConflict, amal.Do(http.MethodDelete, path, nil).Status)
	assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodDelete, "/api/v1/use-cases/"+draft, nil).Status)
	assert.Equal(t, http.StatusNoContent, amal.Do(http.MethodDelete, "/api/v1/use-cases/"+draft, nil).Status)
	assert.Equal(t, http.StatusNotFound, amal.Do(http.MethodGet, "/api/v1/use-cases/"+draft, nil).Status)
}
