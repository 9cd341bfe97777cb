package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/realtime/sioclient"
	"github.com/p2psandbox/hub/test/harness"
)

// socket connects a socket for token to srv.
func socket(t testing.TB, srv *harness.Server, token string) *sioclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, srv.URL, sioclient.Options{Auth: map[string]any{"token": token}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Abort() })
	return c
}

// refusedHandshake is the connect_error code of a handshake with token.
func refusedHandshake(t *testing.T, srv *harness.Server, token string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, srv.URL, sioclient.Options{Auth: map[string]any{"token": token}})
	if err == nil {
		_ = c.Close()
		return ""
	}
	var ce *sioclient.ConnectError
	require.ErrorAs(t, err, &ce)
	return ce.Code()
}

// ended waits for the server to end each socket with event and returns when the last one closed.
func ended(t *testing.T, event string, within time.Duration, socks ...*sioclient.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for i, c := range socks {
		ev, err := c.Next(ctx, event)
		require.NoError(t, err, "socket %d: no %s within %s", i, event, within)
		require.NotEmpty(t, ev.Args)
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatalf("socket %d still open %s after the revocation", i, within)
		}
	}
}

func code(res *harness.Response) string {
	s, _ := res.JSON()["code"].(string)
	return s
}

// TestAccessEndsOnEveryNode: deactivation, removal, sign-out and a password reset end the
// tokens in hand at once, and the sockets on every node within 2 s.
func TestAccessEndsOnEveryNode(t *testing.T) {
	env := harness.NewEnv(t)
	nodes := []*harness.Server{env.Start(t), env.Start(t), env.Start(t)}
	srv := nodes[0]
	o := newOrg(t, srv, "revoke")
	users := "/api/v1/organizations/current/users/"
	everywhere := func(token string) []*sioclient.Client {
		var out []*sioclient.Client
		for _, n := range nodes {
			out = append(out, socket(t, n, token))
		}
		return out
	}

	t.Run("deactivation", func(t *testing.T) {
		bob, bobID := join(t, env, srv, o, "bob", "member")
		require.Equal(t, http.StatusOK, bob.Do(http.MethodGet, "/api/v1/me", nil).Status)
		socks := everywhere(bob.AccessToken)

		res := o.admin.Do(http.MethodPatch, users+bobID, map[string]any{"isActive": false})
		require.Equal(t, http.StatusOK, res.Status, res.String())
		res = bob.Do(http.MethodGet, "/api/v1/me", nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "the token in hand is refused at once: %s", res)
		assert.Equal(t, "unauthorized", code(res), "sign in again, not refresh")
		res = bob.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{o.owner}})
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		ended(t, "auth:revoked", 2*time.Second, socks...)
		for _, n := range nodes {
			assert.Equal(t, "unauthorized", refusedHandshake(t, n, bob.AccessToken), "no new socket either")
		}
	})

	t.Run("removal", func(t *testing.T) {
		carol, carolID := join(t, env, srv, o, "carol", "member")
		socks := everywhere(carol.AccessToken)
		require.Equal(t, http.StatusNoContent, o.admin.Do(http.MethodDelete, users+carolID, nil).Status)
		assert.Equal(t, http.StatusUnauthorized, carol.Do(http.MethodGet, "/api/v1/me", nil).Status)
		ended(t, "auth:revoked", 2*time.Second, socks...)
	})

	t.Run("sign-out ends that session only", func(t *testing.T) {
		second := srv.Client(t) // the admin's other device
		second.SignIn(o.email, "Str0ng-pass")

		token := o.admin.AccessToken
		socks := everywhere(token)
		kept := socket(t, nodes[1], second.AccessToken)
		require.Equal(t, http.StatusOK, o.admin.Do(http.MethodPost, "/auth/signout", nil).Status)

		signedOut := srv.Client(t)
		signedOut.AccessToken = token
		assert.Equal(t, http.StatusUnauthorized, signedOut.Do(http.MethodGet, "/api/v1/me", nil).Status)
		ended(t, "auth:revoked", 2*time.Second, socks...)
		assert.Equal(t, http.StatusOK, second.Do(http.MethodGet, "/api/v1/me", nil).Status, "the other session lives on")
		ack, err := kept.EmitWithAck(context.Background(), "hub:echo", 1)
		require.NoError(t, err)
		assert.Equal(t, true, ack[0].(map[string]any)["ok"])
		o.admin = second
	})

	t.Run("role change applies at once", func(t *testing.T) {
		erin, erinID := join(t, env, srv, o, "erin", "member")
		admins := "/api/v1/organizations/current/audit-log"
		assert.Equal(t, http.StatusForbidden, erin.Do(http.MethodGet, admins, nil).Status)
		require.Equal(t, http.StatusOK, o.admin.Do(http.MethodPatch, users+erinID, map[string]any{"role": "admin"}).Status)
		res := erin.Do(http.MethodGet, admins, nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "a token with the old role is sent to refresh")
		assert.Equal(t, "token_expired", code(res))
		require.Equal(t, http.StatusOK, erin.Refresh().Status)
		assert.Equal(t, http.StatusOK, erin.Do(http.MethodGet, admins, nil).Status, "the refreshed token is an admin's")

		require.Equal(t, http.StatusOK, o.admin.Do(http.MethodPatch, users+erinID, map[string]any{"role": "member"}).Status)
		assert.Equal(t, "token_expired", code(erin.Do(http.MethodGet, admins, nil)))
		require.Equal(t, http.StatusOK, erin.Refresh().Status)
		assert.Equal(t, http.StatusForbidden, erin.Do(http.MethodGet, admins, nil).Status, "demoted")
	})
}

