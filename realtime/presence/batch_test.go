package presence_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime/presence"
)

// Many handshakes at once: their calls share pipelines, and each still gets its own result.
func TestConcurrentCallsShareRoundTrips(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const users, conns = 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, users*conns*2)
	for u := range users {
		for c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user := fmt.Sprintf("u%d", u)
				if _, err := s.Count(ctx, user); err != nil {
					errs <- err
				}
				if _, err := s.Connect(ctx, "n1", user, fmt.Sprintf("c%d", c)); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for u := range users {
		n, err := s.Count(ctx, fmt.Sprintf("u%d", u))
		require.NoError(t, err)
		assert.Equal(t, conns, n)
	}
	got, err := s.Get(ctx, []string{"u0", "u49"})
	require.NoError(t, err)
	for _, g := range got {
		assert.Equal(t, presence.Online, g.Status)
	}
}

// A Redis that lost its scripts (a restart) answers a batch's EVALSHA with NOSCRIPT: the calls
// are run again with the script.
func TestBatchAfterScriptsFlushed(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	s := presence.New(rdb, prefix, 0, nil)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := s.Connect(ctx, "n1", fmt.Sprintf("v%d", i), "c")
			assert.NoError(t, err)
			assert.True(t, ch.Changed)
		}()
	}
	wg.Wait()
}
