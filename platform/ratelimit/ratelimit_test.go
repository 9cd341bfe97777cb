package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

func TestFailuresLockThenLeak(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	l := ratelimit.New(rdb, prefix)
	p := ratelimit.Policy{Events: 3, Per: 30 * time.Second}

	for i := range 3 {
		wait, err := l.Peek(ctx, "acct", p)
		require.NoError(t, err)
		require.Zero(t, wait, "attempt %d is allowed", i+1)
		wait, err = l.Hit(ctx, "acct", p)
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	wait, err := l.Peek(ctx, "acct", p)
	require.NoError(t, err)
	assert.InDelta(t, 10*time.Second, wait, float64(time.Second), "one event comes back after Per/Events")

	other, err := l.Peek(ctx, "other", p)
	require.NoError(t, err)
	assert.Zero(t, other, "keys are independent")

	require.NoError(t, l.Reset(ctx, "acct"))
	wait, err = l.Peek(ctx, "acct", p)
	require.NoError(t, err)
	assert.Zero(t, wait)
}

func TestHitRefusesOverLimit(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	l := ratelimit.New(rdb, prefix)
	p := ratelimit.Policy{Events: 1, Per: time.Minute}
	wait, err := l.Hit(ctx, "k", p)
	require.NoError(t, err)
	assert.Zero(t, wait)
	wait, err = l.Hit(ctx, "k", p)
	require.NoError(t, err)
	assert.Greater(t, wait, 50*time.Second)
}
