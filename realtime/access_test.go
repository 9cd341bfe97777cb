package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/realtime/sioclient"
)

// closed waits for the server to end the socket.
func closed(t *testing.T, c *sioclient.Client, within time.Duration) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(within):
		t.Fatalf("the socket is still open after %s", within)
	}
}

func expiring(user, session string, in time.Duration) string {
	return fmt.Sprintf("ok:%s:o1:%s:member:%d", user, session, time.Now().Add(in).UnixMilli())
}

func TestEndSessionsDisconnectsThoseSessionsOnly(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	ended := dial(t, n, "ok:u1:o1:s1")
	kept := dial(t, n, "ok:u1:o1:s2")
	stranger := dial(t, n, "ok:u2:o1:s1") // another user's handle never matches by accident

	n.hub.EndSessions("u1", []string{"s1"})
	ev := next(t, ended, realtime.EventAuthRevoked)
	assert.Equal(t, "session_revoked", ev["code"])
	closed(t, ended, 2*time.Second)
	assert.Equal(t, true, call(t, kept, realtime.EventEcho, 1)["ok"], "the user's other session lives on")
	assert.Equal(t, true, call(t, stranger, realtime.EventEcho, 1)["ok"])

	// A sign-out knows only its handle.
	n.hub.EndSessions("", []string{"s2"})
	closed(t, kept, 2*time.Second)
	assert.Equal(t, true, call(t, stranger, realtime.EventEcho, 1)["ok"])
}

func TestRoleChangesApplyToOpenSockets(t *testing.T) {
	cl := newCluster(t)
	cl.setup = func(h *realtime.Hub) {
		h.Handle("test:manage", func(context.Context, realtime.Socket, realtime.Args) (any, error) {
			return "done", nil
		}, identity.PermMembersManage)
	}
	n := cl.node(baseConfig())
	c := dial(t, n, "ok:u1:o1:s1:member")
	assert.Equal(t, "forbidden", errCode(call(t, c, "test:manage")))

	n.hub.SetRoles("u1", []string{identity.RoleAdmin})
	assert.Equal(t, true, call(t, c, "test:manage")["ok"], "promoted without reconnecting")
	n.hub.SetRoles("u1", []string{identity.RoleMember})
	assert.Equal(t, "forbidden", errCode(call(t, c, "test:manage")), "demoted without reconnecting")
}

func TestExpiredTokenEndsTheSocket(t *testing.T) {
	n := newCluster(t).node(baseConfig())

	t.Run("an event after expiry is refused and ends the socket", func(t *testing.T) {
		c := dial(t, n, expiring("u1", "s1", 700*time.Millisecond))
		assert.Equal(t, true, call(t, c, realtime.EventEcho, 1)["ok"])
		time.Sleep(time.Second)
		assert.Equal(t, "token_expired", errCode(call(t, c, realtime.EventEcho, 1)))
		ev := next(t, c, realtime.EventAuthExpired)
		assert.Equal(t, "token_expired", ev["code"])
		closed(t, c, 2*time.Second)
	})
	t.Run("an idle socket is ended by the sweep", func(t *testing.T) {
		c := dial(t, n, expiring("u1", "s2", 500*time.Millisecond))
		ev := next(t, c, realtime.EventAuthExpired) // within the 5 s sweep (ctxT allows 10 s)
		assert.Equal(t, "token_expired", ev["code"])
		closed(t, c, 2*time.Second)
	})
	t.Run("a refreshed socket lives on", func(t *testing.T) {
		c := dial(t, n, expiring("u1", "s3", 800*time.Millisecond))
		ack := call(t, c, realtime.EventAuthRefresh, map[string]any{"token": expiring("u1", "s3", time.Hour)})
		require.Equal(t, true, ack["ok"], ack)
		assert.NotEmpty(t, ack["data"].(map[string]any)["expiresAt"])
		time.Sleep(time.Second)
		assert.Equal(t, true, call(t, c, realtime.EventEcho, 1)["ok"])
	})
	t.Run("refresh refuses what is not a fresh token of the same user", func(t *testing.T) {
		c := dial(t, n, expiring("u1", "s4", time.Hour))
		for _, tc := range []struct {
			payload any
			code    string
		}{
			{map[string]any{"token": expiring("u2", "s9", time.Hour)}, "forbidden"},
			{map[string]any{"token": "ok:u1:o2:s4"}, "forbidden"},
			{map[string]any{"token": "expired"}, "token_expired"},
			{map[string]any{"token": "forged"}, "unauthorized"},
			{map[string]any{"token": ""}, "validation_failed"},
			{map[string]any{"token": 12}, "invalid_request"},
			{"token", "invalid_request"},
		} {
			assert.Equal(t, tc.code, errCode(call(t, c, realtime.EventAuthRefresh, tc.payload)), "%v", tc.payload)
		}
		assert.Equal(t, true, call(t, c, realtime.EventEcho, 1)["ok"], "and the socket lives on")
	})
}

