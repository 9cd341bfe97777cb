package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/app/identityapp"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/gcfloor"
	"github.com/p2psandbox/hub/platform/httpserver"
	"github.com/p2psandbox/hub/platform/idempotency"
	"github.com/p2psandbox/hub/platform/mail"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/platform/mongo"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/rest"
	"github.com/p2psandbox/hub/workers"
)

// Options say what the process runs.
type Options struct {
	Config config.Config
	Log    *slog.Logger
	Build  rest.Build
	// Serve runs the API, auth and the realtime hub on http.addr; without it the process is a
	// worker with /health and /metrics on worker.addr.
	Serve bool
	// Worker runs the asynq worker (always when Serve is false).
	Worker bool
}

// serve's collector unless the environment sets GOGC: GOGC=200, raised while the live heap is
// small so that the heap may reach 64 MiB before a collection (platform/gcfloor, docs/perf.md).
const (
	serveGCPercent = 200
	serveGCFloor   = 64 << 20
	// serveGCHeadroom bounds what the collector lets a large heap grow by: a node holding many
	// idle sockets keeps Node's memory per socket rather than three times its live heap.
	serveGCHeadroom = 64 << 20
)

// healEvery is how often a worker delivers the use case documents a save left in their outbox
// (usecasedb.Heal): a document store that was down is caught up within seconds of its return,
// and in between Get reads those documents from the outbox.
const healEvery = 5 * time.Second

// LoadRoomKind is the room kind, open to any signed-in user, that the test environment adds for
// the load tool: a room as large as it likes (a group conversation stops at ten people).
const LoadRoomKind = "load"

// System is one process built: what it serves and runs, and what it opened, in order, so that
// it closes in reverse.
type System struct {
	o          Options
	cfg        config.Config
	log        *slog.Logger
	closers    []func()
	router     *rest.Router
	hub        *realtime.Hub
	worker     *workers.Worker
	dispatcher *outbox.Dispatcher
	// healers deliver the use case documents and forum bodies left in their outboxes (MongoDB
	// configured, a process running the worker).
	healers []func(context.Context) error

	g    *errgroup.Group
	gctx context.Context
}

func (p *System) onClose(fn func()) { p.closers = append(p.closers, fn) }

// Close closes what Build opened, last first. Run closes the system itself.
func (p *System) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// Router is the REST router with every area's routes (in a serving process).
func (p *System) Router() *rest.Router { return p.router }

