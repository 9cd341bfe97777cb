package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/realtime"
)

// newMessaging builds the messaging service. Its events go out through bc, which serve points at
// the hub once the hub exists (the hub in turn serves the service's socket events).
func (a *app) newMessaging(d deps, reg prometheus.Registerer, dir messaging.Directory, files messaging.Files,
	bc realtime.Broadcaster, notes messaging.Notifier) (*messaging.Service, error) {
	store := messagingdb.New(d.pool)
	for _, c := range store.Collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering the messaging metrics: %w", err)
		}
	}
	return messaging.NewService(messaging.Deps{
		Store:     store,
		Directory: dir,
		Users:     realtime.ToUsers{B: bc},
		Notifier:  notes,
		Files:     files,
		Log:       a.log,
	}), nil
}

// lateBroadcaster forwards to a Broadcaster set after construction, so that services and the hub
// that serves them can be built in either order.
type lateBroadcaster struct {
	b atomic.Pointer[realtime.Broadcaster]
}

func (l *lateBroadcaster) set(b realtime.Broadcaster) { l.b.Store(&b) }

func (l *lateBroadcaster) get() (realtime.Broadcaster, error) {
	b := l.b.Load()
	if b == nil {
		return nil, errors.New("realtime: the hub is not started yet")
	}
	return *b, nil
}

func (l *lateBroadcaster) Emit(ctx context.Context, room, event string, payload any) error {
	b, err := l.get()
	if err != nil {
		return err
	}
	return b.Emit(ctx, room, event, payload)
}

// EmitRooms forwards to the hub's one-publish broadcast to several rooms.
func (l *lateBroadcaster) EmitRooms(ctx context.Context, rooms []string, event string, payload any) error {
	b, err := l.get()
	if err != nil {
		return err
	}
	return realtime.EmitRooms(ctx, b, rooms, event, payload)
}
