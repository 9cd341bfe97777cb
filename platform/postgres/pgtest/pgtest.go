// Package pgtest gives each test its own migrated PostgreSQL database.
//
// The first call in a test binary migrates a template database; every test then gets a copy of it
// (CREATE DATABASE … TEMPLATE, tens of milliseconds) that is dropped in t.Cleanup. The server is
// P2P_TEST_POSTGRES_URL, by default the local trust-auth server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/migrations"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres"
)

// DefaultServerURL is used when P2P_TEST_POSTGRES_URL is unset.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Sets lists the migration sets applied to every test database. Packages with migrations of their
// own (the auth core) add theirs through NewWith.
var Sets = []postgres.MigrationSet{postgres.MainMigrations(migrations.FS)}

// ServerURL is the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("P2P_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultServerURL
}

type template struct {
	once sync.Once
	name string
	err  error
}

var templates sync.Map // key: set names → *template

// New returns a pool on a fresh database with the main migrations applied, and its URL.
func New(t testing.TB) (*pgxpool.Pool, string) {
	return NewWith(t, Sets...)
}

// NewWith is New with explicit migration sets.
func NewWith(t testing.TB, sets ...postgres.MigrationSet) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	key := ""
	for _, s := range sets {
		key += s.VersionTable + ";"
	}
	v, _ := templates.LoadOrStore(key, &template{})
	tpl := v.(*template)
	tpl.once.Do(func() { tpl.name, tpl.err = buildTemplate(ctx, sets) })
	if tpl.err != nil {
		t.Fatalf("pgtest: template: %v", tpl.err)
	}

	name := newName("p2ptest")
	admin := adminConn(t)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tpl.name)); err != nil {
		t.Fatalf("pgtest: creating %s: %v", name, err)
	}
	url := DatabaseURL(t, name)
	pool, err := postgres.Connect(ctx, url, 10)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		DropDatabase(t, name)
	})
	return pool, url
}

// Empty creates an empty database (no migrations) and returns its URL; it is dropped at cleanup.
func Empty(t testing.TB) string {
	t.Helper()
	name := newName("p2ptest")
	admin := adminConn(t)
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating %s: %v", name, err)
	}
	t.Cleanup(func() { DropDatabase(t, name) })
	return DatabaseURL(t, name)
}

// DatabaseURL is the URL of database name on the test server.
func DatabaseURL(t testing.TB, name string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(ServerURL())
	if err != nil {
		t.Fatalf("pgtest: P2P_TEST_POSTGRES_URL: %v", err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// DropDatabase drops name, disconnecting whoever still uses it.
func DropDatabase(t testing.TB, name string) {
	admin := adminConn(t)
	if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: dropping %s: %v", name, err)
	}
}

func adminConn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("pgtest: connecting to the test server (P2P_TEST_POSTGRES_URL=%s): %v", postgres.Redact(ServerURL()), err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// buildTemplate creates and migrates a template database for this test binary. Templates are
// per binary (per package) because packages run in parallel and a template must not be in use
// while it is copied.
func buildTemplate(ctx context.Context, sets []postgres.MigrationSet) (string, error) {
	name := newName("p2ptpl")
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", fmt.Errorf("connecting to the test server: %w", err)
	}
	defer conn.Close(ctx)
	sweepStale(ctx, conn)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("creating template: %w", err)
	}
	cfg, _ := pgx.ParseConfig(ServerURL())
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	pool, err := postgres.Connect(ctx, url, 2)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	for _, set := range sets {
		m, err := postgres.NewMigrator(pool, set, logging.Discard())
		if err != nil {
			return "", err
		}
		_, err = m.Up(ctx)
		m.Close()
		if err != nil {
			return "", err
		}
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" WITH is_template true"); err != nil {
		return "", fmt.Errorf("marking template: %w", err)
	}
	return name, nil
}

// Main runs a package's tests and then drops the templates this binary made. Call it from
// TestMain in every package that uses New.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that has cleaning of its own to do afterwards
// (deferred calls do not survive os.Exit). It returns the tests' exit code.
func Run(m *testing.M) int {
	code := m.Run()
	ctx := context.Background()
	if conn, err := pgx.Connect(ctx, ServerURL()); err == nil {
		templates.Range(func(_, v any) bool {
			if tpl := v.(*template); tpl.name != "" {
				dropTemplate(ctx, conn, tpl.name)
			}
			return true
		})
		conn.Close(ctx)
	}
	return code
}

// sweepStale drops templates and test databases left behind by killed test binaries more than
// an hour ago. The creation time is in the template's name.
func sweepStale(ctx context.Context, conn *pgx.Conn) {
	DropStale(ctx, conn, "p2ptpl", func(name string) { dropTemplate(ctx, conn, name) })
}

// DropStale calls drop for each database named prefix_<unix time>_<rest> (newName's form) that
// was made more than an hour ago: what killed test binaries left behind. Other packages that
// make databases of their own for tests (mongotest's FerretDB) clean up with it too.
func DropStale(ctx context.Context, conn *pgx.Conn, prefix string, drop func(name string)) {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE '`+prefix+`\_%'`)
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		parts := strings.SplitN(n, "_", 3)
		if len(parts) != 3 {
			continue
		}
		created, err := strconv.ParseInt(parts[1], 10, 64)
		if err == nil && time.Since(time.Unix(created, 0)) > time.Hour {
			drop(n)
		}
	}
}

func dropTemplate(ctx context.Context, conn *pgx.Conn, name string) {
	ident := pgx.Identifier{name}.Sanitize()
	_, _ = conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH is_template false")
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
}

// newName makes a database name that carries its creation time, so that sweepStale can tell
// leftovers of killed test binaries from databases in use.
func newName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b))
}

// ReportLatencies reports the p50, p95 and p99 of a benchmark's operations, in milliseconds: the
// figures docs/perf.md records for queries.
func ReportLatencies(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) float64 { return float64(d[int(float64(len(d)-1)*q)].Microseconds()) / 1000 }
	b.ReportMetric(at(.50), "p50-ms")
	b.ReportMetric(at(.95), "p95-ms")
	b.ReportMetric(at(.99), "p99-ms")
}

// Measure runs op once to warm caches (failing the benchmark if it fails), then times it once
// per iteration, given the iteration's number, and reports the latencies with ReportLatencies.
func Measure(b *testing.B, op func(i int) error) {
	b.Helper()
	if err := op(0); err != nil {
		b.Fatal(err)
	}
	d := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	ReportLatencies(b, d)
}
