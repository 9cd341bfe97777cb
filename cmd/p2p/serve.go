package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/migrations"
	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/httpserver"
	"github.com/p2psandbox/hub/platform/idempotency"
	"github.com/p2psandbox/hub/platform/mail"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/platform/redis"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/rest"
	"github.com/p2psandbox/hub/workers"
)

func serveCmd(load func() (*app, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve REST, auth and the realtime hub on one port (and the worker when run_worker is set)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return a.serve(ctx)
		},
	}
}

// deps are the connections every long-running command opens.
type deps struct {
	pool *pgxpool.Pool
	rdb  *goredis.Client
}

func (d deps) close() {
	d.rdb.Close()
	d.pool.Close()
}

// connect opens PostgreSQL and Redis; with migrate it first creates the database if needed and
// applies pending migrations.
func (a *app) connect(ctx context.Context, migrate bool) (deps, error) {
	if migrate {
		if err := postgres.EnsureDatabase(ctx, a.cfg.Postgres.URL); err != nil {
			return deps{}, err
		}
	}
	pool, err := postgres.Connect(ctx, a.cfg.Postgres.URL, a.cfg.Postgres.MaxConns)
	if err != nil {
		return deps{}, err
	}
	if migrate {
		if err := migrateUp(ctx, pool, a.log); err != nil {
			pool.Close()
			return deps{}, err
		}
	}
	if on, err := postgres.Autovacuum(ctx, pool); err != nil {
		a.log.Warn("checking autovacuum", "err", err)
	} else if !on {
		a.log.Warn("PostgreSQL runs with autovacuum off: statistics and cached plans go stale as tables grow (docs/operations.md)")
	}
	rdb, err := redis.Connect(ctx, a.cfg.Redis.URL)
	if err != nil {
		pool.Close()
		return deps{}, err
	}
	return deps{pool: pool, rdb: rdb}, nil
}

// serveGCPercent is serve's GOGC unless the environment sets one.
const serveGCPercent = 200

