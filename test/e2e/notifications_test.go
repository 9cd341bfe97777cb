package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestNotificationsJourney: an admin's invitees join; the admin lists, counts and reads the
// notifications, sets preferences, and, being offline, gets the digest mail one delay later.
func TestNotificationsJourney(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_NOTIFY_EMAIL_DELAY=1s")
	o := seed.Founder(t, srv, "notes")
	admin := o.Client

	res := admin.Do(http.MethodGet, "/api/v1/notifications/preferences", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	prefs := res.JSON()
	assert.Equal(t, map[string]any{"inApp": true, "email": true}, prefs["message"])
	assert.Equal(t, map[string]any{"inApp": true, "email": false}, prefs["invitation_accepted"], "not mailed by default")

	res = admin.Do(http.MethodGet, "/api/v1/notifications", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Empty(t, res.JSON()["items"])
	assert.Equal(t, float64(0), res.JSON()["unreadCount"])

	// An invitee joins: their inviter is told.
	bob := seed.Invite(t, env, srv, o, "bob", "member")
	unreadReaches(t, admin, 1) // written by the notify subscriber, just after the sign-up
	res = admin.Do(http.MethodGet, "/api/v1/notifications", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	items := res.JSON()["items"].([]any)
	require.Len(t, items, 1)
	first := items[0].(map[string]any)
	assert.Equal(t, "invitation_accepted", first["type"])
	assert.Equal(t, bob.ID, first["actor"].(map[string]any)["id"])
	assert.Equal(t, "user", first["targetType"])
	assert.Equal(t, bob.ID, first["targetId"])
	assert.Equal(t, "Joined Tester", first["data"].(map[string]any)["title"])
	assert.Nil(t, first["readAt"])
	assert.Equal(t, float64(1), res.JSON()["unreadCount"])
	res = admin.Do(http.MethodGet, "/api/v1/notifications/unread-count", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, float64(1), res.JSON()["unread"])
	assert.Positive(t, res.JSON()["version"])

	// Someone else's notifications are none of bob's business.
	res = bob.Do(http.MethodGet, "/api/v1/notifications", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Empty(t, res.JSON()["items"])
	for _, id := range []string{first["id"].(string), "not-an-id"} {
		res = bob.Do(http.MethodPost, "/api/v1/notifications/"+id+"/read", nil)
		assert.Equal(t, http.StatusNotFound, res.Status, res.String())
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/notifications", nil).Status)

	// Preferences: the admin wants accepted invitations by email too; bad bodies are refused.
	res = admin.Do(http.MethodPut, "/api/v1/notifications/preferences",
		map[string]any{"invitation_accepted": map[string]any{"inApp": true, "email": true}})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, map[string]any{"inApp": true, "email": true}, res.JSON()["invitation_accepted"])
	assert.Equal(t, map[string]any{"inApp": true, "email": true}, res.JSON()["reply"], "the others keep theirs")
	for _, tt := range []struct {
		body   any
		status int
	}{
		{map[string]any{"nope": map[string]any{"inApp": true, "email": true}}, http.StatusUnprocessableEntity},
		{map[string]any{"reply": map[string]any{"inApp": true}}, http.StatusUnprocessableEntity},
		{map[string]any{"reply": map[string]any{"inApp": true, "email": true, "sms": true}}, http.StatusBadRequest},
		{map[string]any{"reply": map[string]any{"inApp": "yes", "email": true}}, http.StatusUnprocessableEntity},
		{"[", http.StatusBadRequest},
	} {
		res = admin.Do(http.MethodPut, "/api/v1/notifications/preferences", tt.body)
		assert.Equal(t, tt.status, res.Status, "%v: %s", tt.body, res)
	}

	// A second invitee: two notifications, newest first, one per page.
	start := time.Now()
	carol := seed.Invite(t, env, srv, o, "carol", "member")
	unreadReaches(t, admin, 2)
	res = admin.Do(http.MethodGet, "/api/v1/notifications?limit=1", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	page1 := res.JSON()
	require.Len(t, page1["items"], 1)
	carolNote := page1["items"].([]any)[0].(map[string]any)
	assert.Equal(t, carol.ID, carolNote["actor"].(map[string]any)["id"])
	assert.Equal(t, float64(2), page1["unreadCount"])
	require.NotNil(t, page1["nextCursor"])
	res = admin.Do(http.MethodGet, "/api/v1/notifications?limit=1&cursor="+page1["nextCursor"].(string), nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, first["id"], res.JSON()["items"].([]any)[0].(map[string]any)["id"])
	assert.Nil(t, res.JSON()["nextCursor"])

	// The admin holds no socket: after the delay, one digest with what email was wanted for
	// (carol's; bob's arrived while email was off).
	m := env.Mail.Wait(t, o.Email, "You have an unread notification", mailWait)
	assert.GreaterOrEqual(t, time.Since(start), time.Second)
	assert.Contains(t, m.Text, "Joined Tester accepted your invitation and joined your organization")
	assert.Equal(t, []string{"http://localhost:5173/notifications"}, m.Links)

	// Reading.
	res = admin.Do(http.MethodPost, "/api/v1/notifications/"+carolNote["id"].(string)+"/read", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, float64(1), res.JSON()["unread"])
	res = admin.Do(http.MethodPost, "/api/v1/notifications/"+carolNote["id"].(string)+"/read", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, float64(1), res.JSON()["unread"], "reading twice changes nothing")
	res = admin.Do(http.MethodGet, "/api/v1/notifications?unread=true", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	require.Len(t, res.JSON()["items"], 1)
	assert.Equal(t, first["id"], res.JSON()["items"].([]any)[0].(map[string]any)["id"])

	for _, q := range []string{"unread=maybe", "limit=500", "cursor=garbage"} {
		res = admin.Do(http.MethodGet, "/api/v1/notifications?"+q, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, q)
	}

	res = admin.Do(http.MethodPost, "/api/v1/notifications/read-all", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, float64(0), res.JSON()["unread"])
	res = admin.Do(http.MethodGet, "/api/v1/notifications?unread=true", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Empty(t, res.JSON()["items"])
	assert.Equal(t, float64(0), res.JSON()["unreadCount"])
}

// unreadReaches waits until c has n unread notifications: the notify subscriber writes them from
// the event log, a moment after the change that caused them.
func unreadReaches(t *testing.T, c *harness.Client, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		res := c.Do(http.MethodGet, "/api/v1/notifications/unread-count", nil)
		return res.Status == http.StatusOK && res.JSON()["unread"] == float64(n)
	}, 15*time.Second, 50*time.Millisecond, "%d unread notifications", n)
}
