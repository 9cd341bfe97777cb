package usecaseapp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublicCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	c := newPublicCache(time.Minute, 10)
	c.now = func() time.Time { return now }
	var builds atomic.Int32
	build := func(body string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) {
			builds.Add(1)
			return []byte(body), nil
		}
	}

	got, err := c.get(ctx, "a", build("aaaa"))
	require.NoError(t, err)
	assert.Equal(t, "aaaa", string(got))
	got, _ = c.get(ctx, "a", build("changed"))
	assert.Equal(t, "aaaa", string(got), "kept within its time to live")
	now = now.Add(time.Minute)
	got, _ = c.get(ctx, "a", build("bbbb"))
	assert.Equal(t, "bbbb", string(got), "rebuilt once it expired")

	// Errors are not kept.
	_, err = c.get(ctx, "e", func(context.Context) ([]byte, error) { return nil, errors.New("down") })
	require.Error(t, err)
	got, err = c.get(ctx, "e", build("ok"))
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got))

	// Over the byte budget (10): the oldest entries go, the newest stays even alone.
	now = now.Add(time.Second)
	_, _ = c.get(ctx, "big", build("0123456789"))
	c.mu.Lock()
	_, kept := c.entries["big"]
	n, size := len(c.entries), c.bytes
	c.mu.Unlock()
	assert.True(t, kept)
	assert.Equal(t, 1, n)
	assert.Equal(t, 10, size)

	// Cleared: everything is built again.
	before := builds.Load()
	c.clear()
	_, _ = c.get(ctx, "big", build("x"))
	assert.Equal(t, before+1, builds.Load())

	// Concurrent misses of one key build it once.
	release := make(chan struct{})
	var slow atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.get(ctx, "slow", func(context.Context) ([]byte, error) {
				slow.Add(1)
				<-release
				return []byte("s"), nil
			})
			assert.NoError(t, err)
			assert.Equal(t, "s", string(got))
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), slow.Load())
}
