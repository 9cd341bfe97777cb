// Package gcfloor keeps a serving process from collecting a small heap over and over.
//
// The collector's goal is the live heap times (1 + GOGC/100). A hub node relaying thousands of
// events a second for a few hundred sockets lives on a few megabytes, so at GOGC=200 it
// collected ten times a second and gave a fifth of its CPU to it, while the same node holding
// ten thousand sockets collects rarely. Tune raises GOGC while the live heap is small so that
// the goal is at least the floor, and gives the base value back as the heap grows past it: the
// floor costs at most its size in memory. Past a ceiling it lowers GOGC so that the heap's
// headroom stays under the ceiling: a node holding twenty thousand idle sockets lives on a large
// heap that barely changes, where the base GOGC doubles the memory per socket for a collection
// it seldom needs (docs/perf.md, "Realtime hub"). (A ballast
// allocation does the same less visibly; GOGC=off with GOMEMLIMIT would hold every node at its
// limit.)
package gcfloor

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// maxPercent bounds GOGC however small the heap is.
const maxPercent = 10_000

// minPercent bounds GOGC however large the heap is.
const minPercent = 25

// Percent is the GOGC that makes the goal of a heap of live bytes at least floor and its
// headroom (the goal less live) at most ceiling (0: none), and otherwise base.
func Percent(base int, floor, ceiling, live uint64) int {
	if live == 0 {
		live = 1
	}
	if floor > live {
		p := (floor - live) * 100 / live
		if p > maxPercent {
			return maxPercent
		}
		return max(base, int(p))
	}
	if ceiling > 0 && live*uint64(base)/100 > ceiling {
		return max(minPercent, int(ceiling*100/live))
	}
	return base
}

// Tune sets GOGC (Percent) from the live heap every interval until ctx ends, then sets base back. A
// change of less than a tenth is not applied.
func Tune(ctx context.Context, base int, floor, ceiling uint64, every time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := base
	debug.SetGCPercent(base)
	defer debug.SetGCPercent(base)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			want := Percent(base, floor, ceiling, sample[0].Value.Uint64())
			if d := want - current; d*10 > current || -d*10 > current {
				debug.SetGCPercent(want)
				current = want
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
