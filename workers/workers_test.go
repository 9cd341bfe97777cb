package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/workers"
	"github.com/p2psandbox/hub/workers/workertest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestScheduledCleanupRemovesExpiredRows runs the real asynq server and scheduler: the scheduler
// enqueues the cleanup task, the server runs it, and only expired rows go.
func TestScheduledCleanupRemovesExpiredRows(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	rdb, prefix := redistest.New(t)

	_, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) VALUES
		('u1', 'old-1', 'h', now() - interval '1 hour'),
		('u1', 'old-2', 'h', now() - interval '1 second'),
		('u1', 'live', 'h', now() + interval '1 hour')`)
	require.NoError(t, err)

	w, err := workers.New(rdb, workers.Config{
		Concurrency:     2,
		Queue:           redistest.Queue(t, rdb, prefix+"queue"), // a queue of its own keeps parallel tests apart
		CleanupInterval: time.Second,
		ShutdownTimeout: 5 * time.Second,
	}, logging.Discard())
	require.NoError(t, err)

	ran := make(chan error, 10)
	cleanup := workers.Cleanup{
		Log: logging.Discard(),
		Sweepers: map[string]workers.Sweeper{
			"idempotency_keys": postgres.ExpiredRows{Pool: pool, Table: "idempotency_keys", Column: "expires_at"},
		},
	}
	w.Handle(workers.TypeCleanup, asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		err := cleanup.ProcessTask(ctx, task)
		ran <- err
		return err
	}))

	workertest.Serve(t, w)

	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("the scheduler never ran the cleanup task")
	}

	var keys []string
	rows, err := pool.Query(ctx, `SELECT key FROM idempotency_keys ORDER BY key`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		keys = append(keys, k)
	}
	assert.Equal(t, []string{"live"}, keys)
}

type failingSweeper struct{}

func (failingSweeper) Sweep(context.Context, time.Time) (int64, error) {
	return 0, assert.AnError
}

func TestCleanupReportsFailuresAndRunsTheRest(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) VALUES ('u', 'old', 'h', now() - interval '1 minute')`)
	require.NoError(t, err)
	err = workers.Cleanup{Log: logging.Discard(), Sweepers: map[string]workers.Sweeper{
		"broken":           failingSweeper{},
		"idempotency_keys": postgres.ExpiredRows{Pool: pool, Table: "idempotency_keys", Column: "expires_at"},
	}}.ProcessTask(ctx, asynq.NewTask(workers.TypeCleanup, nil))
	require.ErrorIs(t, err, assert.AnError)
	assert.Contains(t, err.Error(), "broken")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&n))
	assert.Zero(t, n, "the healthy sweeper still ran")
}

// TestSweepSchemaQualifiedTable covers the auth core's tables, which live in their own schema.
func TestSweepSchemaQualifiedTable(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	_, err := pool.Exec(ctx, `CREATE SCHEMA other; CREATE TABLE other.tokens (expires_at timestamptz NOT NULL);
		INSERT INTO other.tokens VALUES (now() - interval '1 minute'), (now() + interval '1 minute')`)
	require.NoError(t, err)
	n, err := postgres.ExpiredRows{Pool: pool, Table: "other.tokens", Column: "expires_at"}.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}
