package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

// node starts one node's view of the revocation list.
func node(t *testing.T, prefix string) (*Revocations, *changes) {
	t.Helper()
	return nodeAt(t, prefix, time.Now)
}

// nodeAt is node with its clock: set before Start, since the node's goroutines read it.
func nodeAt(t *testing.T, prefix string, now func() time.Time) (*Revocations, *changes) {
	t.Helper()
	rdb, _ := redistest.New(t)
	r := NewRevocations(rdb, prefix, time.Hour, nil)
	r.now = now
	seen := &changes{}
	r.Watch(seen.add)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, r.Start(ctx))
	return r, seen
}

type changes struct {
	mu  sync.Mutex
	all []Change
}

func (c *changes) add(ch Change) { c.mu.Lock(); c.all = append(c.all, ch); c.mu.Unlock() }
func (c *changes) len() int      { c.mu.Lock(); defer c.mu.Unlock(); return len(c.all) }

func TestRevocationsReachEveryNode(t *testing.T) {
	_, prefix := redistest.New(t)
	a, _ := node(t, prefix)
	b, seenB := node(t, prefix)
	ctx := context.Background()
	alice := identity.Principal{UserID: "u1", SessionHandle: "h1", Roles: []string{"member"}}
	other := identity.Principal{UserID: "u1", SessionHandle: "h2", Roles: []string{"member"}}

	require.NoError(t, a.End(ctx, "u1", []string{"h1"}))
	assert.ErrorIs(t, a.Check(alice), ErrSessionEnded, "the revoking node refuses at once")
	require.Eventually(t, func() bool { return b.Check(alice) != nil }, 2*time.Second, 5*time.Millisecond,
		"another node refuses within 2 s")
	assert.NoError(t, b.Check(other), "the user's other session lives on")
	require.Eventually(t, func() bool { return seenB.len() == 1 }, time.Second, 5*time.Millisecond)

	require.NoError(t, a.SetRoles(ctx, "u1", []string{"admin"}))
	require.Eventually(t, func() bool { return b.Check(other) != nil }, 2*time.Second, 5*time.Millisecond)
	assert.ErrorIs(t, b.Check(other), identity.ErrTokenExpired, "a token with the old roles is sent to refresh")
	other.Roles = []string{"admin"}
	assert.NoError(t, b.Check(other), "the refreshed token carries the new role")

	// A node that starts later loads the list.
	c, _ := node(t, prefix)
	assert.ErrorIs(t, c.Check(alice), ErrSessionEnded)
	assert.NoError(t, c.Check(other))
}

func TestRevocationsForgetWhatNoTokenOutlives(t *testing.T) {
	_, prefix := redistest.New(t)
	start := time.Now()
	var passed atomic.Int64 // how far the test has moved the node's clock
	a, _ := nodeAt(t, prefix, func() time.Time { return start.Add(time.Duration(passed.Load())) })
	ctx := context.Background()
	require.NoError(t, a.End(ctx, "u1", []string{"h1"}))
	passed.Store(int64(2 * time.Hour))
	require.NoError(t, a.reload(ctx))
	assert.NoError(t, a.Check(identity.Principal{UserID: "u1", SessionHandle: "h1"}),
		"after the token validity nothing issued before it is left to refuse")
	n, err := a.rdb.HLen(ctx, a.key).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "and Redis forgets it too")
}

func TestNilRevocationsAllowEverything(t *testing.T) {
	var r *Revocations
	assert.NoError(t, r.Check(identity.Principal{UserID: "u"}))
}
