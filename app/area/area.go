// Package area is the seam between the composition root (package app) and the areas of the
// product (identity, media, messaging, notifications, …): an area is one value that, given the
// Host, builds its services and plugs its REST routes, socket events, room rules, event
// subscribers and background tasks into the parts the root built first. The root knows the list
// of areas and nothing of what they do; docs/architecture.md has the recipe for a new one.
package area

import (
	"context"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/rest"
	"github.com/p2psandbox/hub/workers"
)

// Area is one part of the product.
type Area interface {
	// Name is the area's name in logs, metrics and event subscriber names.
	Name() string
	// Register builds the area's services and plugs them into h. It runs once per process, in
	// the order of the area list, before anything serves.
	Register(ctx context.Context, h *Host) error
}

// Documented is an area with routes: its part of the OpenAPI document (YAML with paths,
// components and tags), which rest/openapi assembles with the others.
type Documented interface {
	OpenAPI() []byte
}

// Host is what an area plugs into. The serving parts are nil in a process that does not serve
// them: REST and Hub exist in `serve`, Worker where the asynq worker runs.
type Host struct {
	Config  config.Config
	Log     *slog.Logger
	Pool    *pgxpool.Pool
	Redis   goredis.UniversalClient
	Metrics prometheus.Registerer

	// Events publishes an area's domain events and subscribes others to them.
	Events *events.Bus
	// Sockets reaches the sockets of users and rooms on every node: the hub in serve, the Redis
	// emitter elsewhere.
	Sockets realtime.Sockets
	// Tasks enqueues background tasks on the worker's queue (Queue).
	Tasks *asynq.Client
	Queue string
	// Blobs is the file storage (the disk or the S3 backend, as configured), with presigned URLs.
	Blobs blob.Objects
	// Identity is the core service every area asks who people are.
	Identity *identity.Service
	// Documents keeps the use cases' whole documents when MongoDB is configured (mongo.url);
	// nil keeps them in PostgreSQL.
	Documents usecase.Documents
	// ForumBodies keeps what forum posts say, every version, when MongoDB is configured; nil
	// keeps it on the posts' rows.
	ForumBodies forum.Bodies

	REST   *rest.Router
	Hub    *realtime.Hub
	Worker *workers.Worker

	closers []func()
}

// OnClose runs fn when the process stops, after everything that serves has stopped, in the
// reverse order of registration.
func (h *Host) OnClose(fn func()) { h.closers = append(h.closers, fn) }

// Close runs the closers registered with OnClose, last first.
func (h *Host) Close() {
	for i := len(h.closers) - 1; i >= 0; i-- {
		h.closers[i]()
	}
	h.closers = nil
}
