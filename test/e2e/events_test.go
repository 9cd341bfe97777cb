package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestNotificationSurvivesACrash: the node dies (SIGKILL) after a message has committed and
// before its notification is written; the node that starts next writes it, exactly once. The
// first node gathers for a minute, so the kill lands in the gap every time.
func TestNotificationSurvivesACrash(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_NOTIFY_GATHER=1m")
	amal, badr := seed.Verified(t, env, srv, "amal"), seed.Verified(t, env, srv, "badr")
	res := amal.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{badr.ID}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	path := "/api/v1/conversations/" + res.JSON()["id"].(string) + "/messages"
	for _, text := range []string{"first", "second"} {
		res = amal.Do(http.MethodPost, path, map[string]any{"content": text})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
	}
	srv.Kill()

	conn := db(t, env)
	ctx := context.Background()
	var written int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_id = $1`, badr.ID).Scan(&written))
	require.Zero(t, written, "the kill came before the notification: nothing to test otherwise")

	next := env.Start(t)
	badr.Base = next.URL
	var notes []map[string]any
	require.Eventually(t, func() bool {
		notes = items(t, badr.Do(http.MethodGet, "/api/v1/notifications", nil))
		return len(notes) > 0
	}, 20*time.Second, 100*time.Millisecond, "the restarted node delivers what the crash left")
	// Delivery again (another node, a retry) must not add to it.
	time.Sleep(2 * time.Second)
	notes = items(t, badr.Do(http.MethodGet, "/api/v1/notifications", nil))
	require.Len(t, notes, 1, "one notification for the conversation")
	assert.Equal(t, "message", notes[0]["type"])
	assert.EqualValues(t, 2, notes[0]["count"], "both messages, each once")
	assert.Equal(t, "second", notes[0]["data"].(map[string]any)["preview"])
	var cursorBehind int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM domain_events e, domain_event_cursors c
		WHERE c.subscriber = 'notify' AND (e.txid, e.id) > (c.txid, c.id)`).Scan(&cursorBehind))
	assert.Zero(t, cursorBehind, "the subscriber has passed every event")
}