// Run builds the process that o describes and runs it until ctx ends.
func Run(ctx context.Context, o Options) error {
	s, err := Build(ctx, o)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Build opens the connections, builds the shared parts and registers every area. Nothing
// serves until Run.
func Build(ctx context.Context, o Options) (s *System, err error) {
	cfg, log := o.Config, o.Log
	if !o.Serve {
		o.Worker = true
	}
	conns, err := Connect(ctx, cfg, log, o.Serve && cfg.MigrateOnStart)
	if err != nil {
		return nil, err
	}
	p := &System{o: o, cfg: cfg, log: log}
	if o.Serve && os.Getenv("GOGC") == "" {
		// A hub node allocates a little for every event it relays and lives on a small heap: at
		// GOGC=100 the collector took a fifth of its CPU at 2,000 messages/s, and at 200 it still
		// ran ten times a second (docs/perf.md). GOGC in the environment overrides.
		tune, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			gcfloor.Tune(tune, serveGCPercent, serveGCFloor, serveGCHeadroom, time.Second)
		}()
		p.onClose(func() { stop(); <-done })
	}
	p.onClose(conns.Close)
	defer func() {
		if err != nil {
			p.Close()
		}
	}()

	registry := metrics.NewRegistry()
	registry.MustRegister(postgres.NewPoolCollector(conns.Pool))
	dispatcher, err := outbox.New(conns.Pool, outbox.Options{Log: log.With("component", "outbox"), Registry: registry})
	if err != nil {
		return nil, err
	}
	bus := events.New(dispatcher, log)
	blobs, closeBlobs, err := OpenBlobs(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p.onClose(closeBlobs)
	tasks := asynq.NewClientFromRedisClient(conns.Redis)

	identityCore := identityapp.Core{Config: cfg, Log: log, Pool: conns.Pool, Redis: conns.Redis, Events: bus}
	var id *identityapp.Area
	if o.Serve {
		identityCore.CoreURI, identityCore.CoreKey = cfg.Auth.ConnectionURI, firstKey(cfg)
		if identityCore.CoreURI == "" {
			uri, key, serveCore, err := embeddedCore(ctx, cfg, conns.Pool, log)
			if err != nil {
				return nil, err
			}
			identityCore.CoreURI, identityCore.CoreKey = uri, key
			// The embedded core outlives the HTTP server: requests still draining need it. It
			// stops when the process closes.
			coreCtx, stopCore := context.WithCancel(context.WithoutCancel(ctx))
			coreDone := make(chan error, 1)
			go func() { coreDone <- serveCore(coreCtx) }()
			p.onClose(func() {
				stopCore()
				if err := <-coreDone; err != nil {
					log.Warn("embedded core stopped", "err", err)
				}
			})
		}
		if id, err = identityapp.New(ctx, identityCore); err != nil {
			return nil, err
		}
	} else {
		id = identityapp.NewWithoutSignIn(identityCore)
	}

	host := &area.Host{
		Config: cfg, Log: log, Pool: conns.Pool, Redis: conns.Redis, Metrics: registry,
		Events: bus, Tasks: tasks, Queue: cfg.Worker.Queue, Blobs: blobs, Identity: id.Service,
	}
	checks := []rest.HealthCheck{
		{Name: "postgres", Check: conns.Pool.Ping},
		{Name: "redis", Check: func(ctx context.Context) error { return conns.Redis.Ping(ctx).Err() }},
	}
	fanout, err := p.openFanout(ctx, cfg.Hub, conns.Redis, &checks)
	if err != nil {
		return nil, err
	}
	if cfg.Mongo.URL != "" {
		docs, err := OpenDocuments(ctx, cfg, mongo.NewMetrics(registry), log.With("component", "mongo"))
		if err != nil {
			return nil, err
		}
		p.onClose(func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
			defer cancel()
			if err := docs.Client.Close(closeCtx); err != nil {
				log.Warn("closing the MongoDB client", "err", err)
			}
		})
		host.Documents, host.ForumBodies = docs.UseCases, docs.Forum
		checks = append(checks, rest.HealthCheck{Name: "mongo", Check: docs.Client.Ping})
		if o.Worker {
			usecases := usecasedb.WithDocuments(conns.Pool, docs.UseCases, log.With("component", "usecase-documents"))
			bodies := forumdb.WithBodies(conns.Pool, docs.Forum, log.With("component", "forum-bodies"))
			p.healers = []func(context.Context) error{
				func(ctx context.Context) error { return usecases.RunHealer(ctx, healEvery, usecasedb.HealAge) },
				func(ctx context.Context) error { return bodies.RunHealer(ctx, healEvery, forumdb.HealAge) },
			}
		}
	}
	routerDeps := rest.Deps{
		Log: log, Production: cfg.Production(), Build: o.Build, Checks: checks,
		CheckTimeout: cfg.Health.CheckTimeout, Registry: registry,
		HTTP:         rest.HTTP{MaxBodyBytes: cfg.HTTP.MaxBodyBytes, CORSOrigins: cfg.HTTP.CORSOrigins, TrustedProxies: cfg.HTTP.TrustedProxies},
		MetricsToken: cfg.HTTP.MetricsToken, OpsPort: !o.Serve,
	}
	if o.Serve {
		doc, err := OpenAPI()
		if err != nil {
			return nil, err
		}
		routerDeps.Auth, routerDeps.Touch = id.Auth, id.Service.Touch
		routerDeps.CORSHeaders = id.Auth.CORSHeaders()
		routerDeps.Idempotency = idempotency.New(conns.Pool)
		routerDeps.OpenAPI = doc
		if cfg.HTTP.DevEndpoints {
			routerDeps.OutboxDir = cfg.Mail.OutboxDir
		}
		hub, err := realtime.New(ctx, cfg.Hub, realtime.Deps{
			Log: log, Redis: conns.Redis, Fanout: fanout, KeyPrefix: cfg.Redis.Prefix, Auth: id.Auth, Registry: registry,
		})
		if err != nil {
			return nil, err
		}
		p.onClose(hub.Close)
		if cfg.Env == config.EnvTest {
			hub.AllowJoin(LoadRoomKind, realtime.JoinFunc(func(context.Context, identity.Principal, string) error { return nil }))
		}
		host.Hub, host.Sockets = hub, hub
	} else {
		// The emitter outlives any request; its context only carries values.
		host.Sockets = realtime.NewEmitter(context.Background(), fanout, cfg.Redis.Prefix)
	}
	router := rest.NewRouter(routerDeps)
	if o.Serve {
		host.REST = router // the worker's port serves only /health and /metrics
		mountBlobs(router, blobs)
	}
	if o.Worker {
		if host.Worker, err = p.newWorker(conns, blobs); err != nil {
			return nil, err
		}
		// Queue depth is read from Redis at each scrape, on the worker's /metrics.
		registry.MustRegister(workers.NewQueueCollector(conns.Redis, cfg.Worker.Queue))
	}

	for _, a := range Areas(id) {
		if err := a.Register(ctx, host); err != nil {
			return nil, fmt.Errorf("registering the %s area: %w", a.Name(), err)
		}
	}
	p.onClose(host.Close)
	if err := dispatcher.Prepare(ctx); err != nil {
		return nil, err
	}

	p.router, p.hub, p.worker, p.dispatcher = router, host.Hub, host.Worker, dispatcher
	return p, nil
}

