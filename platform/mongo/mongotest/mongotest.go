// Package mongotest runs the MongoDB-backed tests against FerretDB, because MongoDB itself cannot
// be installed on the machines this project is built on.
//
// Run (from TestMain) builds bin/ferretdb if needed (scripts/ferretdb.sh), starts it on a free
// loopback port over a PostgreSQL database of its own, runs the tests and then stops it and drops
// that database. Each test then takes a MongoDB database of its own with Database (a schema in
// FerretDB's PostgreSQL database), dropped at cleanup. If the binary cannot be built or does not
// come up, the tests fail: they never skip, since a skipped contract suite proves nothing.
package mongotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// prefix names the PostgreSQL databases of FerretDB instances; the creation time follows it so
// that leftovers of killed test binaries can be told from databases in use.
const prefix = "p2pferret"

// server is the FerretDB instance of this test binary (one per package, started by Run).
var server struct {
	sync.Mutex
	url string
}

// URL is the mongodb:// URL of this binary's FerretDB, without a database. It fails the test
// when Run did not start one.
func URL(t testing.TB) string {
	t.Helper()
	server.Lock()
	defer server.Unlock()
	if server.url == "" {
		t.Fatal("mongotest: no FerretDB: call mongotest.Main or mongotest.Run from TestMain")
	}
	return server.url
}

// Main runs a package's tests with a FerretDB and exits with their code.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain with cleaning of its own to do afterwards.
func Run(m *testing.M) int { return Around(m.Run) }

// Around runs run (a package's tests, such as pgtest.Run's) with a FerretDB and returns its code,
// for a package whose tests need both a PostgreSQL template and a FerretDB.
func Around(run func() int) int {
	url, stop, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		return 1
	}
	server.Lock()
	server.url = url
	server.Unlock()
	code := run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Database is a fresh database on this binary's FerretDB, dropped (and its client disconnected)
// at cleanup, and the URL that names it.
func Database(t testing.TB) (*mongo.Database, string) {
	t.Helper()
	name := "t_" + randomHex(6)
	url := URL(t) + name
	client, err := mongo.Connect(options.Client().ApplyURI(url).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatalf("mongotest: connecting: %v", err)
	}
	db := client.Database(name)
	t.Cleanup(func() {
		ctx := context.Background()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("mongotest: dropping %s: %v", name, err)
		}
		_ = client.Disconnect(ctx)
	})
	return db, url
}

// Start starts a FerretDB of t's own, stopped (and its PostgreSQL database dropped) at cleanup,
// and returns its mongodb:// URL without a database: for a test that runs processes on it (a
// command, the hub) and so cannot share the package's.
func Start(t testing.TB) string {
	t.Helper()
	url, stop, err := start()
	if err != nil {
		t.Fatalf("mongotest: %v", err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("mongotest: %v", err)
		}
	})
	return url
}

// start builds and starts FerretDB and returns its URL and the function that stops it.
func start() (string, func() error, error) {
	root, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	build := exec.Command(filepath.Join(root, "scripts", "ferretdb.sh"))
	if out, err := build.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("building bin/ferretdb (scripts/ferretdb.sh): %w\n%s", err, out)
	}

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		return "", nil, fmt.Errorf("connecting to the test PostgreSQL: %w", err)
	}
	defer admin.Close(ctx)
	sweepStale(ctx, admin)
	pgName := fmt.Sprintf("%s_%d_%s", prefix, time.Now().Unix(), randomHex(6))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgName); err != nil {
		return "", nil, fmt.Errorf("creating %s: %w", pgName, err)
	}
	drop := func() error {
		conn, err := pgx.Connect(ctx, pgtest.ServerURL())
		if err != nil {
			return fmt.Errorf("connecting to drop %s: %w", pgName, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgName+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dropping %s: %w", pgName, err)
		}
		return nil
	}

	cfg, err := pgx.ParseConfig(pgtest.ServerURL())
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("P2P_TEST_POSTGRES_URL: %w", err), drop())
	}
	pgURL := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, pgName)

	// A port that was free a moment ago may be taken before FerretDB binds it: try a few.
	var lastErr error
	for range 3 {
		stop, url, err := launch(root, pgURL)
		if err == nil {
			return url, func() error { return errors.Join(stop(), drop()) }, nil
		}
		lastErr = err
	}
	return "", nil, errors.Join(lastErr, drop())
}

// launch starts bin/ferretdb on a free port over pgURL and waits until it answers a ping.
func launch(root, pgURL string) (stop func() error, url string, err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	var logs bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "bin", "ferretdb"), "-listen", addr, "-postgresql-url", pgURL)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting bin/ferretdb: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return nil
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("bin/ferretdb ignored SIGTERM for 10 s; killed\n%s", logs.String())
		}
	}

	url = "mongodb://" + addr + "/"
	client, err := mongo.Connect(options.Client().ApplyURI(url).SetServerSelectionTimeout(500 * time.Millisecond))
	if err != nil {
		_ = stop()
		return nil, "", fmt.Errorf("configuring a client: %w", err)
	}
	defer client.Disconnect(context.Background())
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, "", fmt.Errorf("bin/ferretdb exited at start: %v\n%s", err, logs.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx, nil)
		cancel()
		if err == nil {
			return stop, url, nil
		}
		if time.Now().After(deadline) {
			_ = stop()
			return nil, "", fmt.Errorf("bin/ferretdb did not answer on %s within 60 s: %w\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// repoRoot is the nearest directory above the working directory (a package's, under go test)
// that holds scripts/ferretdb.sh.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "ferretdb.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/ferretdb.sh not found above the working directory")
		}
		dir = parent
	}
}

// sweepStale drops the databases of FerretDB instances that killed test binaries left behind
// more than an hour ago.
func sweepStale(ctx context.Context, conn *pgx.Conn) {
	pgtest.DropStale(ctx, conn, prefix, func(name string) {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
