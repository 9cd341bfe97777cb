package notifyapp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/notify"
)

// TestPusherSendsTheLatestAtMostOncePerInterval: the first push of a notification goes at once,
// its folds within the interval become one trailing push of the latest state, another
// notification is not held back, and after a quiet interval a push goes at once again.
func TestPusherSendsTheLatestAtMostOncePerInterval(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	p := newPusher(200*time.Millisecond, func(_ context.Context, n notify.Notification) {
		mu.Lock()
		sent = append(sent, n.ID+"/"+string(rune('0'+n.Count)))
		mu.Unlock()
	})
	got := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), sent...) }
	ctx := context.Background()

	p.push(ctx, notify.Notification{ID: "a", Count: 1})
	p.push(ctx, notify.Notification{ID: "a", Count: 2})
	p.push(ctx, notify.Notification{ID: "b", Count: 1})
	p.push(ctx, notify.Notification{ID: "a", Count: 3})
	assert.Equal(t, []string{"a/1", "b/1"}, got(), "first pushes go at once, folds wait")
	require.Eventually(t, func() bool { return len(got()) == 3 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, "a/3", got()[2], "one trailing push with the latest state")

	time.Sleep(250 * time.Millisecond)
	p.push(ctx, notify.Notification{ID: "a", Count: 4})
	assert.Equal(t, "a/4", got()[len(got())-1], "after a quiet interval a push goes at once")
	time.Sleep(250 * time.Millisecond)
	assert.Len(t, got(), 4, "and nothing else was pushed")
}
