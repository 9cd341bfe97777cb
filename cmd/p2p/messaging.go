package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/realtime"
)

// newMessaging builds the messaging service. Its events go out through bc, which serve points at
// the hub once the hub exists (the hub in turn serves the service's socket events).
func (a *app) newMessaging(d deps, dir messaging.Directory, files messaging.Files, bc realtime.Broadcaster, notes messaging.Notifier) *messaging.Service {
	return messaging.NewService(messaging.Deps{
		Store:     messagingdb.New(d.pool),
		Directory: dir,
		Users:     realtime.ToUsers{B: bc},
		Notifier:  notes,
		Files:     files,
		Log:       a.log,
	})
}

// lateBroadcaster forwards to a Broadcaster set after construction, so that services and the hub
// that serves them can be built in either order.
type lateBroadcaster struct {
	b atomic.Pointer[realtime.Broadcaster]
}

func (l *lateBroadcaster) set(b realtime.Broadcaster) { l.b.Store(&b) }

func (l *lateBroadcaster) Emit(ctx context.Context, room, event string, payload any) error {
	b := l.b.Load()
	if b == nil {
		return errors.New("realtime: the hub is not started yet")
	}
	return (*b).Emit(ctx, room, event, payload)
}