// TestPasswordResetEndsTheTokensInHand: whoever knew the old password is out at once.
func TestPasswordResetEndsTheTokensInHand(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	email := harness.UniqueEmail("resetnow")
	c := srv.Client(t)
	c.SignUp(harness.SignUpFields(email))
	sock := socket(t, srv, c.AccessToken)
	res := srv.Client(t).Do(http.MethodPost, "/auth/user/password/reset/token", harness.Form(map[string]any{"email": email}))
	require.Equal(t, "OK", res.JSON()["status"], res.String())
	token := tokenOf(t, env.Mail.Wait(t, email, "Reset your", mailWait).Links[0])
	res = srv.Client(t).Do(http.MethodPost, "/auth/user/password/reset", map[string]any{
		"method": "token", "token": token, "formFields": []map[string]any{{"id": "password", "value": "N3w-password"}},
	})
	require.Equal(t, "OK", res.JSON()["status"], res.String())
	assert.Equal(t, http.StatusUnauthorized, c.Do(http.MethodGet, "/api/v1/me", nil).Status)
	ended(t, "auth:revoked", 2*time.Second, sock)
	fresh := srv.Client(t)
	fresh.SignIn(email, "N3w-password")
	assert.Equal(t, http.StatusOK, fresh.Do(http.MethodGet, "/api/v1/me", nil).Status, "a new session is not caught by the old revocation")
}

// BenchmarkRevocationReach is the time from a sign-out request to the close of the session's
// sockets on three nodes (docs/perf.md).
func BenchmarkRevocationReach(b *testing.B) {
	env := harness.NewEnv(b)
	nodes := []*harness.Server{env.Start(b), env.Start(b), env.Start(b)}
	email := harness.UniqueEmail("reach")
	nodes[0].Client(b).SignUp(harness.SignUpFields(email))
	var worst time.Duration
	for b.Loop() {
		b.StopTimer()
		c := nodes[0].Client(b)
		c.SignIn(email, "Str0ng-pass")
		socks := make([]*sioclient.Client, len(nodes))
		for i, n := range nodes {
			socks[i] = socket(b, n, c.AccessToken)
		}
		b.StartTimer()
		start := time.Now()
		if res := c.Do(http.MethodPost, "/auth/signout", nil); res.Status != http.StatusOK {
			b.Fatal(res)
		}
		var wg sync.WaitGroup
		for _, s := range socks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-s.Done():
				case <-time.After(10 * time.Second):
					b.Error("a socket outlived its session by 10 s")
				}
			}()
		}
		wg.Wait()
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
