// Package event is how a domain service says what happened without knowing who listens: it
// states typed events (messaging.MessageSent, identity.InvitationAccepted, …) and hands them to a
// Publisher once its change is committed. Subscribers register at start in the composition root
// (app/events): the realtime bridge that turns events into socket events, notifications, and the
// areas that follow others.
//
// Effects that must not be lost follow from events the stores record in the transaction of the
// change (platform/outbox); Publish is for what reacts at once in this process (socket pushes),
// best effort after the commit.
package event

import "context"

// Event is something that happened, as the area that owns it states it. Its JSON is how it is
// recorded; its name is stable ("area.what_happened").
type Event interface {
	EventName() string
	// AggregateID names the thing it happened to (a conversation, a user).
	AggregateID() string
}

// Publisher hands committed events to the listeners of this process.
type Publisher interface {
	Publish(ctx context.Context, events ...Event)
}

// Discard is a Publisher that tells no one (tests of a service on its own).
type Discard struct{}

// Publish does nothing.
func (Discard) Publish(context.Context, ...Event) {}
