// Package app is the composition root: it opens the connections, builds the parts every area
// plugs into (the event bus, the REST router, the realtime hub, the worker), registers the areas
// in the order of Areas, and runs and stops the whole in one place. `p2p serve` and `p2p worker`
// are two shapes of the same process (Options); the test harness runs that binary.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/app/activityapp"
	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/calendarapp"
	"github.com/p2psandbox/hub/app/dashboardapp"
	"github.com/p2psandbox/hub/app/exportapp"
	"github.com/p2psandbox/hub/app/forumapp"
	"github.com/p2psandbox/hub/app/identityapp"
	"github.com/p2psandbox/hub/app/mediaapp"
	"github.com/p2psandbox/hub/app/messagingapp"
	"github.com/p2psandbox/hub/app/notifyapp"
	"github.com/p2psandbox/hub/app/peopleapp"
	"github.com/p2psandbox/hub/app/searchapp"
	"github.com/p2psandbox/hub/app/trendingapp"
	"github.com/p2psandbox/hub/app/usecaseapp"
	"github.com/p2psandbox/hub/domain/forum/forummongo"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/migrations"
	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/mongo"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/redis"
	"github.com/p2psandbox/hub/rest/openapi"
)

// Areas are the product's areas in the order they register. Identity comes first: the others
// ask it who people are. A new area is one more line here and nothing else central.
func Areas(id *identityapp.Area) []area.Area {
	return []area.Area{
		id,
		messagingapp.New(),
		mediaapp.New(),
		notifyapp.New(),
		forumapp.New(),
		usecaseapp.New(),
		calendarapp.New(),
		peopleapp.New(),
		activityapp.New(),
		trendingapp.New(),
		exportapp.New(),
		searchapp.New(),
		dashboardapp.New(),
	}
}

// OpenAPI assembles the API's document from the base and the areas' parts.
func OpenAPI() ([]byte, error) {
	parts := [][]byte{openapi.Base()}
	for _, a := range Areas(&identityapp.Area{}) {
		if d, ok := a.(area.Documented); ok {
			parts = append(parts, d.OpenAPI())
		}
	}
	return openapi.Assemble(parts...)
}

// Conns are the connections every long-running command opens.
type Conns struct {
	Pool  *pgxpool.Pool
	Redis *goredis.Client
}

// Close closes both.
func (c Conns) Close() {
	c.Redis.Close()
	c.Pool.Close()
}

// Connect opens PostgreSQL and Redis; with migrate it first creates the database if needed and
// applies pending migrations.
func Connect(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (Conns, error) {
	if migrate {
		if err := postgres.EnsureDatabase(ctx, cfg.Postgres.URL); err != nil {
			return Conns{}, err
		}
	}
	pool, err := postgres.Connect(ctx, cfg.Postgres.URL, cfg.Postgres.MaxConns)
	if err != nil {
		return Conns{}, err
	}
	if migrate {
		if err := MigrateUp(ctx, pool, log); err != nil {
			pool.Close()
			return Conns{}, err
		}
	}
	if on, err := postgres.Autovacuum(ctx, pool); err != nil {
		log.Warn("checking autovacuum", "err", err)
	} else if !on {
		log.Warn("PostgreSQL runs with autovacuum off: statistics and cached plans go stale as tables grow (docs/operations.md)")
	}
	rdb, err := redis.Connect(ctx, cfg.Redis.URL)
	if err != nil {
		pool.Close()
		return Conns{}, err
	}
	return Conns{Pool: pool, Redis: rdb}, nil
}

// MongoConfig maps the configuration onto platform/mongo's.
func MongoConfig(cfg config.Config) mongo.Config {
	return mongo.Config{
		URL: cfg.Mongo.URL, Database: cfg.Mongo.Database, ConnectTimeout: cfg.Mongo.ConnectTimeout,
		OperationTimeout: cfg.Mongo.OperationTimeout, MaxPoolSize: cfg.Mongo.MaxPoolSize,
	}
}

// Documents are the document stores on MongoDB: the use cases' documents and the forum's bodies.
type Documents struct {
	Client   *mongo.Client
	UseCases *usecasemongo.Store
	Forum    *forummongo.Store
}

// OpenDocuments connects to MongoDB when mongo.url is set and returns the client and the document
// stores on it, their collections, indexes and validators ensured (idempotent, so every process
// does it at start). Without mongo.url it returns a zero Documents: the documents stay in
// PostgreSQL. m records the driver's commands; it may be nil.
func OpenDocuments(ctx context.Context, cfg config.Config, m *mongo.Metrics, log *slog.Logger) (Documents, error) {
	if cfg.Mongo.URL == "" {
		return Documents{}, nil
	}
	client, err := mongo.Open(ctx, MongoConfig(cfg), m)
	if err != nil {
		return Documents{}, err
	}
	d := Documents{Client: client, UseCases: usecasemongo.New(client.Database()), Forum: forummongo.New(client.Database())}
	for _, ensure := range []func(context.Context) (bool, error){d.UseCases.EnsureSchema, d.Forum.EnsureSchema} {
		validated, err := ensure(ctx)
		if err != nil {
			_ = client.Close(context.WithoutCancel(ctx))
			return Documents{}, err
		}
		if !validated {
			// FerretDB takes no validator; the stores check every document themselves.
			log.Info("the MongoDB server keeps no $jsonSchema validator; documents are checked by the hub alone")
		}
	}
	log.Info("use case documents and forum bodies in MongoDB", "database", client.Database().Name())
	return d, nil
}

// MigrationSets are applied in order by migrate and by serve with migrate_on_start: the system
// of record, then the embedded auth core's schema (harmless, and empty, with an external core).
func MigrationSets() []postgres.MigrationSet {
	return []postgres.MigrationSet{postgres.MainMigrations(migrations.FS), authcore.Migrations()}
}

// MigrateUp applies every pending migration.
func MigrateUp(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	for _, set := range MigrationSets() {
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

// CoreConfig maps the configuration onto the embedded core's.
func CoreConfig(cfg config.Config, apiKeys []string, log *slog.Logger) authcore.Config {
	return authcore.Config{
		APIKeys:              apiKeys,
		AccessTokenValidity:  cfg.Auth.AccessTokenValidity,
		RefreshTokenValidity: cfg.Auth.RefreshTokenValidity,
		SigningKeyRotation:   cfg.Auth.SigningKeyRotation,
		BcryptCost:           cfg.Auth.BcryptCost,
		Log:                  log.With("component", "authcore"),
	}
}

// APIKeys are the core's keys in the configuration (a comma-separated list).
func APIKeys(cfg config.Config) []string {
	var keys []string
	for _, k := range strings.Split(cfg.Auth.APIKey, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// embeddedCore starts the Go core on a loopback port with a fresh API key, for a process that has
// no core configured. It returns the core's URI and key and the function that serves it.
func embeddedCore(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) (uri, key string, serve func(context.Context) error, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("embedded core: api key: %w", err)
	}
	key = base64.RawURLEncoding.EncodeToString(b)
	core, err := authcore.New(ctx, pool, CoreConfig(cfg, []string{key}, log))
	if err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, fmt.Errorf("embedded core: %w", err)
	}
	log.Info("embedded auth core listening", "addr", ln.Addr().String())
	return "http://" + ln.Addr().String(), key, func(ctx context.Context) error {
		err := core.Serve(ctx, ln)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}, nil
}
