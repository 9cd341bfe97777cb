// Package events carries the domain events (domain/event) from the services that state them to
// the areas that follow them, in two ways:
//
//   - Listen: at once, in the publishing goroutine, after the change committed; best effort (a
//     listener that fails logs it). The realtime bridges are listeners: a socket event is a
//     push, and clients catch up from the API after a reconnect.
//   - Subscribe: through the durable event log (platform/outbox) that the stores write in the
//     transaction of the change: at least once, in order, with retries, and, for subscribers
//     that write to PostgreSQL (Tx), exactly once in effect. Notifications, the activity feed,
//     counters and revocations are subscribers.
//
// Only events a store records reach subscribers; every published event reaches listeners.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/platform/outbox"
)

// Bus is the process's event bus.
type Bus struct {
	log       *slog.Logger
	listeners map[string][]func(context.Context, event.Event)
	dispatch  *outbox.Dispatcher
	// durable names the events some subscriber of this process follows: publishing one wakes
	// the dispatcher, so this node delivers it without waiting for its poll.
	durable map[string]bool
}

// New returns a bus over the dispatcher of the event log.
func New(d *outbox.Dispatcher, log *slog.Logger) *Bus {
	return &Bus{log: log.With("component", "events"), listeners: map[string][]func(context.Context, event.Event){},
		dispatch: d, durable: map[string]bool{}}
}

var _ event.Publisher = (*Bus)(nil)

// Log is the bus's logger, for listeners that report failures.
func (b *Bus) Log() *slog.Logger { return b.log }

// Publish hands committed events to the listeners, in order, in this goroutine. A listener's
// panic is logged and does not reach the publisher, whose change stands.
func (b *Bus) Publish(ctx context.Context, evs ...event.Event) {
	wake := false
	for _, e := range evs {
		name := e.EventName()
		for _, fn := range b.listeners[name] {
			b.safely(name, func() { fn(ctx, e) })
		}
		wake = wake || b.durable[name]
	}
	if wake {
		b.dispatch.Wake()
	}
}

func (b *Bus) safely(name string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("event listener panicked", "event", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	fn()
}

// Listen calls fn with every published event of type T. Register before the process serves.
func Listen[T event.Event](b *Bus, fn func(ctx context.Context, e T)) {
	var zero T
	name := zero.EventName()
	b.listeners[name] = append(b.listeners[name], func(ctx context.Context, e event.Event) {
		if t, ok := e.(T); ok {
			fn(ctx, t)
		}
	})
}

// Options tune a durable subscriber.
type Options struct {
	// Tx runs the handlers in the transaction that moves the subscriber's cursor: what they write
	// through postgres.On commits with it, exactly once however often an event is delivered.
	Tx bool
	// Gather is how long the subscriber waits after a wake-up to take a burst in one batch: the
	// coalescing window of notifications (0: at once).
	Gather time.Duration
	// Batch is the most events per delivery (default 200).
	Batch int
}

// Subscriber is a durable subscriber of the event log, with its own cursor.
type Subscriber struct {
	name     string
	handlers map[string]func(ctx context.Context, batch []outbox.Event) error
	register func(eventName string)
}

// Subscribe registers the durable subscriber name (stable: its cursor is stored under it). Add
// its handlers with On before the process serves.
func (b *Bus) Subscribe(name string, o Options) *Subscriber {
	s := &Subscriber{name: name, handlers: map[string]func(context.Context, []outbox.Event) error{}}
	b.dispatch.Subscribe(outbox.Subscription{
		Name: name, Tx: o.Tx, Batch: o.Batch, Delay: o.Gather,
		Handle: func(ctx context.Context, batch []outbox.Event) error {
			// Runs of one event name go to its handler together, in log order.
			for start := 0; start < len(batch); {
				end := start + 1
				for end < len(batch) && batch[end].Name == batch[start].Name {
					end++
				}
				if h, ok := s.handlers[batch[start].Name]; ok {
					if err := h(ctx, batch[start:end]); err != nil {
						return fmt.Errorf("%s: %s: %w", name, batch[start].Name, err)
					}
				}
				start = end
			}
			return nil
		},
	})
	s.register = func(n string) { b.durable[n] = true }
	return s
}

// On makes s handle the recorded events of type T, a run of consecutive ones at a time. An error
// fails the batch, which is delivered again after a back-off.
func On[T event.Event](s *Subscriber, fn func(ctx context.Context, batch []Recorded[T]) error) {
	var zero T
	name := zero.EventName()
	s.register(name)
	s.handlers[name] = func(ctx context.Context, batch []outbox.Event) error {
		out := make([]Recorded[T], len(batch))
		for i, e := range batch {
			if err := json.Unmarshal(e.Payload, &out[i].Event); err != nil {
				return fmt.Errorf("decoding event %d: %w", e.ID, err)
			}
			out[i].ID, out[i].At = e.ID, e.At
		}
		return fn(ctx, out)
	}
}

// Recorded is an event as the log kept it.
type Recorded[T any] struct {
	Event T
	// ID is the event's id in the log: unique, for subscribers that keep what they did.
	ID int64
	At time.Time
}
