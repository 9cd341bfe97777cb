package sio

import "context"

// handlerGoroutines is how many event handlers run on long-lived goroutines at once; more run
// where they were delivered.
const handlerGoroutines = 64

// runner runs event handlers on long-lived goroutines. The library delivers a connection's
// events on a goroutine it starts for each burst; a handler that encodes JSON and talks to
// PostgreSQL grows that fresh stack several times, and the copying cost about a tenth of a busy
// node's CPU (docs/perf.md). The delivering goroutine waits for the handler, so a connection's
// events still run one at a time, in order.
type runner struct{ tasks chan func() }

func newRunner(ctx context.Context, n int) *runner {
	r := &runner{tasks: make(chan func())}
	for range n {
		go func() {
			for {
				select {
				case task := <-r.tasks:
					task()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return r
}

// run runs fn on an idle long-lived goroutine, or here if none is idle, and returns when fn has.
func (r *runner) run(fn func()) {
	done := make(chan struct{})
	select {
	case r.tasks <- func() { defer close(done); fn() }:
		<-done
	default:
		fn()
	}
}
