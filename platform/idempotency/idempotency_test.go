package idempotency_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/idempotency"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := idempotency.New(pool)
	created := idempotency.Response{Status: 201, Body: []byte(`{"id":"c1","title":"خط الإنتاج"}`), Location: "/api/v1/conversations/c1"}

	state, _, err := s.Begin(ctx, "u1 POST /x", "k1", "h1")
	require.NoError(t, err)
	require.Equal(t, idempotency.Claimed, state)

	for _, tc := range []struct {
		name             string
		scope, key, hash string
		want             idempotency.State
	}{
		{"the same request while the first runs", "u1 POST /x", "k1", "h1", idempotency.Running},
		{"the key with another body", "u1 POST /x", "k1", "h2", idempotency.Mismatch},
		{"the key of another user is theirs", "u2 POST /x", "k1", "h1", idempotency.Claimed},
		{"the key on another route is another key", "u1 POST /y", "k1", "h1", idempotency.Claimed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, _, err := s.Begin(ctx, tc.scope, tc.key, tc.hash)
			require.NoError(t, err)
			assert.Equal(t, tc.want, state)
		})
	}

	require.NoError(t, s.Complete(ctx, "u1 POST /x", "k1", created))
	state, got, err := s.Begin(ctx, "u1 POST /x", "k1", "h1")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Done, state)
	assert.Equal(t, created.Status, got.Status)
	assert.JSONEq(t, string(created.Body), string(got.Body))
	assert.Equal(t, created.Location, got.Location)
	state, _, err = s.Begin(ctx, "u1 POST /x", "k1", "h2")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Mismatch, state, "a finished key still refuses another body")

	// A failed request lets its retry run again; a stored answer is not released.
	state, _, _ = s.Begin(ctx, "u1 POST /x", "k2", "h1")
	require.Equal(t, idempotency.Claimed, state)
	require.NoError(t, s.Release(ctx, "u1 POST /x", "k2"))
	state, _, _ = s.Begin(ctx, "u1 POST /x", "k2", "h1")
	assert.Equal(t, idempotency.Claimed, state)
	require.NoError(t, s.Release(ctx, "u1 POST /x", "k1"))
	state, _, _ = s.Begin(ctx, "u1 POST /x", "k1", "h1")
	assert.Equal(t, idempotency.Done, state)
}

func TestNoBodyAnswer(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := idempotency.New(pool)
	_, _, err := s.Begin(ctx, "u", "k", "h")
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, "u", "k", idempotency.Response{Status: 204}))
	state, got, err := s.Begin(ctx, "u", "k", "h")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Done, state)
	assert.Equal(t, idempotency.Response{Status: 204}, got)
}

func TestExpiredAndAbandonedKeysAreTakenOver(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := idempotency.New(pool)
	s.TTL, s.Abandoned = time.Hour, 10*time.Minute

	// k1 expired an hour ago with an answer; k2 was claimed 20 minutes ago and never finished;
	// k3 was claimed 20 minutes ago by another request.
	_, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, response_status, created_at, expires_at) VALUES
		('u', 'k1', 'h', 201, now() - interval '25 hours', now() - interval '1 hour'),
		('u', 'k2', 'h', NULL, now() - interval '20 minutes', now() + interval '1 hour'),
		('u', 'k3', 'other', NULL, now() - interval '20 minutes', now() + interval '1 hour')`)
	require.NoError(t, err)
	for key, want := range map[string]idempotency.State{"k1": idempotency.Claimed, "k2": idempotency.Claimed, "k3": idempotency.Mismatch} {
		state, _, err := s.Begin(ctx, "u", key, "h")
		require.NoError(t, err)
		assert.Equal(t, want, state, key)
	}
	var left float64
	require.NoError(t, pool.QueryRow(ctx, `SELECT extract(epoch FROM expires_at - now()) FROM idempotency_keys WHERE key = 'k1'`).Scan(&left))
	assert.InDelta(t, time.Hour.Seconds(), left, 60, "a taken-over key lives for the TTL again")
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := idempotency.New(pool)
	var (
		mu     sync.Mutex
		states = map[idempotency.State]int{}
		wg     sync.WaitGroup
	)
	for range 16 {
		wg.Go(func() {
			state, _, err := s.Begin(ctx, "u", "race", "h")
			assert.NoError(t, err)
			mu.Lock()
			states[state]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[idempotency.State]int{idempotency.Claimed: 1, idempotency.Running: 15}, states)
}
