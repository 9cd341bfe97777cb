package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/auth"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/realtime/sioclient"
	"github.com/p2psandbox/hub/rest"
)

// roleAuth signs in whoever's role the token names, on both transports, in session "s-<role>".
// With revoked set, it consults that list as auth.Auth does after its signature check.
type roleAuth struct {
	revoked *auth.Revocations
}

func (a roleAuth) principal(token string) (identity.Principal, error) {
	if _, ok := identity.RolePermissions[token]; !ok && token != "none" {
		return identity.Principal{}, identity.ErrUnauthenticated
	}
	p := identity.Principal{UserID: "u-" + token, OrganizationID: "o-1", SessionHandle: "s-" + token}
	if token != "none" {
		p.Roles = []string{token}
	}
	if a.revoked != nil {
		return p, a.revoked.Check(p)
	}
	return p, nil
}

func (a roleAuth) Verify(_ http.ResponseWriter, r *http.Request) (identity.Principal, error) {
	return a.principal(r.Header.Get("Authorization"))
}

func (a roleAuth) PrincipalFromToken(_ context.Context, token string) (identity.Principal, error) {
	return a.principal(token)
}

// TestPermissionMatrixOnBothTransports: a REST route and a socket event that name a permission
// answer alike for every role, as identity.RolePermissions says: the one matrix both consult.
func TestPermissionMatrixOnBothTransports(t *testing.T) {
	srv, _, perms := probes(t, roleAuth{})

	roles := []string{"none"}
	for r := range identity.RolePermissions {
		roles = append(roles, r)
	}
	for _, role := range roles {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		sock, err := sioclient.Dial(ctx, srv.URL, sioclient.Options{Auth: map[string]any{"token": role}})
		require.NoError(t, err)
		for _, p := range perms {
			want := identity.Principal{Roles: []string{role}}.Can(p)

			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/probe/"+strings.ReplaceAll(string(p), ":", "-"), nil)
			req.Header.Set("Authorization", role)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			if want {
				assert.Equal(t, http.StatusNoContent, res.StatusCode, "%s may %s over REST", role, p)
			} else {
				assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s may not %s over REST", role, p)
			}

			ack, err := sock.EmitWithAck(ctx, "probe:"+string(p), map[string]any{})
			require.NoError(t, err)
			require.Len(t, ack, 1)
			m := ack[0].(map[string]any)
			if want {
				assert.Equal(t, map[string]any{"done": true}, m["data"], "%s may %s over the socket: %v", role, p, m)
			} else {
				e, _ := m["error"].(map[string]any)
				assert.Equal(t, "forbidden", e["code"], "%s may not %s over the socket: %v", role, p, m)
			}
		}
		_ = sock.Abort()
		cancel()
	}
}

// TestRevokedPrincipalsOnBothTransports: once a session ends (signed out, deactivated, removed),
// every permission of every role is refused on both transports, and the open socket is ended.
func TestRevokedPrincipalsOnBothTransports(t *testing.T) {
	rdb, prefix := redistest.New(t)
	revoked := auth.NewRevocations(rdb, prefix, time.Hour, nil)
	srv, hub, perms := probes(t, roleAuth{revoked: revoked})
	revoked.Watch(func(c auth.Change) { hub.EndSessions(c.UserID, c.Sessions) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, revoked.Start(ctx))

	for role := range identity.RolePermissions {
		sock, err := sioclient.Dial(ctx, srv.URL, sioclient.Options{Auth: map[string]any{"token": role}})
		require.NoError(t, err)
		require.NoError(t, revoked.End(ctx, "u-"+role, []string{"s-" + role}))
		for _, p := range perms {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/probe/"+strings.ReplaceAll(string(p), ":", "-"), nil)
			req.Header.Set("Authorization", role)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a revoked %s may not %s over REST", role, p)
		}
		ev, err := sock.Next(ctx, realtime.EventAuthRevoked)
		require.NoError(t, err, "a revoked %s's socket is told", role)
		assert.Equal(t, "session_revoked", ev.Args[0].(map[string]any)["code"])
		select {
		case <-sock.Done():
		case <-ctx.Done():
			t.Fatalf("a revoked %s's socket stays open", role)
		}
		_, err = sioclient.Dial(ctx, srv.URL, sioclient.Options{Auth: map[string]any{"token": role}})
		var ce *sioclient.ConnectError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "unauthorized", ce.Code(), "and cannot connect again")
	}
}

// probes serves a REST route and a socket event per permission, each requiring it, with ra as
// the authenticator of both transports.
func probes(t *testing.T, ra roleAuth) (*httptest.Server, *realtime.Hub, []identity.Permission) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	router := rest.NewRouter(rest.Deps{Log: logging.Discard(), Registry: prometheus.NewRegistry(), Auth: ra,
		HTTP: rest.HTTP{MaxBodyBytes: 1 << 20, CORSOrigins: []string{"http://app.example"}}})
	hub, err := realtime.New(context.Background(), realtime.Config{
		PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second, MaxPayload: 1 << 20,
		ConnectTimeout: 3 * time.Second, EventRate: 1000, EventBurst: 1000, TypingTTL: time.Second, PresenceTTL: time.Minute,
	}, realtime.Deps{Redis: rdb, KeyPrefix: prefix, Auth: ra, Log: logging.Discard()})
	require.NoError(t, err)
	t.Cleanup(hub.Close)
	if ra.revoked != nil {
		hub.FollowRevocations(ra.revoked)
	}

	var perms []identity.Permission
	seen := map[identity.Permission]bool{}
	for _, ps := range identity.RolePermissions {
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				perms = append(perms, p)
			}
		}
	}
	for _, p := range perms {
		router.API.GET("/probe/"+strings.ReplaceAll(string(p), ":", "-"), router.Require(p), func(c *gin.Context) { c.Status(http.StatusNoContent) })
		hub.Handle("probe:"+string(p), func(context.Context, realtime.Socket, realtime.Args) (any, error) {
			return map[string]any{"done": true}, nil
		}, p)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub.Handler())
	mux.Handle("/", router)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, hub, perms
}
