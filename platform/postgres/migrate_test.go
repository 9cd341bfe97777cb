package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/migrations"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func tables(t *testing.T, ctx context.Context, url string) []string {
	t.Helper()
	pool, err := postgres.Connect(ctx, url, 1)
	require.NoError(t, err)
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		out = append(out, n)
	}
	return out
}

func TestMigrationsUpDownUp(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Empty(t)
	pool, err := postgres.Connect(ctx, url, 2)
	require.NoError(t, err)
	defer pool.Close()
	m, err := postgres.NewMigrator(pool, postgres.MainMigrations(migrations.FS), logging.Discard())
	require.NoError(t, err)
	defer m.Close()

	entries, err := migrations.FS.ReadDir(".")
	require.NoError(t, err)
	var files int
	for _, e := range entries {
		if !e.IsDir() && len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == ".sql" {
			files++
		}
	}

	n, err := m.Up(ctx)
	require.NoError(t, err)
	assert.Equal(t, files, n, "every migration file applies")
	up := tables(t, ctx, url)
	require.NotEmpty(t, up)

	st, err := m.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		assert.True(t, s.Applied, s.Name)
	}

	require.NoError(t, m.Reset(ctx))
	assert.Empty(t, tables(t, ctx, url), "down migrations remove everything up created")
	done, err := m.Down(ctx)
	require.NoError(t, err)
	assert.False(t, done, "nothing left to roll back")

	n, err = m.Up(ctx)
	require.NoError(t, err)
	assert.Equal(t, files, n)
	assert.Equal(t, up, tables(t, ctx, url))

	n, err = m.Up(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "up is idempotent")
}

func TestEnsureDatabase(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("p2ptest_%d_ensure", time.Now().Unix())
	url := pgtest.DatabaseURL(t, name)
	t.Cleanup(func() { pgtest.DropDatabase(t, name) })
	require.NoError(t, postgres.EnsureDatabase(ctx, url))
	require.NoError(t, postgres.EnsureDatabase(ctx, url), "a second call is a no-op")
	pool, err := postgres.Connect(ctx, url, 1)
	require.NoError(t, err)
	pool.Close()
}

func TestAutovacuumReportsTheServerSetting(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	var setting string
	require.NoError(t, pool.QueryRow(ctx, `SELECT setting FROM pg_settings WHERE name = 'autovacuum'`).Scan(&setting))
	on, err := postgres.Autovacuum(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, setting == "on", on)
}
