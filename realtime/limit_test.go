package realtime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(2, 3) // 2 events/s, bursts of 3
	steps := []struct {
		advance time.Duration
		allowed bool
		wait    time.Duration
	}{
		{0, true, 0}, {0, true, 0}, {0, true, 0}, // the burst
		{0, false, 500 * time.Millisecond}, // empty: one token every 500 ms
		{250 * time.Millisecond, false, 250 * time.Millisecond},
		{250 * time.Millisecond, true, 0},
		{10 * time.Second, true, 0}, {0, true, 0}, {0, true, 0}, // refilled to the burst, not beyond
		{0, false, 500 * time.Millisecond},
		{-time.Second, false, 500 * time.Millisecond}, // an earlier arrival earns nothing
		{time.Second + 500*time.Millisecond, true, 0},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		ok, wait := b.allow(now)
		assert.Equal(t, s.allowed, ok, "step %d", i)
		assert.Equal(t, s.wait, wait, "step %d", i)
	}
}
