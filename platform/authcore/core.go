package authcore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/platform/httpserver"
	"github.com/p2psandbox/hub/platform/postgres"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the core's own migration set: schema "authcore", recorded in
// public.authcore_migrations (the schema cannot hold the table that creates it), under an advisory
// lock of its own so that it migrates independently of the system of record.
func Migrations() postgres.MigrationSet {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return postgres.MigrationSet{FS: sub, VersionTable: "authcore_migrations", LockID: 0x7032700002}
}

// Core serves the CDI. It is safe for concurrent use; several Cores (nodes) may share a database.
type Core struct {
	pool   *pgxpool.Pool
	cfg    Config
	keys   *keyring
	sealer *sealer
	routes map[string]map[string]handlerFunc

	dummyOnce sync.Once
	dummyHash []byte // compared against on unknown emails so that sign-in time does not tell
}

// New opens the core on pool, whose database must have Migrations applied. It loads the signing
// keys and the refresh-token secret, creating them on first start.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Core, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Core{pool: pool, cfg: cfg, keys: newKeyring(pool, cfg)}
	if err := c.keys.init(ctx); err != nil {
		return nil, fmt.Errorf("authcore: %w", err)
	}
	if c.sealer, err = loadSealer(ctx, pool); err != nil {
		return nil, fmt.Errorf("authcore: %w", err)
	}
	c.routes = c.routeTable()
	return c, nil
}

// Handler is the CDI over HTTP.
func (c *Core) Handler() http.Handler { return http.HandlerFunc(c.serveHTTP) }

// RotateSigningKey makes a new dynamic signing key now. Tokens signed by older keys keep
// verifying until they expire.
func (c *Core) RotateSigningKey(ctx context.Context) error {
	if err := c.keys.create(ctx, true); err != nil {
		return fmt.Errorf("authcore: %w", err)
	}
	return nil
}

// Serve serves Handler on ln until ctx ends, then shuts down gracefully.
func (c *Core) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return httpserver.Serve(ctx, srv, ln, 10*time.Second)
}

// now is the core's clock in milliseconds, the unit of every time on the wire.
func (c *Core) now() time.Time { return c.cfg.Now().Truncate(time.Millisecond) }