// Run serves and runs until ctx ends; then it stops serving, drains the hub, lets the worker and
// the event dispatcher finish, and closes what Build opened in the reverse order of opening.
func (p *System) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	p.g, p.gctx = g, gctx
	defer func() {
		if err != nil {
			cancel() // a part that failed to start stops the others
		}
		werr := g.Wait()
		cancel()
		if werr != nil && err == nil {
			err = werr
		}
		p.Close()
		p.log.Info("stopped", "err", err)
	}()
	// The dispatcher and the worker stop when gctx ends, after the HTTP server has drained (the
	// errgroup waits for all).
	g.Go(func() error { return p.dispatcher.Run(gctx) })
	if p.worker != nil {
		g.Go(func() error { return p.worker.Run(gctx) })
	}
	for _, heal := range p.healers {
		g.Go(func() error { return heal(gctx) })
	}
	if p.cfg.HTTP.PprofAddr != "" {
		if err := p.servePprof(); err != nil {
			return err
		}
	}
	if p.o.Serve {
		return p.serve(p.hub, p.router)
	}
	return p.serveOps(p.router)
}

// firstKey is the key the SDK sends when the configuration lists several (for the core).
func firstKey(cfg config.Config) string {
	if keys := APIKeys(cfg); len(keys) > 0 {
		return keys[0]
	}
	return ""
}

