package presence_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime/presence"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newStore(t *testing.T) (*presence.Store, *clock) {
	rdb, prefix := redistest.New(t)
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return presence.New(rdb, prefix, 45*time.Second, c.Now), c
}

func TestTransitions(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	type step struct {
		name    string
		do      func() (presence.Change, error)
		status  presence.Status
		changed bool
	}
	steps := []step{
		{"first tab connects", func() (presence.Change, error) { return s.Connect(ctx, "n1", "u1", "a") }, presence.Online, true},
		{"second tab on another node", func() (presence.Change, error) { return s.Connect(ctx, "n2", "u1", "b") }, presence.Online, false},
		{"one tab away", func() (presence.Change, error) { return s.SetStatus(ctx, "n1", "u1", "a", presence.Away) }, presence.Online, false},
		{"both tabs away", func() (presence.Change, error) { return s.SetStatus(ctx, "n2", "u1", "b", presence.Away) }, presence.Away, true},
		{"one back online", func() (presence.Change, error) { return s.SetStatus(ctx, "n1", "u1", "a", presence.Online) }, presence.Online, true},
		{"online tab closes", func() (presence.Change, error) { return s.Disconnect(ctx, "n1", "u1", "a") }, presence.Away, true},
		{"last tab closes", func() (presence.Change, error) { return s.Disconnect(ctx, "n2", "u1", "b") }, presence.Offline, true},
		{"disconnect twice is harmless", func() (presence.Change, error) { return s.Disconnect(ctx, "n2", "u1", "b") }, presence.Offline, false},
	}
	for _, st := range steps {
		c.Advance(time.Second)
		ch, err := st.do()
		require.NoError(t, err, st.name)
		assert.Equal(t, st.status, ch.Status, st.name)
		assert.Equal(t, st.changed, ch.Changed, st.name)
		require.NotNil(t, ch.LastSeen, st.name)
	}
	users, err := s.Get(ctx, []string{"u1", "nobody"})
	require.NoError(t, err)
	require.Len(t, users, 2)
	assert.Equal(t, presence.Offline, users[0].Status)
	// Last seen is the moment the last tab closed (the seventh step).
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 12, 0, time.UTC), *users[0].LastSeen)
	assert.Equal(t, presence.User{UserID: "nobody", Status: presence.Offline}, users[1])

	_, err = s.SetStatus(ctx, "n1", "u1", "a", "busy")
	assert.Error(t, err)
}

func TestCrashedNodeIsReaped(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	for _, n := range []string{"alive", "crashed"} {
		fresh, err := s.Heartbeat(ctx, n)
		require.NoError(t, err)
		assert.True(t, fresh, "a node registers with its first heartbeat")
	}
	_, err := s.Connect(ctx, "crashed", "u1", "a")
	require.NoError(t, err)
	_, err = s.Connect(ctx, "crashed", "u2", "b")
	require.NoError(t, err)
	_, err = s.Connect(ctx, "alive", "u2", "c")
	require.NoError(t, err)

	// Within the window nothing is reaped.
	c.Advance(30 * time.Second)
	fresh, err := s.Heartbeat(ctx, "alive")
	require.NoError(t, err)
	assert.False(t, fresh)
	changes, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, changes)

	// Past it, the crashed node's users lose its connections exactly once.
	c.Advance(20 * time.Second)
	changes, err = s.Sweep(ctx)
	require.NoError(t, err)
	got := map[string]presence.Change{}
	for _, ch := range changes {
		got[ch.UserID] = ch
	}
	require.Len(t, got, 2)
	assert.Equal(t, presence.Offline, got["u1"].Status)
	assert.True(t, got["u1"].Changed)
	assert.Equal(t, presence.Online, got["u2"].Status, "u2 still has a tab on the live node")
	assert.False(t, got["u2"].Changed)

	again, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, again, "a node is reaped once")

	// A node that was only stalled learns it was reaped from its next heartbeat.
	fresh, err = s.Heartbeat(ctx, "crashed")
	require.NoError(t, err)
	assert.True(t, fresh)
}

func TestRemoveNode(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	_, err := s.Heartbeat(ctx, "n1")
	require.NoError(t, err)
	_, err = s.Connect(ctx, "n1", "u1", "a")
	require.NoError(t, err)
	changes, err := s.RemoveNode(ctx, "n1")
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.Equal(t, presence.Offline, changes[0].Status)
	assert.True(t, changes[0].Changed)
}
