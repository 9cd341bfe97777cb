package presence

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
)

// heldHLen holds every HLEN before it goes to Redis until the test lets it through.
type heldHLen struct {
	at   chan string   // the key of an HLEN that is being held
	pass chan struct{} // lets one through
}

func (h heldHLen) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h heldHLen) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if cmd.Name() == "hlen" {
			h.at <- cmd.Args()[1].(string)
			<-h.pass
		}
		return next(ctx, cmd)
	}
}

func (h heldHLen) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// A call that queued behind another's round trip is sent once that one is back, but not by the
// caller whose call is done: it returns at once. Otherwise, on a node that never stops taking
// handshakes, one handshake would go on sending the others' calls for as long as they kept
// coming.
func TestCallerReturnsOnceItsOwnCallIsDone(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	h := heldHLen{at: make(chan string, 4), pass: make(chan struct{})}
	rdb.AddHook(h)
	s := New(rdb, prefix, 0, nil)

	first := make(chan error, 1)
	go func() { _, err := s.Count(ctx, "first"); first <- err }()
	require.Equal(t, s.connsKey("first"), <-h.at, "the first call leads and is at Redis")
	second := make(chan error, 1)
	go func() { _, err := s.Count(ctx, "second"); second <- err }()
	require.Eventually(t, func() bool {
		s.batch.mu.Lock()
		defer s.batch.mu.Unlock()
		return len(s.batch.queued) == 1
	}, 5*time.Second, time.Millisecond, "the second call queues behind the first")

	h.pass <- struct{}{}
	require.Equal(t, s.connsKey("second"), <-h.at, "the queued call is sent next")
	select {
	case err := <-first:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the first caller is still sending the second's call")
	}
	h.pass <- struct{}{}
	require.NoError(t, <-second)
}

var _ goredis.Hook = heldHLen{}