// serve serves REST and the hub on http.addr until the process's context ends; then it drains
// the hub (its sockets reconnect to other nodes in batches) before the HTTP server shuts down.
func (p *System) serve(hub *realtime.Hub, router http.Handler) error {
	ln, err := net.Listen("tcp", p.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", p.cfg.HTTP.Addr, err)
	}
	// /socket.io/ goes straight to the hub, so that no Gin middleware wraps the long-lived
	// websocket and polling connections.
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub.Handler())
	mux.Handle("/", router)
	srv := p.httpServer(mux)
	p.g.Go(func() error {
		p.log.Info("serving", "addr", ln.Addr().String(), "version", p.o.Build.Version)
		httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(p.gctx))
		defer stopHTTP()
		done := make(chan error, 1)
		go func() { done <- httpserver.Serve(httpCtx, srv, ln, p.cfg.HTTP.ShutdownTimeout) }()
		select {
		case err := <-done:
			return err
		case <-p.gctx.Done():
		}
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(p.gctx), p.cfg.HTTP.ShutdownTimeout)
		if err := hub.Drain(drainCtx); err != nil {
			p.log.Warn("hub drain incomplete", "err", err)
		}
		cancel()
		stopHTTP()
		return <-done
	})
	return nil
}

// serveOps serves /health and /metrics on worker.addr.
func (p *System) serveOps(router http.Handler) error {
	ln, err := net.Listen("tcp", p.cfg.Worker.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", p.cfg.Worker.Addr, err)
	}
	srv := p.httpServer(router)
	p.g.Go(func() error { return httpserver.Serve(p.gctx, srv, ln, p.cfg.HTTP.ShutdownTimeout) })
	return nil
}

func (p *System) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: p.cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       p.cfg.HTTP.ReadTimeout,
		IdleTimeout:       p.cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
}

// newWorker builds the worker with the platform's own tasks: sweeping expired rows and message
// attachments never sent (their blobs in blobs), and sending mail. The areas add theirs when
// they register.
func (p *System) newWorker(c Conns, blobs workers.BlobDeleter) (*workers.Worker, error) {
	cfg := p.cfg
	w, err := workers.New(c.Redis, workers.Config{
		Concurrency:     cfg.Worker.Concurrency,
		Queue:           cfg.Worker.Queue,
		CleanupInterval: cfg.Worker.CleanupInterval,
		ShutdownTimeout: cfg.HTTP.ShutdownTimeout,
	}, p.log)
	if err != nil {
		return nil, err
	}
	sweepers := map[string]workers.Sweeper{}
	for _, table := range []string{"idempotency_keys", "authcore.sessions", "authcore.ev_tokens", "authcore.reset_tokens"} {
		sweepers[table] = postgres.ExpiredRows{Pool: c.Pool, Table: table, Column: "expires_at"}
	}
	sweepers["message_attachments"] = workers.UnattachedAttachments{Pool: c.Pool, Blobs: blobs}
	w.Handle(workers.TypeCleanup, workers.Cleanup{Log: p.log, Sweepers: sweepers})

	renderer, err := mail.NewRenderer(cfg.App.Name)
	if err != nil {
		return nil, err
	}
	var senders mail.Multi
	if cfg.Mail.OutboxDir != "" && !cfg.Production() {
		senders = append(senders, mail.Outbox{Dir: cfg.Mail.OutboxDir, From: cfg.Mail.From})
	}
	if cfg.Mail.SMTPHost != "" {
		senders = append(senders, mail.NewSMTP(mail.SMTPConfig{
			Host: cfg.Mail.SMTPHost, Port: cfg.Mail.SMTPPort,
			User: cfg.Mail.SMTPUser, Password: cfg.Mail.SMTPPassword, From: cfg.Mail.From,
		}))
	}
	w.Handle(workers.TypeSendMail, workers.SendMail{Renderer: renderer, Sender: senders})
	return w, nil
}

// servePprof serves net/http/pprof on its own listener (http.pprof_addr), never on the public
// port: profiles show internals and cost CPU while they run.
func (p *System) servePprof() error {
	ln, err := net.Listen("tcp", p.cfg.HTTP.PprofAddr)
	if err != nil {
		return fmt.Errorf("listening for pprof on %s: %w", p.cfg.HTTP.PprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	p.log.Info("pprof listening", "addr", ln.Addr().String())
	p.g.Go(func() error { return httpserver.Serve(p.gctx, srv, ln, time.Second) })
	return nil
}
