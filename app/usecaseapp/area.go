// Package usecaseapp is the use cases area: drafts, step validation and submission, the
// moderators' review, and the library of published use cases with likes and saves
// (domain/usecase) behind REST.
package usecaseapp

import (
	"context"
	_ "embed"
	"time"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/app/mediaapp"
	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/location"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/platform/viewcount"
	"github.com/p2psandbox/hub/realtime"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the use cases area.
type Area struct{}

// New returns the use cases area.
func New() *Area { return &Area{} }

// Name is "usecases".
func (*Area) Name() string { return "usecases" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Reader builds the use cases service for another area that reads use cases through their rules
// (exports, search): the same store and images, no view counting, publishing its events (if
// any) on the host's bus.
func Reader(h *area.Host) *usecase.Service {
	return usecase.NewService(usecase.Deps{Store: newStore(h), Events: h.Events,
		Images: images{mediaapp.NewService(h, mediadb.New(h.Pool))}})
}

// newStore is the use cases' store: with the host's Documents (MongoDB), PostgreSQL keeps the
// projection and the documents live there (usecasedb.WithDocuments).
func newStore(h *area.Host) *usecasedb.Store {
	if h.Documents != nil {
		return usecasedb.WithDocuments(h.Pool, h.Documents, h.Log.With("component", "usecase-documents"))
	}
	return usecasedb.New(h.Pool)
}

// Register builds the use cases service and mounts its routes. Who is told of a review is
// app/notifyapp's business: it follows usecase.Reviewed.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := newStore(h)
	files := mediaapp.NewService(h, mediadb.New(h.Pool))
	deps := usecase.Deps{Store: store, Events: h.Events, Images: images{files}, Messenger: messenger{messaging.NewService(messaging.Deps{
		Store: messagingdb.New(h.Pool), Directory: h.Identity, Events: h.Events, Files: h.Blobs,
		Log: h.Log.With("component", "messaging"),
	})}}
	forgetImages(h.Events, files)
	if h.REST != nil {
		// Views are counted where use cases are read, and flushed from there.
		v := viewcount.New(h.Redis, h.Config.Redis.Prefix, "usecase", h.Log)
		deps.Views = v
		h.OnClose(v.Start(viewFlush, store.AddViews))
	}
	svc := usecase.NewService(deps)
	if h.REST != nil {
		mountREST(h.REST, svc)
		cities, err := location.New()
		if err != nil {
			return err
		}
		mountLocations(h.REST, cities)
		mountPublic(h.REST, h.Events, svc, ratelimit.New(h.Redis, h.Config.Redis.Prefix))
	}
	if h.Hub != nil {
		// The moderators' queue, live: only reviewers may join it; there is one.
		h.Hub.AllowJoin(KindModeration, realtime.JoinFunc(func(_ context.Context, p identity.Principal, id string) error {
			if id != QueueRoomID {
				return errs.E(errs.NotFound, "no such room")
			}
			return p.Require(identity.PermUseCasesReview)
		}))
	}
	bridge(h.Events, h.Sockets)
	return nil
}

// The moderators' queue room, "moderation:use-cases", and its events (docs/realtime.md).
const (
	KindModeration     = "moderation"
	QueueRoomID        = "use-cases"
	EventQueueAdded    = "usecase:submitted"
	EventQueueReviewed = "usecase:reviewed"
	EventQueueClaimed  = "usecase:claimed"
)

// bridge tells the moderators watching the queue what entered it and what left it, after the
// commit and best effort: a client that missed one refetches the queue.
func bridge(bus *events.Bus, sockets realtime.Sockets) {
	room := KindModeration + ":" + QueueRoomID
	emit := func(ctx context.Context, name string, payload any) {
		if err := sockets.Emit(ctx, room, name, payload); err != nil {
			bus.Log().WarnContext(ctx, "pushing to the moderators' queue", "event", name, "err", err)
		}
	}
	events.Listen(bus, func(ctx context.Context, e usecase.Submitted) { emit(ctx, EventQueueAdded, e) })
	events.Listen(bus, func(ctx context.Context, e usecase.Reviewed) {
		if e.Action == usecase.ActionArchive || e.Action == usecase.ActionRestore {
			return // a published use case, never in the queue
		}
		emit(ctx, EventQueueReviewed, e)
	})
	events.Listen(bus, func(ctx context.Context, e usecase.Claimed) { emit(ctx, EventQueueClaimed, e) })
}

// viewFlush is how often counted views reach the use cases.
const viewFlush = 2 * time.Second
