package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

func TestInvitationJourney(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	o := seed.Founder(t, srv, "acme")

	email := harness.UniqueEmail("huda")
	res := o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
		map[string]any{"email": strings.ToUpper(email), "firstName": "Huda", "lastName": "Saleh", "role": "member"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	inv := res.JSON()
	assert.Equal(t, "pending", inv["status"])
	assert.Equal(t, email, inv["email"])
	assert.Equal(t, o.OrgID, inv["organizationId"])
	assert.Equal(t, o.ID, inv["invitedBy"])

	msg := env.Mail.Wait(t, email, "invited you to", mailWait)
	assert.Contains(t, msg.Text, "Hello Huda")
	assert.Contains(t, msg.Subject, "acme Industries")
	require.Len(t, msg.Links, 1)
	assert.True(t, strings.HasPrefix(msg.Links[0], "http://localhost:5173/auth/accept-invitation?token="))
	token := seed.TokenOf(t, msg.Links[0])

	anon := srv.Client(t)
	res = anon.Do(http.MethodGet, "/api/v1/invitations/"+token, nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	preview := res.JSON()
	assert.Equal(t, email, preview["email"])
	assert.Equal(t, "Huda", preview["firstName"])
	assert.Equal(t, "acme Industries", preview["organization"].(map[string]any)["name"])

	// The invitation is bound to its address.
	res = anon.Do(http.MethodPost, "/auth/signup", harness.Form(map[string]any{"email": harness.UniqueEmail("other"),
		"password": "Str0ng-pass", "firstName": "Huda", "lastName": "Saleh", "invitationToken": token}))
	assert.Equal(t, "FIELD_ERROR", res.JSON()["status"], res.String())

	member := srv.Client(t)
	body := member.SignUp(map[string]any{"email": email, "password": "Str0ng-pass", "firstName": "Huda",
		"lastName": "Saleh", "invitationToken": token, "languagePreference": "ar"})
	user := body["user"].(map[string]any)
	assert.Equal(t, "member", user["role"])
	assert.Equal(t, o.OrgID, user["organizationId"], "the invitee joins the inviting organization")
	assert.Equal(t, true, user["emailVerified"], "the link proved the address")
	assert.Equal(t, o.OrgID, body["organization"].(map[string]any)["id"])
	assert.Zero(t, env.Mail.Count(email)-1, "no verification mail for an invitee")

	// The link is used up.
	res = anon.Do(http.MethodGet, "/api/v1/invitations/"+token, nil)
	assert.Equal(t, http.StatusNotFound, res.Status)
	res = anon.Do(http.MethodPost, "/auth/signup", harness.Form(map[string]any{"email": email,
		"password": "Str0ng-pass", "firstName": "H", "lastName": "S", "invitationToken": token}))
	assert.Equal(t, "GENERAL_ERROR", res.JSON()["status"], res.String())

	// Admins see it accepted; the member cannot manage anything.
	res = o.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?status=accepted", nil)
	require.Equal(t, http.StatusOK, res.Status)
	items := res.JSON()["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, "accepted", items[0].(map[string]any)["status"])
	for _, path := range []string{"/api/v1/organizations/current/users", "/api/v1/organizations/current/invitations",
		"/api/v1/organizations/current/audit-log", "/api/v1/organizations/current/stats"} {
		assert.Equal(t, http.StatusForbidden, member.Do(http.MethodGet, path, nil).Status, path)
	}
	assert.Equal(t, http.StatusOK, member.Do(http.MethodGet, "/api/v1/organizations/current", nil).Status)

	res = o.Client.Do(http.MethodGet, "/api/v1/organizations/current/audit-log", nil)
	require.Equal(t, http.StatusOK, res.Status)
	var actions []string
	for _, e := range res.JSON()["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	assert.Equal(t, []string{"invitation.accepted", "invitation.created"}, actions)
}

func TestInvitationRules(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	conn := db(t, env)
	ctx := context.Background()
	o := seed.Founder(t, srv, "rules")
	other := seed.Founder(t, srv, "other")
	invite := func(email, role string) *harness.Response {
		return o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
			map[string]any{"email": email, "firstName": "In", "lastName": "Vitee", "role": role})
	}

	t.Run("conflicts", func(t *testing.T) {
		res := invite(o.Email, "member")
		assert.Equal(t, http.StatusConflict, res.Status, "an existing member")
		assert.Contains(t, res.JSON()["detail"], "already a member")
		res = invite(other.Email, "member")
		assert.Equal(t, http.StatusConflict, res.Status, "someone with an account elsewhere")
		email := harness.UniqueEmail("twice")
		require.Equal(t, http.StatusCreated, invite(email, "member").Status)
		res = invite(email, "admin")
		assert.Equal(t, http.StatusConflict, res.Status, "a second pending invitation")
		assert.Contains(t, res.JSON()["detail"], "resend")
	})

	t.Run("invalid", func(t *testing.T) {
		res := o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
			map[string]any{"email": "nope", "firstName": "", "lastName": "X", "role": "owner"})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
		var fields []string
		for _, e := range res.JSON()["errors"].([]any) {
			fields = append(fields, e.(map[string]any)["field"].(string))
		}
		assert.ElementsMatch(t, []string{"email", "firstName", "role"}, fields)
		res = o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations", `{"email": 3}`)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
		res = o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations", `{"email": "a@b.co", "admin": true}`)
		assert.Equal(t, http.StatusBadRequest, res.Status, "unknown fields are refused")
		res = o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations", `{"email":`)
		assert.Equal(t, http.StatusBadRequest, res.Status)
	})

	t.Run("expired is gone, and resending revives it with a new link", func(t *testing.T) {
		email := harness.UniqueEmail("late")
		res := invite(email, "member")
		require.Equal(t, http.StatusCreated, res.Status)
		id := res.JSON()["id"].(string)
		old := seed.TokenOf(t, env.Mail.Wait(t, email, "invited you", mailWait).Links[0])
		_, err := conn.Exec(ctx, `UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, id)
		require.NoError(t, err)

		res = srv.Client(t).Do(http.MethodGet, "/api/v1/invitations/"+old, nil)
		assert.Equal(t, http.StatusGone, res.Status)
		assert.Contains(t, res.JSON()["detail"], "expired")
		res = srv.Client(t).Do(http.MethodPost, "/auth/signup", harness.Form(map[string]any{"email": email,
			"password": "Str0ng-pass", "firstName": "L", "lastName": "T", "invitationToken": old}))
		assert.Equal(t, "GENERAL_ERROR", res.JSON()["status"])
		assert.Contains(t, res.JSON()["message"], "expired")
		list := o.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?status=expired", nil).JSON()
		assert.Len(t, list["items"].([]any), 1)

		res = o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations/"+id+"/resend", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "pending", res.JSON()["status"])
		require.Eventually(t, func() bool { return env.Mail.Count(email) == 2 }, mailWait, 20e6)
		msgs := env.Mail.Messages()
		fresh := seed.TokenOf(t, msgs[len(msgs)-1].Links[0])
		assert.NotEqual(t, old, fresh)
		assert.Equal(t, http.StatusNotFound, srv.Client(t).Do(http.MethodGet, "/api/v1/invitations/"+old, nil).Status, "the old link is dead")
		assert.Equal(t, http.StatusOK, srv.Client(t).Do(http.MethodGet, "/api/v1/invitations/"+fresh, nil).Status)

		// Accepted invitations can be neither resent nor cancelled.
		srv.Client(t).SignUp(map[string]any{"email": email, "password": "Str0ng-pass", "firstName": "L", "lastName": "T", "invitationToken": fresh})
		assert.Equal(t, http.StatusConflict, o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations/"+id+"/resend", nil).Status)
		assert.Equal(t, http.StatusConflict, o.Client.Do(http.MethodDelete, "/api/v1/organizations/current/invitations/"+id, nil).Status)
	})

	t.Run("cancel kills the link", func(t *testing.T) {
		email := harness.UniqueEmail("cancel")
		res := invite(email, "admin")
		require.Equal(t, http.StatusCreated, res.Status)
		token := seed.TokenOf(t, env.Mail.Wait(t, email, "invited you", mailWait).Links[0])
		res = o.Client.Do(http.MethodDelete, "/api/v1/organizations/current/invitations/"+res.JSON()["id"].(string), nil)
		assert.Equal(t, http.StatusNoContent, res.Status)
		assert.Equal(t, http.StatusNotFound, srv.Client(t).Do(http.MethodGet, "/api/v1/invitations/"+token, nil).Status)
	})

	t.Run("pages", func(t *testing.T) {
		seen := map[string]bool{}
		cursor := ""
		for {
			res := o.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?limit=2&cursor="+cursor, nil)
			require.Equal(t, http.StatusOK, res.Status)
			body := res.JSON()
			for _, it := range body["items"].([]any) {
				id := it.(map[string]any)["id"].(string)
				assert.False(t, seen[id], "no invitation twice")
				seen[id] = true
			}
			next, _ := body["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM invitations WHERE organization_id = $1`, o.OrgID).Scan(&n))
		assert.Len(t, seen, n)
		assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?cursor=garbage", nil).Status)
		assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?limit=101", nil).Status)
		assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?status=lost", nil).Status)
	})
}

func TestMemberAdministration(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	o := seed.Founder(t, srv, "admin")
	alice := seed.Invite(t, env, srv, o, "alice", "member")
	bob := seed.Invite(t, env, srv, o, "bob", "member")
	users := "/api/v1/organizations/current/users/"

	// Promote Alice: after her next refresh her session carries the new role.
	res := o.Client.Do(http.MethodPatch, users+alice.ID, map[string]any{"role": "admin"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "admin", res.JSON()["role"])
	require.Equal(t, http.StatusOK, alice.Refresh().Status)
	assert.Equal(t, http.StatusOK, alice.Do(http.MethodGet, "/api/v1/organizations/current/users", nil).Status)

	// The owner stays an active admin, whoever asks.
	for _, body := range []map[string]any{{"role": "member"}, {"isActive": false}} {
		res = alice.Do(http.MethodPatch, users+o.ID, body)
		assert.Equal(t, http.StatusConflict, res.Status, "%v: %s", body, res)
		assert.Contains(t, res.JSON()["detail"], "owner")
	}
	assert.Equal(t, http.StatusConflict, alice.Do(http.MethodDelete, users+o.ID, nil).Status)

	// Deactivating Bob signs him out everywhere and keeps him out until reactivated.
	res = o.Client.Do(http.MethodPatch, users+bob.ID, map[string]any{"isActive": false})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, false, res.JSON()["isActive"])
	assert.Equal(t, http.StatusUnauthorized, bob.Refresh().Status)
	bobEmail := o.Client.Do(http.MethodGet, "/api/v1/users/"+bob.ID, nil).JSON()["email"].(string)
	res = srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": bobEmail, "password": "Str0ng-pass"}))
	assert.Equal(t, "GENERAL_ERROR", res.JSON()["status"])
	res = o.Client.Do(http.MethodPatch, users+bob.ID, map[string]any{"isActive": true})
	require.Equal(t, http.StatusOK, res.Status)
	srv.Client(t).SignIn(bobEmail, "Str0ng-pass")

	// Nothing changes when nothing is asked; bad bodies are refused.
	assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodPatch, users+bob.ID, map[string]any{}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodPatch, users+bob.ID, map[string]any{"role": "owner"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodPatch, users+bob.ID, map[string]any{"isActive": "no"}).Status)

	// Removing Bob: out of the list, in the list of removed members, unable to sign in.
	assert.Equal(t, http.StatusNoContent, o.Client.Do(http.MethodDelete, users+bob.ID, nil).Status)
	assert.Equal(t, http.StatusNotFound, o.Client.Do(http.MethodDelete, users+bob.ID, nil).Status, "already removed")
	list := o.Client.Do(http.MethodGet, "/api/v1/organizations/current/users", nil).JSON()
	assert.EqualValues(t, 2, list["total"])
	deleted := o.Client.Do(http.MethodGet, "/api/v1/organizations/current/users?status=deleted", nil).JSON()
	require.Len(t, deleted["items"].([]any), 1)
	assert.Equal(t, bob.ID, deleted["items"].([]any)[0].(map[string]any)["id"])
	res = srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": bobEmail, "password": "Str0ng-pass"}))
	assert.Equal(t, "GENERAL_ERROR", res.JSON()["status"])

	// Demote Alice again: allowed, the owner is still an admin.
	res = o.Client.Do(http.MethodPatch, users+alice.ID, map[string]any{"role": "member"})
	require.Equal(t, http.StatusOK, res.Status, res.String())

	// Every change is in the audit log, with before and after, newest first.
	res = o.Client.Do(http.MethodGet, "/api/v1/organizations/current/audit-log?limit=4", nil)
	require.Equal(t, http.StatusOK, res.Status)
	entries := res.JSON()["items"].([]any)
	require.Len(t, entries, 4)
	first := entries[0].(map[string]any)
	assert.Equal(t, "member.role_changed", first["action"])
	assert.Equal(t, alice.ID, first["targetId"])
	assert.Equal(t, "admin", first["before"].(map[string]any)["role"])
	assert.Equal(t, "member", first["after"].(map[string]any)["role"])
	assert.Equal(t, o.ID, first["actorId"])
	assert.Equal(t, "member.deleted", entries[1].(map[string]any)["action"])
	assert.Equal(t, "member.reactivated", entries[2].(map[string]any)["action"])
	assert.Equal(t, "member.deactivated", entries[3].(map[string]any)["action"])
	assert.NotEmpty(t, first["requestId"])
	assert.NotNil(t, res.JSON()["nextCursor"])
}

