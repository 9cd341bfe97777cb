package viewcount_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/platform/viewcount"
)

// TestCountsOncePerViewerAndKeepsWhatFailedToAdd: a viewer's repeats count once, counts reach
// the adder on stop, and counts the adder refused are kept for the next flush.
func TestCountsOncePerViewerAndKeepsWhatFailedToAdd(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	c := viewcount.New(rdb, prefix, "thing", slog.New(slog.DiscardHandler))

	var mu sync.Mutex
	got := map[string]int{}
	fail := true
	add := func(_ context.Context, views map[string]int) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return errors.New("database down")
		}
		for id, n := range views {
			got[id] += n
		}
		return nil
	}
	for _, v := range []struct{ id, viewer string }{{"a", "u1"}, {"a", "u1"}, {"a", "u2"}, {"b", "u1"}, {"a", "u2"}} {
		c.Seen(ctx, v.id, v.viewer)
	}
	stop := c.Start(20*time.Millisecond, add)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !fail && got["a"] == 2
	}, 5*time.Second, 10*time.Millisecond, "the refused counts come back in a later flush")
	c.Seen(ctx, "b", "u2")
	stop()
	assert.Equal(t, map[string]int{"a": 2, "b": 2}, got, "the last views reach the adder on stop")
}
