package realtime

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, at most burst saved up. It is fed the times
// events arrived, which it never takes back in time.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate, burst int) *bucket {
	return &bucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst)}
}

// allow takes a token for an event that arrived at at, or reports how long until one is
// available.
func (b *bucket) allow(at time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if at.After(b.last) {
		if !b.last.IsZero() {
			b.tokens = min(b.burst, b.tokens+at.Sub(b.last).Seconds()*b.rate)
		}
		b.last = at
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}