func TestMemberList(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	conn := db(t, env)
	o := seed.Founder(t, srv, "listing")
	// Members straight into the table: the list reads only our copy.
	_, err := conn.Exec(context.Background(), `
		INSERT INTO users (id, organization_id, email, first_name, last_name, role, is_active, created_at, last_login_at)
		SELECT gen_random_uuid(), $1, 'user' || i || '@list.example', 'First' || i, 'Last' || lpad(i::text, 2, '0'),
		       CASE WHEN i % 5 = 0 THEN 'admin' ELSE 'member' END, i % 4 <> 0,
		       now() - (i || ' minutes')::interval, CASE WHEN i % 3 = 0 THEN NULL ELSE now() - (i || ' hours')::interval END
		FROM generate_series(1, 30) i`, o.OrgID)
	require.NoError(t, err)
	get := func(query string) map[string]any {
		t.Helper()
		res := o.Client.Do(http.MethodGet, "/api/v1/organizations/current/users?"+query, nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		return res.JSON()
	}
	ids := func(body map[string]any, field string) []string {
		var out []string
		for _, it := range body["items"].([]any) {
			out = append(out, fmt.Sprint(it.(map[string]any)[field]))
		}
		return out
	}

	body := get("")
	assert.EqualValues(t, 31, body["total"])
	totals := body["totals"].(map[string]any)
	assert.EqualValues(t, 31, totals["all"])
	assert.EqualValues(t, 7, totals["admins"]) // 6 seeded + the founder
	assert.EqualValues(t, 24, totals["active"])
	assert.Len(t, body["items"].([]any), 20, "the default page")

	assert.Equal(t, []string{"Al-Faisal", "Last01", "Last02"}, ids(get("limit=3"), "lastName"), "by last name, then first")
	assert.Equal(t, []string{"Last30", "Last29"}, ids(get("limit=2&sort=-name"), "lastName"))
	assert.Equal(t, []string{"user12@list.example"}, ids(get("search=USER12@"), "email"), "search is case-insensitive")
	assert.EqualValues(t, 10, get("search=last1")["total"], "Last10..19")
	assert.EqualValues(t, 7, get("role=admin")["total"])
	assert.EqualValues(t, 7, get("status=inactive")["total"])
	assert.EqualValues(t, 0, get("search=%25")["total"], "LIKE wildcards are literal")

	// Walking every sort both ways visits everyone exactly once, in order.
	for _, sort := range []string{"name", "-name", "email", "-email", "createdAt", "-createdAt", "lastLogin", "-lastLogin"} {
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20)
			b := get("limit=7&sort=" + sort + "&cursor=" + cursor)
			for _, id := range ids(b, "id") {
				assert.False(t, seen[id], "%s: %s twice", sort, id)
				seen[id] = true
			}
			next, _ := b["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		assert.Len(t, seen, 31, sort)
	}

	first := get("limit=2&sort=email")
	res := o.Client.Do(http.MethodGet, "/api/v1/organizations/current/users?sort=name&cursor="+first["nextCursor"].(string), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a cursor continues only its own sort")
	for _, q := range []string{"sort=age", "role=owner", "status=gone", "limit=0x", "limit=500", "search=" + strings.Repeat("x", 101)} {
		assert.Equal(t, http.StatusUnprocessableEntity, o.Client.Do(http.MethodGet, "/api/v1/organizations/current/users?"+q, nil).Status, q)
	}
}

// TestIsolation walks every organization-scoped endpoint with another organization's ids: each
// answers 404, as for ids that do not exist, and nothing changes.
func TestIsolation(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	a := seed.Founder(t, srv, "alpha")
	b := seed.Founder(t, srv, "beta")
	bMemberAcc := seed.Invite(t, env, srv, b, "bmember", "member")
	res := b.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
		map[string]any{"email": harness.UniqueEmail("binv"), "firstName": "B", "lastName": "Inv"})
	require.Equal(t, http.StatusCreated, res.Status)
	bInvitation := res.JSON()["id"].(string)
	res = b.Client.Do(http.MethodPatch, "/api/v1/me", map[string]any{"profileVisibility": "organization"})
	require.Equal(t, http.StatusOK, res.Status, res.String())

	for _, id := range []string{bMemberAcc.ID, b.ID, bInvitation, "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPatch, "/api/v1/organizations/current/users/" + id, map[string]any{"role": "admin"}},
			{http.MethodPatch, "/api/v1/organizations/current/users/" + id, map[string]any{"isActive": false}},
			{http.MethodDelete, "/api/v1/organizations/current/users/" + id, nil},
			{http.MethodPost, "/api/v1/organizations/current/invitations/" + id + "/resend", nil},
			{http.MethodDelete, "/api/v1/organizations/current/invitations/" + id, nil},
		} {
			res := a.Client.Do(req.method, req.path, req.body)
			assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", req.method, req.path, res)
			assert.Equal(t, "not_found", res.JSON()["code"])
		}
	}
	// A profile shown to colleagues only is not found from outside.
	assert.Equal(t, http.StatusNotFound, a.Client.Do(http.MethodGet, "/api/v1/users/"+b.ID, nil).Status)
	assert.Equal(t, http.StatusOK, a.Client.Do(http.MethodGet, "/api/v1/users/"+bMemberAcc.ID, nil).Status, "public profiles are public")

	// Lists, stats and the audit log hold only the caller's organization.
	for _, path := range []string{"/api/v1/organizations/current/users", "/api/v1/organizations/current/invitations", "/api/v1/organizations/current/audit-log"} {
		body := a.Client.Do(http.MethodGet, path, nil).String()
		assert.NotContains(t, body, bMemberAcc.ID, path)
		assert.NotContains(t, body, bInvitation, path)
		assert.NotContains(t, body, b.OrgID, path)
	}
	assert.EqualValues(t, 1, a.Client.Do(http.MethodGet, "/api/v1/organizations/current/stats", nil).JSON()["members"].(map[string]any)["total"])

	// Nothing of B's changed.
	list := b.Client.Do(http.MethodGet, "/api/v1/organizations/current/users", nil).JSON()
	for _, it := range list["items"].([]any) {
		u := it.(map[string]any)
		assert.Equal(t, true, u["isActive"])
	}
	assert.Len(t, list["items"].([]any), 2)
	inv := b.Client.Do(http.MethodGet, "/api/v1/organizations/current/invitations?status=pending", nil).JSON()
	assert.Len(t, inv["items"].([]any), 1)
}

