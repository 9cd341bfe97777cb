package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// MigrationSet names one independent set of migrations: its files, the table that records its
// version and the advisory lock that serialises concurrent runs (several nodes migrating on start).
type MigrationSet struct {
	FS           fs.FS
	VersionTable string
	LockID       int64
}

// Migrator applies one MigrationSet.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
}

// NewMigrator prepares set on the pool's database. Close releases its database/sql handle.
func NewMigrator(pool *pgxpool.Pool, set MigrationSet, log *slog.Logger) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(set.LockID))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: locker: %w", err)
	}
	store, err := database.NewStore(database.DialectPostgres, set.VersionTable)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: store: %w", err)
	}
	p, err := goose.NewProvider("", db, set.FS,
		goose.WithStore(store),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(log),
	)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Close releases the migrator's connection handle (the pool stays open).
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration and returns how many ran.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	return len(res), nil
}

// Down rolls back the newest applied migration. It returns false when nothing was applied.
func (m *Migrator) Down(ctx context.Context) (bool, error) {
	current, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate down: %w", err)
	}
	if current == 0 {
		return false, nil
	}
	if _, err := m.provider.Down(ctx); err != nil {
		return false, fmt.Errorf("migrate down: %w", err)
	}
	return true, nil
}

// Reset rolls back every applied migration.
func (m *Migrator) Reset(ctx context.Context) error {
	if _, err := m.provider.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("migrate reset: %w", err)
	}
	return nil
}

// Status lists every known migration.
func (m *Migrator) Status(ctx context.Context) ([]MigrationState, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{
			Version: s.Source.Version,
			Name:    s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// MainMigrations is the migration set of the system of record.
func MainMigrations(fsys fs.FS) MigrationSet {
	return MigrationSet{FS: fsys, VersionTable: "schema_migrations", LockID: 0x7032700001}
}
