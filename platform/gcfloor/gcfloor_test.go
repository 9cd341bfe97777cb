package gcfloor

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name                 string
		base                 int
		floor, ceiling, live uint64
		want                 int
	}{
		{"a small heap may grow to the floor", 200, 64 * mb, 0, 4 * mb, 1500},
		{"a heap at the floor keeps the base", 200, 64 * mb, 128 * mb, 64 * mb, 200},
		{"a large heap keeps the base without a ceiling", 200, 64 * mb, 0, 600 * mb, 200},
		{"never below the base under the floor", 200, 64 * mb, 128 * mb, 30 * mb, 200},
		{"bounded for a tiny heap", 200, 64 * mb, 128 * mb, 1000, maxPercent},
		{"an empty heap reading", 100, 64 * mb, 128 * mb, 0, maxPercent},
		{"headroom within the ceiling keeps the base", 200, 64 * mb, 128 * mb, 64 * mb, 200},
		{"a large heap's headroom is capped", 200, 64 * mb, 128 * mb, 256 * mb, 50},
		{"…but never below the least", 200, 64 * mb, 128 * mb, 4096 * mb, minPercent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Percent(tt.base, tt.floor, tt.ceiling, tt.live))
		})
	}
}

// TestTuneRaisesAndRestores runs the tuner on this test process, whose live heap is far below a
// 1 GiB floor, and reads GOGC back.
func TestTuneRaisesAndRestores(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Tune(ctx, 150, 1<<30, 0, 10*time.Millisecond) }()

	read := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	require.Eventually(t, func() bool { return read() > 150 }, 5*time.Second, 10*time.Millisecond,
		"GOGC is raised above the base while the heap is small")
	cancel()
	<-done
	assert.Equal(t, 150, read(), "and the base is set back when the tuner stops")
}