func TestProfile(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	o := seed.Founder(t, srv, "prof")
	member := seed.Invite(t, env, srv, o, "mona", "member")
	outsider := seed.Founder(t, srv, "outside")

	res := member.Do(http.MethodPatch, "/api/v1/me", map[string]any{
		"firstName": "Mona", "jobTitle": "Production Engineer", "city": "Jeddah", "bio": "Lines and sensors.",
		"expertiseTags": []string{"industrial_iot", "automation", "automation"}, "languagePreference": "ar",
	})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	u := res.JSON()["user"].(map[string]any)
	assert.Equal(t, "Mona", u["firstName"])
	assert.Equal(t, "Production Engineer", u["jobTitle"])
	assert.Equal(t, []any{"automation", "industrial_iot"}, u["expertiseTags"], "deduplicated and sorted")
	assert.Equal(t, "ar", u["languagePreference"])
	assert.Equal(t, "Production Engineer", member.Do(http.MethodGet, "/api/v1/me", nil).JSON()["user"].(map[string]any)["jobTitle"])

	res = member.Do(http.MethodPatch, "/api/v1/me", map[string]any{
		"firstName": "", "bio": strings.Repeat("x", 501), "expertiseTags": []string{"juggling"},
		"languagePreference": "fr", "profileVisibility": "friends", "email": "bad",
	})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	var fields []string
	for _, e := range res.JSON()["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	assert.ElementsMatch(t, []string{"firstName", "bio", "expertiseTags", "languagePreference", "profileVisibility", "email"}, fields)
	assert.Equal(t, http.StatusBadRequest, member.Do(http.MethodPatch, "/api/v1/me", map[string]any{"role": "admin"}).Status, "role is not a profile field")
	assert.Equal(t, http.StatusUnsupportedMediaType, member.Do(http.MethodPatch, "/api/v1/me", "x", "Content-Type: text/plain").Status)
	assert.Equal(t, "member", member.Do(http.MethodGet, "/api/v1/me", nil).JSON()["user"].(map[string]any)["role"])

	// Visibility.
	view := func(c *harness.Client) int { return c.Do(http.MethodGet, "/api/v1/users/"+member.ID, nil).Status }
	assert.Equal(t, http.StatusOK, view(outsider.Client))
	assert.Nil(t, outsider.Client.Do(http.MethodGet, "/api/v1/users/"+member.ID, nil).JSON()["email"], "no email outside the organization")
	require.Equal(t, http.StatusOK, member.Do(http.MethodPatch, "/api/v1/me", map[string]any{"profileVisibility": "organization"}).Status)
	assert.Equal(t, http.StatusNotFound, view(outsider.Client))
	assert.Equal(t, http.StatusOK, view(o.Client))
	assert.NotNil(t, o.Client.Do(http.MethodGet, "/api/v1/users/"+member.ID, nil).JSON()["email"])
	require.Equal(t, http.StatusOK, member.Do(http.MethodPatch, "/api/v1/me", map[string]any{"profileVisibility": "private"}).Status)
	assert.Equal(t, http.StatusNotFound, view(o.Client))
	assert.Equal(t, http.StatusOK, view(member.Client), "one's own profile is always visible")

	// A new email moves the credentials and starts verification again.
	newEmail := harness.UniqueEmail("mona.new")
	res = member.Do(http.MethodPatch, "/api/v1/me", map[string]any{"email": newEmail})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, newEmail, res.JSON()["user"].(map[string]any)["email"])
	assert.Equal(t, false, res.JSON()["user"].(map[string]any)["emailVerified"])
	msg := env.Mail.Wait(t, newEmail, "تأكيد", mailWait) // she asked for Arabic
	assert.Len(t, msg.Links, 1)
	fresh := srv.Client(t)
	body := fresh.SignIn(newEmail, "Str0ng-pass")
	assert.Equal(t, false, body["user"].(map[string]any)["emailVerified"])
	res = member.Do(http.MethodPatch, "/api/v1/me", map[string]any{"email": o.Email})
	assert.Equal(t, http.StatusConflict, res.Status, "the address of someone else")
}