func TestLeaveRoomReachesEveryNode(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	onA, onB := dial(t, a, "ok:u1:o1"), dial(t, b, "ok:u1:o1")
	other := dial(t, b, "ok:u2:o1")
	for _, c := range []*sioclient.Client{onA, onB, other} {
		require.Equal(t, true, call(t, c, realtime.EventRoomJoin, map[string]any{"room": "topic:open"})["ok"])
	}
	require.NoError(t, a.hub.LeaveRoom(ctxT(t), []string{"u1"}, "topic:open"))
	for _, c := range []*sioclient.Client{onA, onB} {
		require.Eventually(t, func() bool {
			return errCode(call(t, c, realtime.EventTypingStart, map[string]any{"room": "topic:open"})) == "forbidden"
		}, 2*time.Second, 20*time.Millisecond, "typing needs the room")
	}
	assert.Equal(t, true, call(t, other, realtime.EventTypingStart, map[string]any{"room": "topic:open"})["ok"])
}

// hideOthers lets a principal see the presence of users whose id starts with "pub".
type hideOthers struct{}

func (hideOthers) VisibleUsers(_ context.Context, _ identity.Principal, ids []string) ([]string, error) {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id[:3] != "pub" }), nil
}

func TestPresenceFollowsVisibility(t *testing.T) {
	cl := newCluster(t)
	cl.setup = func(h *realtime.Hub) { h.LimitPresence(hideOthers{}) }
	n := cl.node(baseConfig())
	hidden := dial(t, n, "ok:hidden1:o2")
	pub := dial(t, n, "ok:pub1:o2")
	watcher := dial(t, n, "ok:w:o1")

	ack := call(t, watcher, realtime.EventPresenceSubscribe, map[string]any{"userIds": []string{"hidden1", "pub1", "nobody"}})
	require.Equal(t, true, ack["ok"], ack)
	users := ack["data"].(map[string]any)["users"].([]any)
	require.Len(t, users, 3)
	assert.Equal(t, users[2].(map[string]any)["status"], users[0].(map[string]any)["status"],
		"a hidden user reads like an unknown id")
	assert.Equal(t, users[2].(map[string]any)["lastSeen"], users[0].(map[string]any)["lastSeen"])
	assert.Equal(t, "online", users[1].(map[string]any)["status"])

	// Changes of the hidden user do not reach the watcher; the visible one's do.
	require.Equal(t, true, call(t, hidden, realtime.EventPresenceSet, map[string]any{"status": "away"})["ok"])
	require.Equal(t, true, call(t, pub, realtime.EventPresenceSet, map[string]any{"status": "away"})["ok"])
	ev := next(t, watcher, realtime.EventPresenceUpdate)
	assert.Equal(t, "pub1", ev["userId"])
}

func TestSocketsPerUserAreBounded(t *testing.T) {
	cfg := baseConfig()
	cfg.MaxSocketsPerUser = 2
	cl := newCluster(t)
	a, b := cl.node(cfg), cl.node(cfg)
	first := dial(t, a, "ok:u1:o1")
	second := dial(t, b, "ok:u1:o1")
	// An event is served after the socket's connect hook, which records it in presence.
	call(t, first, realtime.EventEcho, 1)
	call(t, second, realtime.EventEcho, 1)
	_, err := sioclient.Dial(ctxT(t), a.url, sioclient.Options{Auth: map[string]any{"token": "ok:u1:o1"}})
	var ce *sioclient.ConnectError
	require.ErrorAs(t, err, &ce, "the bound holds across nodes")
	assert.Equal(t, "too_many_connections", ce.Code())
	dial(t, a, "ok:u2:o1") // another user is not affected

	require.NoError(t, first.Close())
	require.Eventually(t, func() bool {
		c, err := sioclient.Dial(ctxT(t), b.url, sioclient.Options{Auth: map[string]any{"token": "ok:u1:o1"}})
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 2*time.Second, 20*time.Millisecond, "a closed socket frees its place")
}

func TestPayloadTextIsChecked(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	c := dial(t, n, "ok:u1:o1")
	for _, payload := range []map[string]any{
		{"room": "topic:a\u0000b"},
		{"room": "topic:\u0007"},
		{"room\u0000": "topic:open"},
	} {
		ack := call(t, c, realtime.EventRoomJoin, payload)
		assert.Equal(t, "validation_failed", errCode(ack), "%q", payload)
	}
	ack := call(t, c, realtime.EventPresenceSubscribe, map[string]any{"userIds": []string{"u2", "u\u0000"}})
	assert.Equal(t, "validation_failed", errCode(ack))
	assert.Equal(t, "userIds[1]", ack["error"].(map[string]any)["fields"].([]any)[0].(map[string]any)["field"])
	assert.Equal(t, true, call(t, c, realtime.EventEcho, 1)["ok"], "and the socket lives on")
}
