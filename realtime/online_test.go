package realtime_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/realtime"
)

// TestOnlineReadsTheHubsPresence: a process without sockets sees what the hub records: online
// while a socket is online, not while every socket is away, not once they are gone.
func TestOnlineReadsTheHubsPresence(t *testing.T) {
	cl := newCluster(t)
	n := cl.node(baseConfig())
	online := realtime.NewOnline(cl.rdb, cl.prefix)
	is := func() bool {
		ok, err := online.Online(ctxT(t), "u1")
		require.NoError(t, err)
		return ok
	}
	assert.False(t, is(), "never connected")

	watcher := dial(t, n, "ok:w:o1")
	require.Equal(t, true, call(t, watcher, realtime.EventPresenceSubscribe, map[string]any{"userIds": []any{"u1"}})["ok"])
	tab := dial(t, n, "ok:u1:o1")
	assert.Equal(t, "online", next(t, watcher, realtime.EventPresenceUpdate)["status"])
	assert.True(t, is())

	require.Equal(t, true, call(t, tab, realtime.EventPresenceSet, map[string]any{"status": "away"})["ok"])
	assert.Equal(t, "away", next(t, watcher, realtime.EventPresenceUpdate)["status"])
	assert.False(t, is(), "away is not online")

	require.NoError(t, tab.Close())
	assert.Equal(t, "offline", next(t, watcher, realtime.EventPresenceUpdate)["status"])
	assert.False(t, is())
}
