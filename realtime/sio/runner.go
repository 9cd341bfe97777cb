package sio

import "context"

// handlerGoroutines is how many long-lived goroutines run event handlers; when all are busy a
// handler runs on a new goroutine.
const handlerGoroutines = 64

// runner runs event handlers on long-lived goroutines. A handler that encodes JSON and talks to
// PostgreSQL grows a fresh goroutine's stack several times, and the copying cost about a tenth of
// a busy node's CPU (docs/perf.md); a long-lived goroutine keeps its grown stack.
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

// submit runs fn on an idle long-lived goroutine, or on a new one if none is idle.
func (r *runner) submit(fn func()) {
	select {
	case r.tasks <- fn:
	default:
		go fn()
	}
}
