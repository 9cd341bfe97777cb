package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/realtime/sioclient"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestPlatformModerators: the configured moderator verifies and suspends another organization
// (its members are out on every node at once, and back after reinstatement), grants the role to
// someone else, and nobody else reaches the moderation routes.
func TestPlatformModerators(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("moderator")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	other := env.Start(t)

	mod := srv.Client(t)
	mod.SignUp(harness.SignUpFields(modEmail))
	me := mod.Do(http.MethodGet, "/api/v1/me", nil).JSON()
	user := me["user"].(map[string]any)
	require.Equal(t, "moderator", user["platformRole"], "a configured address signs up a moderator")
	modOrg := me["organization"].(map[string]any)["id"].(string)

	factory := seed.Founder(t, srv, "factory")
	worker := seed.Invite(t, env, srv, factory, "worker", "member")
	orgs := "/api/v1/moderation/organizations"
	of := func(id string) string { return orgs + "/" + id }

	t.Run("only moderators", func(t *testing.T) {
		for _, c := range []*harness.Client{factory.Client, worker.Client} {
			assert.Equal(t, http.StatusForbidden, c.Do(http.MethodGet, orgs, nil).Status)
			assert.Equal(t, http.StatusForbidden, c.Do(http.MethodPut, of(factory.OrgID)+"/suspension", map[string]any{"reason": "x"}).Status)
		}
	})

	t.Run("list and verify", func(t *testing.T) {
		res := mod.Do(http.MethodGet, orgs+"?q=factory&limit=5", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		items := res.JSON()["items"].([]any)
		require.NotEmpty(t, items)
		first := items[0].(map[string]any)
		assert.Equal(t, factory.OrgID, first["id"], "newest first, by name prefix")
		assert.EqualValues(t, 2, first["members"])
		assert.Equal(t, false, first["isVerified"])

		res = mod.Do(http.MethodPut, of(factory.OrgID)+"/verification", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, true, res.JSON()["isVerified"])
		assert.NotNil(t, res.JSON()["verifiedAt"])
		assert.Equal(t, http.StatusOK, mod.Do(http.MethodPut, of(factory.OrgID)+"/verification", nil).Status, "idempotent")

		verified := mod.Do(http.MethodGet, orgs+"?status=verified", nil).JSON()["items"].([]any)
		assert.Len(t, verified, 1)
		assert.Equal(t, http.StatusUnprocessableEntity, mod.Do(http.MethodGet, orgs+"?status=bogus", nil).Status)

		log := factory.Do(http.MethodGet, "/api/v1/organizations/current/audit-log", nil).JSON()["items"].([]any)
		entry := log[0].(map[string]any)
		assert.Equal(t, "organization.verified", entry["action"], "the organization's admins see what the platform did")
		assert.Equal(t, "Sara Al-Faisal", entry["actorName"])
	})

	t.Run("suspension ends every member's access", func(t *testing.T) {
		socks := []*sioclient.Client{socket(t, srv, worker.AccessToken), socket(t, other, worker.AccessToken), socket(t, other, factory.AccessToken)}
		res := mod.Do(http.MethodPut, of(factory.OrgID)+"/suspension", map[string]any{"reason": "  "})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a reason is required")
		res = mod.Do(http.MethodPut, of(modOrg)+"/suspension", map[string]any{"reason": "testing"})
		assert.Equal(t, http.StatusConflict, res.Status, "not one's own organization")

		res = mod.Do(http.MethodPut, of(factory.OrgID)+"/suspension", map[string]any{"reason": "Spam across the forum"})
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, false, res.JSON()["isActive"])
		assert.Equal(t, "Spam across the forum", res.JSON()["suspensionReason"])

		for _, a := range []seed.Account{factory, worker} {
			res := a.Do(http.MethodGet, "/api/v1/me", nil)
			assert.Equal(t, http.StatusUnauthorized, res.Status)
			assert.Equal(t, "unauthorized", code(res))
		}
		ended(t, "auth:revoked", 2*time.Second, socks...)
		signIn := srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": worker.Email, "password": seed.Password}))
		assert.NotEqual(t, "OK", signIn.JSON()["status"], "no sign-in while suspended: %s", signIn)

		suspended := mod.Do(http.MethodGet, orgs+"?status=suspended", nil).JSON()["items"].([]any)
		require.Len(t, suspended, 1)
		assert.EqualValues(t, 2, suspended[0].(map[string]any)["members"], "members stay; they just cannot sign in")

		res = mod.Do(http.MethodDelete, of(factory.OrgID)+"/suspension", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, true, res.JSON()["isActive"])
		again := srv.Client(t)
		again.SignIn(worker.Email, seed.Password)
		assert.Equal(t, http.StatusOK, again.Do(http.MethodGet, "/api/v1/me", nil).Status, "reinstated")
		factory.Client = srv.Client(t)
		factory.SignIn(factory.Email, seed.Password)
	})

	t.Run("moderators grant the role", func(t *testing.T) {
		res := mod.Do(http.MethodPut, "/api/v1/moderation/moderators/"+factory.ID, nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, "moderator", res.JSON()["platformRole"])
		res = factory.Do(http.MethodGet, orgs, nil)
		assert.Equal(t, "token_expired", code(res), "a token with the old roles is sent to refresh")
		require.Equal(t, http.StatusOK, factory.Refresh().Status)
		assert.Equal(t, http.StatusOK, factory.Do(http.MethodGet, orgs, nil).Status, "the refreshed token is a moderator's")

		res = factory.Do(http.MethodDelete, "/api/v1/moderation/moderators/"+factory.ID, nil)
		assert.Equal(t, http.StatusConflict, res.Status, "not one's own role")
		res = mod.Do(http.MethodDelete, "/api/v1/moderation/moderators/"+factory.ID, nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		require.Equal(t, http.StatusOK, factory.Refresh().Status)
		assert.Equal(t, http.StatusForbidden, factory.Do(http.MethodGet, orgs, nil).Status)
	})

	t.Run("operators grant the role from the command line", func(t *testing.T) {
		worker.Client = srv.Client(t)
		worker.SignIn(worker.Email, seed.Password)
		grant := env.Run(t, []string{"moderators", "grant", strings.ToUpper(worker.Email)}, "")
		require.NoError(t, grant.Exited(t, time.Minute), grant.Logs())
		assert.Contains(t, grant.Logs(), "moderator granted")
		res := worker.Do(http.MethodGet, orgs, nil)
		assert.Equal(t, "token_expired", code(res), "the token in hand is sent to refresh: %s", res)
		require.Equal(t, http.StatusOK, worker.Refresh().Status)
		assert.Equal(t, http.StatusOK, worker.Do(http.MethodGet, orgs, nil).Status)

		revoke := env.Run(t, []string{"moderators", "revoke", worker.Email}, "")
		require.NoError(t, revoke.Exited(t, time.Minute), revoke.Logs())
		require.Equal(t, http.StatusOK, worker.Refresh().Status)
		assert.Equal(t, http.StatusForbidden, worker.Do(http.MethodGet, orgs, nil).Status)

		unknown := env.Run(t, []string{"moderators", "grant", "nobody@nowhere.example"}, "")
		assert.Error(t, unknown.Exited(t, time.Minute), "an unknown address fails")
	})

	t.Run("unknown ids", func(t *testing.T) {
		for _, path := range []string{
			of("00000000-0000-4000-8000-000000000000") + "/verification", of("nope") + "/verification",
			"/api/v1/moderation/moderators/00000000-0000-4000-8000-000000000000",
		} {
			assert.Equal(t, http.StatusNotFound, mod.Do(http.MethodPut, path, nil).Status, path)
		}
	})
}
