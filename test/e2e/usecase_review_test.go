package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestUseCaseReview: the review workflow past the three outcomes. A moderator sends a use case
// back with comments on fields of its form (hostile ones refused with EN/AR messages), which its
// author reads on it and is notified of; a moderator claims a submission (under_review, in the
// queue with its reviewer; another moderator's claim is 409; released back), and decides from
// there; a published use case is archived by its organization's admin or a moderator (nobody
// else), leaves the library, map, related, featured and figures, is 404 to others and is
// restored, its author told each time; every change of status is in its history, read by the author, the organization's
// admins and the moderators only.
func TestUseCaseReview(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail, mod2Email := harness.UniqueEmail("ucr-mod"), harness.UniqueEmail("ucr-mod2")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail+","+mod2Email)
	moderator := func(email string) seed.Account {
		a := seed.Account{Client: srv.Client(t), Email: email}
		body := a.SignUp(harness.SignUpFields(email))
		a.ID = body["user"].(map[string]any)["id"].(string)
		a.Confirm(t, env)
		return a
	}
	mod, mod2 := moderator(modEmail), moderator(mod2Email)
	admin := seed.Verified(t, env, srv, "ucr-admin")
	author := seed.Invite(t, env, srv, admin, "ucrauthor", "member")
	colleague := seed.Invite(t, env, srv, admin, "ucrcolleague", "member")
	outsider := seed.Verified(t, env, srv, "ucr-out")

	res := author.Do(http.MethodPost, "/api/v1/use-cases", completeUseCase(t))
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	path := "/api/v1/use-cases/" + id
	mpath := "/api/v1/moderation/use-cases/" + id
	res = author.Do(http.MethodPost, path+"/submit", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())

	t.Run("comments per field", func(t *testing.T) {
		decide := func(c *harness.Client, body any, headers ...string) *harness.Response {
			return c.Do(http.MethodPost, mpath+"/decision", body, headers...)
		}
		fc := func(field, comment string) map[string]any { return map[string]any{"field": field, "comment": comment} }
		changes := func(fcs ...map[string]any) map[string]any {
			return map[string]any{"action": "request_changes", "fieldComments": fcs}
		}
		for _, c := range []*harness.Client{admin.Client, author.Client, outsider.Client} {
			assert.Equal(t, http.StatusForbidden, decide(c, changes(fc("title", "Shorter"))).Status, "only moderators review")
		}

		// Hostile comments: each names what is wrong.
		many := make([]map[string]any, 51)
		for i := range many {
			many[i] = fc("title", "x")
		}
		for name, tc := range map[string]struct {
			body  any
			field string
		}{
			"unknown index":    {changes(fc("results.quantitativeMetrics[9].baseline", "Which?")), "fieldComments[0].field"},
			"unknown field":    {changes(fc("results.colour", "Red?")), "fieldComments[0].field"},
			"beneath a leaf":   {changes(fc("title.text", "x")), "fieldComments[0].field"},
			"path tricks":      {changes(fc("../results", "x")), "fieldComments[0].field"},
			"empty field":      {changes(fc("  ", "x")), "fieldComments[0].field"},
			"empty comment":    {changes(fc("title", " ")), "fieldComments[0].comment"},
			"long comment":     {changes(fc("title", strings.Repeat("a", 2001))), "fieldComments[0].comment"},
			"twice":            {changes(fc("title", "a"), fc("title", "b")), "fieldComments[1].field"},
			"too many":         {changes(many...), "fieldComments"},
			"with publish":     {map[string]any{"action": "publish", "fieldComments": []any{fc("title", "x")}}, "fieldComments"},
			"nothing to say":   {map[string]any{"action": "request_changes"}, "comments"},
			"control char":     {changes(fc("title", "a\u0007b")), "fieldComments[0].comment"},
			"not an array":     {map[string]any{"action": "request_changes", "fieldComments": "title"}, "fieldComments"},
			"long path":        {changes(fc(strings.Repeat("a", 300), "x")), "fieldComments[0].field"},
			"comment a number": {`{"action": "request_changes", "fieldComments": [{"field": "title", "comment": 5}]}`, "fieldComments.comment"},
		} {
			res := decide(mod.Client, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.String())
			assert.Contains(t, problemFields(t, res), tc.field, name)
		}
		res := decide(mod.Client, `{"action": "request_changes", "fieldComments": [{"field": "title", "comment": "a\u0000b"}]}`)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "NUL: %s", res.String())
		assert.Equal(t, http.StatusBadRequest, decide(mod.Client, []byte("{\"action\": \"request_changes\", \"fieldComments\": [{\"field\": \"title\", \"comment\": \"\xff\"}]}")).Status, "not UTF-8")
		assert.Equal(t, http.StatusBadRequest, decide(mod.Client, `{"action": "request_changes", "fieldComments": [{"field": "title", "comment": "x", "x": 1}]}`).Status)
		res = decide(mod.Client, changes(fc("results.colour", "Red?")), "Accept-Language: ar")
		assert.Equal(t, "يجب أن يكون اسم حقل من حقول نموذج حالة الاستخدام هذه", problemFields(t, res)["fieldComments[0].field"])
		res = decide(mod.Client, changes(fc("results.colour", "Red?")))
		assert.Equal(t, "must name a field of this use case's form", problemFields(t, res)["fieldComments[0].field"])
		assert.Equal(t, "submitted", author.Do(http.MethodGet, path, nil).JSON()["status"], "nothing refused changed it")

		// Sent back with comments on a metric's baseline and on a list, no general comment.
		res = decide(mod.Client, changes(fc("results.quantitativeMetrics[1].baseline", " Baseline of which month? "),
			fc("solution.technologyComponents", "Name the camera model.")))
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "changes_requested", res.JSON()["status"])

		// The author reads them on the use case; another organization sees nothing of it.
		u := author.Do(http.MethodGet, path, nil).JSON()
		review := u["review"].(map[string]any)
		assert.Equal(t, "request_changes", review["action"])
		assert.Equal(t, "", review["comments"])
		assert.Equal(t, []any{
			map[string]any{"field": "results.quantitativeMetrics[1].baseline", "comment": "Baseline of which month?"},
			map[string]any{"field": "solution.technologyComponents", "comment": "Name the camera model."},
		}, review["fieldComments"])
		assert.Equal(t, mod.ID, review["reviewer"].(map[string]any)["id"])
		assert.NotEmpty(t, review["reviewer"].(map[string]any)["name"])
		assert.NotEmpty(t, review["reviewedAt"])
		assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodGet, path, nil).Status)

		// And is told.
		unreadReaches(t, author.Client, 1)
		note := items(t, author.Do(http.MethodGet, "/api/v1/notifications", nil))[0]
		assert.Equal(t, "use_case_reviewed", note["type"])
		assert.Equal(t, id, note["targetId"])
		assert.Equal(t, "request_changes", note["data"].(map[string]any)["outcome"])
	})

	t.Run("under review", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sock := socket(t, srv, mod2.AccessToken)
		ack, err := sock.EmitWithAck(ctx, "room:join", map[string]any{"room": "moderation:use-cases"})
		require.NoError(t, err)
		require.Equal(t, true, ack[0].(map[string]any)["ok"], "%v", ack)

		res := author.Do(http.MethodPost, path+"/submit", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		queue := func(query string) map[string]map[string]any {
			t.Helper()
			res := mod.Do(http.MethodGet, "/api/v1/moderation/use-cases"+query, nil)
			require.Equal(t, http.StatusOK, res.Status, res.String())
			out := map[string]map[string]any{}
			for _, it := range items(t, res) {
				out[it["id"].(string)] = it
			}
			return out
		}
		assert.Equal(t, "submitted", queue("")[id]["status"])

		claim := func(c *harness.Client) *harness.Response { return c.Do(http.MethodPost, mpath+"/claim", nil) }
		for _, c := range []*harness.Client{admin.Client, author.Client, outsider.Client} {
			assert.Equal(t, http.StatusForbidden, claim(c).Status, "only moderators claim")
		}
		res = claim(mod.Client)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "under_review", res.JSON()["status"])
		assert.Equal(t, mod.ID, res.JSON()["reviewerId"])
		ev, err := sock.Next(ctx, "usecase:claimed")
		require.NoError(t, err, "the other moderators see it claimed, live")
		assert.Equal(t, id, ev.Args[0].(map[string]any)["useCaseId"])
		assert.Equal(t, mod.ID, ev.Args[0].(map[string]any)["reviewerId"])
		assert.Equal(t, http.StatusOK, claim(mod.Client).Status, "my own claim again: nothing changes")
		res = claim(mod2.Client)
		assert.Equal(t, http.StatusConflict, res.Status, "another moderator's claim: %s", res.String())
		res = mod2.Do(http.MethodPost, mpath+"/claim", nil, "Accept-Language: ar")
		assert.Equal(t, "يراجع مشرف آخر حالة الاستخدام هذه", res.JSON()["detail"])

		// The queue: both statuses by default, one by filter, with the reviewer.
		assert.Equal(t, mod.ID, queue("")[id]["reviewerId"])
		assert.Equal(t, "under_review", queue("?status=under_review")[id]["status"])
		assert.NotContains(t, queue("?status=submitted"), id)
		assert.Equal(t, http.StatusUnprocessableEntity, mod.Do(http.MethodGet, "/api/v1/moderation/use-cases?status=draft", nil).Status)
		assert.Equal(t, http.StatusForbidden, author.Do(http.MethodGet, "/api/v1/moderation/use-cases?status=under_review", nil).Status)

		// The author sees it under review and cannot edit it.
		assert.Equal(t, "under_review", author.Do(http.MethodGet, path, nil).JSON()["status"])
		assert.Equal(t, http.StatusConflict, author.Do(http.MethodPatch, path, map[string]any{"title": "Edited in review"}).Status)
		assert.Equal(t, http.StatusConflict, author.Do(http.MethodDelete, path, nil).Status)
		assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodGet, path, nil).Status)

		// Released back to the queue, claimed by the other moderator, decided by the first.
		res = mod2.Do(http.MethodDelete, mpath+"/claim", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "submitted", res.JSON()["status"])
		assert.Nil(t, res.JSON()["reviewerId"])
		assert.Equal(t, http.StatusConflict, mod2.Do(http.MethodDelete, mpath+"/claim", nil).Status, "nothing to release")
		assert.Equal(t, http.StatusForbidden, admin.Do(http.MethodDelete, mpath+"/claim", nil).Status)
		require.Equal(t, http.StatusOK, claim(mod2.Client).Status)
		res = mod.Do(http.MethodPost, mpath+"/decision", map[string]any{"action": "publish"})
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "published", res.JSON()["status"])
		assert.Nil(t, res.JSON()["reviewerId"], "the claim ends with the decision")
		assert.Equal(t, http.StatusConflict, claim(mod.Client).Status, "a published use case is not claimed")
		for _, p := range []string{"/api/v1/moderation/use-cases/" + uuid.NewString(), "/api/v1/moderation/use-cases/not-an-id"} {
			assert.Equal(t, http.StatusNotFound, mod.Do(http.MethodPost, p+"/claim", nil).Status, p)
		}
	})

	t.Run("archive and restore", func(t *testing.T) {
		// Another published use case of the same category, to read related lists from.
		res := outsider.Do(http.MethodPost, "/api/v1/use-cases", completeUseCase(t))
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		other := res.JSON()["id"].(string)
		require.Equal(t, http.StatusOK, outsider.Do(http.MethodPost, "/api/v1/use-cases/"+other+"/submit", nil).Status)
		require.Equal(t, http.StatusOK, mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+other+"/decision",
			map[string]any{"action": "publish"}).Status)
		require.Equal(t, http.StatusOK, mod.Do(http.MethodPut, mpath+"/featured", nil).Status)

		anon := srv.Client(t)
		shown := func() map[string]bool {
			t.Helper()
			out := map[string]bool{}
			for _, it := range items(t, outsider.Do(http.MethodGet, "/api/v1/use-cases", nil)) {
				out["library:"+it["id"].(string)] = true
			}
			for _, it := range items(t, outsider.Do(http.MethodGet, "/api/v1/use-cases/"+other+"/related", nil)) {
				out["related:"+it["id"].(string)] = true
			}
			for _, f := range anon.Do(http.MethodGet, "/api/v1/public/use-cases/map", nil).JSON()["features"].([]any) {
				out["map:"+f.(map[string]any)["id"].(string)] = true
			}
			for _, it := range items(t, anon.Do(http.MethodGet, "/api/v1/public/use-cases/featured", nil)) {
				out["featured:"+it["id"].(string)] = true
			}
			return out
		}
		published := func() float64 {
			return anon.Do(http.MethodGet, "/api/v1/public/stats", nil).JSON()["publishedUseCases"].(float64)
		}
		before := shown()
		for _, k := range []string{"library:", "related:", "map:", "featured:"} {
			require.True(t, before[k+id], "published, %s lists it", k)
		}
		assert.EqualValues(t, 2, published())

		archive := func(c *harness.Client, body any, headers ...string) *harness.Response {
			return c.Do(http.MethodPost, path+"/archive", body, headers...)
		}
		// Not the author who is no admin, not a colleague, not another organization's admin.
		for name, c := range map[string]*harness.Client{"author": author.Client, "colleague": colleague.Client, "outsider": outsider.Client} {
			res := archive(c, nil)
			assert.Equal(t, http.StatusForbidden, res.Status, "%s: %s", name, res.String())
		}
		res = archive(author.Client, nil, "Accept-Language: ar")
		assert.Equal(t, "لا يؤرشف حالة الاستخدام أو يستعيدها إلا مسؤولو المنظمة والمشرفون", res.JSON()["detail"])
		// Hostile bodies.
		res = archive(admin.Client, map[string]any{"reason": strings.Repeat("r", 1001)})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
		assert.Contains(t, problemFields(t, res), "reason")
		assert.Equal(t, http.StatusUnprocessableEntity, archive(admin.Client, `{"reason": "a\u0000b"}`).Status)
		assert.Equal(t, http.StatusUnprocessableEntity, archive(admin.Client, `{"reason": 5}`).Status)
		assert.Equal(t, http.StatusBadRequest, archive(admin.Client, `{"reason": `).Status)
		assert.Equal(t, http.StatusBadRequest, archive(admin.Client, `{"why": "x"}`).Status)
		assert.Equal(t, http.StatusBadRequest, archive(admin.Client, []byte("{\"reason\": \"\xfe\"}")).Status)
		assert.Equal(t, "published", author.Do(http.MethodGet, path, nil).JSON()["status"], "nothing refused changed it")

		// The organization's admin archives it.
		res = archive(admin.Client, map[string]any{"reason": "The line was replaced."})
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "archived", res.JSON()["status"])
		assert.Equal(t, http.StatusConflict, archive(admin.Client, nil).Status, "already archived")
		// The author is told, with the reason.
		unreadReaches(t, author.Client, 3)
		var told map[string]any
		for _, n := range items(t, author.Do(http.MethodGet, "/api/v1/notifications", nil)) {
			if d := n["data"].(map[string]any); n["type"] == "use_case_reviewed" && d["outcome"] == "archive" {
				told = d
			}
		}
		require.NotNil(t, told, "a use_case_reviewed notification with the outcome archive")
		assert.Equal(t, "The line was replaced.", told["comments"])
		assert.Equal(t, "archived", told["status"])
		after := shown()
		for _, k := range []string{"library:", "related:", "map:", "featured:"} {
			assert.False(t, after[k+id], "archived, %s leaves it out", k)
		}
		assert.True(t, after["library:"+other], "the other stays")
		assert.EqualValues(t, 1, published())
		// Others: 404 everywhere; its organization and the moderators still see it.
		for _, p := range []string{path, path + "/related"} {
			assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodGet, p, nil).Status, p)
		}
		assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodPut, path+"/like", nil).Status)
		assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodPost, path+"/restore", nil).Status)
		assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodPost, path+"/archive", nil).Status)
		for _, c := range []*harness.Client{author.Client, colleague.Client, mod2.Client} {
			assert.Equal(t, "archived", c.Do(http.MethodGet, path, nil).JSON()["status"])
		}
		mine := items(t, author.Do(http.MethodGet, "/api/v1/use-cases/mine?status=archived", nil))
		require.Len(t, mine, 1)
		assert.Equal(t, id, mine[0]["id"])
		assert.Equal(t, http.StatusForbidden, colleague.Do(http.MethodPost, path+"/restore", nil).Status)

		// A moderator restores it, in its place; the admin archives and restores again.
		res = mod2.Do(http.MethodPost, path+"/restore", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "published", res.JSON()["status"])
		assert.Equal(t, http.StatusConflict, mod2.Do(http.MethodPost, path+"/restore", nil).Status, "not archived")
		assert.True(t, shown()["library:"+id])
		assert.EqualValues(t, 2, published())
		require.Equal(t, http.StatusOK, mod2.Do(http.MethodPost, path+"/archive", map[string]any{"reason": "Figures disputed"}).Status)
		require.Equal(t, http.StatusOK, admin.Do(http.MethodPost, path+"/restore", map[string]any{"reason": "Figures checked"}).Status)
		for _, p := range []string{"/api/v1/use-cases/" + uuid.NewString(), "/api/v1/use-cases/not-an-id"} {
			assert.Equal(t, http.StatusNotFound, admin.Do(http.MethodPost, p+"/archive", nil).Status, p)
		}
		unreadReaches(t, author.Client, 6) // each archive and restore told once
	})

	t.Run("history", func(t *testing.T) {
		history := func(c *harness.Client, p string) *harness.Response { return c.Do(http.MethodGet, p+"/history", nil) }
		for name, c := range map[string]*harness.Client{"author": author.Client, "admin": admin.Client, "moderator": mod2.Client} {
			assert.Equal(t, http.StatusOK, history(c, path).Status, name)
		}
		res := history(colleague.Client, path)
		assert.Equal(t, http.StatusForbidden, res.Status, "a colleague sees the use case, not its history: %s", res.String())
		assert.Equal(t, http.StatusNotFound, history(outsider.Client, path).Status, "another organization, though it is published")
		for _, p := range []string{"/api/v1/use-cases/" + uuid.NewString(), "/api/v1/use-cases/not-an-id"} {
			assert.Equal(t, http.StatusNotFound, history(admin.Client, p).Status, p)
		}

		entries := items(t, history(author.Client, path))
		type step struct{ from, to, action, actor string }
		var got []step
		for _, e := range entries {
			from, _ := e["from"].(string)
			got = append(got, step{from, e["to"].(string), e["action"].(string), e["actor"].(map[string]any)["id"].(string)})
		}
		assert.Equal(t, []step{
			{"", "draft", "create", author.ID},
			{"draft", "submitted", "submit", author.ID},
			{"submitted", "changes_requested", "request_changes", mod.ID},
			{"changes_requested", "submitted", "submit", author.ID},
			{"submitted", "under_review", "claim", mod.ID},
			{"under_review", "submitted", "release", mod2.ID},
			{"submitted", "under_review", "claim", mod2.ID},
			{"under_review", "published", "publish", mod.ID},
			{"published", "archived", "archive", admin.ID},
			{"archived", "published", "restore", mod2.ID},
			{"published", "archived", "archive", mod2.ID},
			{"archived", "published", "restore", admin.ID},
		}, got, "every change of status, once, in order; refused ones and repeated claims left no trace")
		assert.Nil(t, entries[0]["from"])
		assert.Len(t, entries[2]["fieldComments"], 2)
		assert.Equal(t, "The line was replaced.", entries[8]["comments"])
	})
}