func (a *app) serve(ctx context.Context) error {
	// A hub node allocates a little for every event it relays; at the default GOGC=100 the
	// collector took a fifth of its CPU at 2,000 messages/s. Twice the heap for half the
	// collections is the better trade for a serving node (docs/perf.md); GOGC still overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	d, err := a.connect(ctx, a.cfg.MigrateOnStart)
	if err != nil {
		return err
	}
	defer d.close()

	g, gctx := errgroup.WithContext(ctx)
	// The embedded core outlives the HTTP server: requests still draining at shutdown need it.
	coreCtx, stopCore := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCore()
	coreURI, coreKey := a.cfg.Auth.ConnectionURI, firstKey(a.cfg.Auth.APIKey)
	if coreURI == "" {
		uri, key, serveCore, err := a.embeddedCore(ctx, d)
		if err != nil {
			return err
		}
		coreURI, coreKey = uri, key
		g.Go(func() error { return serveCore(coreCtx) })
	}
	// Events reach sockets through the hub, which exists only after the services it serves.
	events := &lateBroadcaster{}
	notes := a.newNotify(d, events, nil)
	ids, err := a.initAuth(d, coreURI, coreKey, notes)
	if err != nil {
		stopCore()
		return errors.Join(err, g.Wait())
	}
	images, blobs, err := a.newMedia(d, ids.accounts)
	if err != nil {
		stopCore()
		return errors.Join(err, g.Wait())
	}
	defer blobs.Close()
	registry := metrics.NewRegistry()
	msgs, err := a.newMessaging(d, registry, ids.accounts, blobs, events, notes)
	if err != nil {
		stopCore()
		return errors.Join(err, g.Wait())
	}
	deps := a.opsDeps(d, registry)
	deps.Auth = ids.auth
	deps.CORSAuth = ids.auth.CORSHeaders()
	deps.Identity = ids.accounts
	deps.Limiter = ratelimit.New(d.rdb, a.cfg.Redis.Prefix)
	deps.AuthLimits = a.authLimits()
	deps.Media = images
	deps.Blobs = blobs
	deps.BodyLimits = rest.UploadBodyLimits()
	deps.Messaging = msgs
	deps.Notifications = notes
	deps.Idempotency = idempotency.New(d.pool)
	if !a.cfg.Production() {
		deps.OutboxDir = a.cfg.Mail.OutboxDir
	}
	router := rest.NewRouter(deps)

	ln, err := net.Listen("tcp", a.cfg.HTTP.Addr)
	if err != nil {
		stopCore()
		return errors.Join(fmt.Errorf("listening on %s: %w", a.cfg.HTTP.Addr, err), g.Wait())
	}
	hub, err := a.newHub(ctx, d, ids.auth, msgs, registry)
	if err != nil {
		ln.Close()
		stopCore()
		return errors.Join(err, g.Wait())
	}
	events.set(hub)
	srv := &http.Server{
		Handler:           withHub(hub, router),
		ReadHeaderTimeout: a.cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.HTTP.ReadTimeout,
		IdleTimeout:       a.cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	g.Go(func() error {
		defer stopCore()
		a.log.Info("serving", "addr", ln.Addr().String(), "version", a.build.Version)
		return a.serveWithHub(gctx, hub, srv, ln)
	})
	if a.cfg.HTTP.PprofAddr != "" {
		run, err := a.servePprof(gctx)
		if err != nil {
			ln.Close()
			stopCore()
			return errors.Join(err, g.Wait())
		}
		g.Go(run)
	}
	if a.cfg.RunWorker {
		w, err := a.newWorker(d)
		if err != nil {
			ln.Close()
			stopCore()
			return errors.Join(err, g.Wait())
		}
		g.Go(func() error { return w.Run(gctx) })
	}
	err = g.Wait()
	msgs.Wait()   // notifications of the last messages
	notes.Close() // and those still held back by coalescing
	a.log.Info("stopped", "err", err)
	return err
}

// firstKey is the key the SDK sends when the configuration lists several (for the core).
func firstKey(keys string) string {
	k, _, _ := strings.Cut(keys, ",")
	return strings.TrimSpace(k)
}

func healthChecks(d deps) []rest.HealthCheck {
	return []rest.HealthCheck{
		{Name: "postgres", Check: d.pool.Ping},
		{Name: "redis", Check: func(ctx context.Context) error { return d.rdb.Ping(ctx).Err() }},
	}
}

// newWorker builds the worker with every task handler registered.
func (a *app) newWorker(d deps) (*workers.Worker, error) {
	w, err := workers.New(d.rdb, workers.Config{
		Concurrency:     a.cfg.Worker.Concurrency,
		Queue:           a.cfg.Worker.Queue,
		CleanupInterval: a.cfg.Worker.CleanupInterval,
		ShutdownTimeout: a.cfg.HTTP.ShutdownTimeout,
	}, a.log)
	if err != nil {
		return nil, err
	}
	sweepers := map[string]workers.Sweeper{}
	for _, table := range []string{"idempotency_keys", "authcore.sessions", "authcore.ev_tokens", "authcore.reset_tokens"} {
		sweepers[table] = postgres.ExpiredRows{Pool: d.pool, Table: table, Column: "expires_at"}
	}
	w.Handle(workers.TypeCleanup, workers.Cleanup{Log: a.log, Sweepers: sweepers})

	renderer, err := mail.NewRenderer(a.cfg.App.Name)
	if err != nil {
		return nil, err
	}
	var senders mail.Multi
	if a.cfg.Mail.OutboxDir != "" && !a.cfg.Production() {
		senders = append(senders, mail.Outbox{Dir: a.cfg.Mail.OutboxDir, From: a.cfg.Mail.From})
	}
	if a.cfg.Mail.SMTPHost != "" {
		senders = append(senders, mail.NewSMTP(mail.SMTPConfig{
			Host: a.cfg.Mail.SMTPHost, Port: a.cfg.Mail.SMTPPort,
			User: a.cfg.Mail.SMTPUser, Password: a.cfg.Mail.SMTPPassword, From: a.cfg.Mail.From,
		}))
	}
	w.Handle(workers.TypeSendMail, workers.SendMail{Renderer: renderer, Sender: senders})

	// The worker's storage stays open for the life of the process.
	images, _, err := a.newMedia(d, identity.NewService(identity.Deps{Store: identitydb.New(d.pool)}))
	if err != nil {
		return nil, err
	}
	w.Handle(workers.TypeProcessImage, workers.ProcessImage{Images: images, Log: a.log})

	// The emitter outlives any request; its context only carries values.
	notes := a.newNotify(d, realtime.NewEmitter(context.Background(), d.rdb, a.cfg.Redis.Prefix),
		identity.NewService(identity.Deps{Store: identitydb.New(d.pool)}))
	w.Handle(workers.TypeNotifyDigest, workers.NotifyDigest{Digests: notes})
	return w, nil
}

func workerCmd(load func() (*app, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the asynq worker and scheduler, with /health and /metrics on worker.addr",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			d, err := a.connect(ctx, false)
			if err != nil {
				return err
			}
			defer d.close()
			w, err := a.newWorker(d)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", a.cfg.Worker.Addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", a.cfg.Worker.Addr, err)
			}
			ops := &http.Server{
				Handler:           rest.NewRouter(a.opsDeps(d, metrics.NewRegistry())),
				ReadHeaderTimeout: a.cfg.HTTP.ReadHeaderTimeout,
			}
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return httpserver.Serve(gctx, ops, ln, a.cfg.HTTP.ShutdownTimeout) })
			g.Go(func() error { return w.Run(gctx) })
			return g.Wait()
		},
	}
}

// healthcheckCmd lets container healthchecks probe the process without curl in the image.
func healthcheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck [url]",
		Short: "Exit 0 when url (default http://127.0.0.1:8080/health/ready) answers 200",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			url := "http://127.0.0.1:8080/health/ready"
			if len(args) == 1 {
				url = args[0]
			}
			client := &http.Client{Timeout: 3 * time.Second}
			res, err := client.Get(url)
			if err != nil {
				return err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %s", url, res.Status)
			}
			return nil
		},
	}
}

// migrationSets are applied in order by migrate and by serve with migrate_on_start: the system of
// record, then the embedded auth core's schema (harmless, and empty, with an external core).
func migrationSets() []postgres.MigrationSet {
	return []postgres.MigrationSet{postgres.MainMigrations(migrations.FS), authcore.Migrations()}
}

func migrateUp(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	for _, set := range migrationSets() {
		m, err := postgres.NewMigrator(pool, set, log)
		if err != nil {
			return err
		}
		n, err := m.Up(ctx)
		m.Close()
		if err != nil {
			return err
		}
		log.Info("migrations applied", "set", set.VersionTable, "count", n)
	}
	return nil
}

// opsDeps are the router's operational dependencies (health, metrics, logging): all the worker's
// port serves, and where serve's API starts.
func (a *app) opsDeps(d deps, registry *prometheus.Registry) rest.Deps {
	return rest.Deps{
		Log:          a.log,
		HTTP:         a.cfg.HTTP,
		Production:   a.cfg.Production(),
		Build:        a.build,
		Checks:       healthChecks(d),
		CheckTimeout: a.cfg.Health.CheckTimeout,
		Registry:     registry,
	}
}