func TestOrganizationSettings(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	o := seed.Founder(t, srv, "settings")
	member := seed.Invite(t, env, srv, o, "sami", "member")
	path := "/api/v1/organizations/current"

	res := o.Client.Do(http.MethodPatch, path, map[string]any{"name": "Settings Co.", "size": "large",
		"domain": "Settings.Example", "country": "United Arab Emirates", "city": "Dubai"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	org := res.JSON()
	assert.Equal(t, "Settings Co.", org["name"])
	assert.Equal(t, "settings.example", org["domain"])
	assert.Equal(t, "Dubai", org["city"], "cities outside Saudi Arabia are free text")

	res = o.Client.Do(http.MethodPatch, path, map[string]any{"country": "Saudi Arabia"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "Dubai is not on the Saudi list")
	res = o.Client.Do(http.MethodPatch, path, map[string]any{"domain": "not a domain", "size": "huge", "industry": "Mining"})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Len(t, res.JSON()["errors"].([]any), 3)
	assert.Equal(t, http.StatusForbidden, member.Do(http.MethodPatch, path, map[string]any{"name": "Mine now"}).Status)
	assert.Equal(t, "Settings Co.", member.Do(http.MethodGet, path, nil).JSON()["name"])

	res = o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
		map[string]any{"email": harness.UniqueEmail("pending"), "firstName": "P", "lastName": "Q"})
	require.Equal(t, http.StatusCreated, res.Status)
	st := o.Client.Do(http.MethodGet, path+"/stats", nil).JSON()
	members := st["members"].(map[string]any)
	assert.EqualValues(t, 2, members["total"])
	assert.EqualValues(t, 1, members["byRole"].(map[string]any)["admin"])
	assert.EqualValues(t, 1, members["byRole"].(map[string]any)["member"])
	assert.EqualValues(t, 2, members["byStatus"].(map[string]any)["active"])
	assert.EqualValues(t, 2, st["activeLast7Days"], "both signed in")
	assert.EqualValues(t, 1, st["pendingInvitations"])

	res = o.Client.Do(http.MethodGet, "/api/v1/organizations/current/audit-log", nil)
	assert.Equal(t, "organization.updated", res.JSON()["items"].([]any)[1].(map[string]any)["action"])
}
