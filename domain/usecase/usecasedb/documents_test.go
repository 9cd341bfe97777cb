package usecasedb_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/domain/usecase/usecasedocs"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestMain runs the tests with a PostgreSQL template and a FerretDB (bin/ferretdb, built if
// missing), for the backends of the use case documents.
func TestMain(m *testing.M) { os.Exit(mongotest.Around(func() int { return pgtest.Run(m) })) }

// opener builds the store under test on pool.
type opener func(t *testing.T, pool *pgxpool.Pool) *usecasedb.Store

func postgresOnly(_ *testing.T, pool *pgxpool.Pool) *usecasedb.Store { return usecasedb.New(pool) }

// documentStores are the Documents backends, each on a store of its own for the test.
var documentStores = []struct {
	name string
	open func(t *testing.T, pool *pgxpool.Pool) usecase.Documents
}{
	{"documents in postgres", func(_ *testing.T, pool *pgxpool.Pool) usecase.Documents { return usecasedocs.New(pool) }},
	{"documents in mongo", func(t *testing.T, _ *pgxpool.Pool) usecase.Documents {
		db, _ := mongotest.Database(t)
		s := usecasemongo.New(db)
		_, err := s.EnsureSchema(context.Background())
		require.NoError(t, err)
		return s
	}},
}

// eachBackend runs a test of the store on PostgreSQL alone and with each Documents backend: what
// the service does must not depend on where the documents are.
func eachBackend(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("postgres", func(t *testing.T) { test(t, postgresOnly) })
	for _, d := range documentStores {
		t.Run(d.name, func(t *testing.T) {
			test(t, func(t *testing.T, pool *pgxpool.Pool) *usecasedb.Store {
				return usecasedb.WithDocuments(pool, d.open(t, pool), logging.Discard())
			})
		})
	}
}

// flaky is a Documents store whose next Put fails when told to: the fault a crash between the two
// stores leaves (a save committed, its document not written).
type flaky struct {
	usecase.Documents
	failNext atomic.Bool
}

var errDown = errors.New("document store unreachable")

func (f *flaky) Put(ctx context.Context, id string, version int, c usecase.Content) error {
	if f.failNext.CompareAndSwap(true, false) {
		return errDown
	}
	return f.Documents.Put(ctx, id, version, c)
}

func outboxRows(t *testing.T, pool *pgxpool.Pool, id string) []int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT version FROM use_case_document_outbox WHERE use_case_id = $1`, id)
	require.NoError(t, err)
	var versions []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	return versions
}

func stored(t *testing.T, pool *pgxpool.Pool, id string) usecase.Content {
	t.Helper()
	var b []byte
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT document FROM use_cases WHERE id = $1`, id).Scan(&b))
	var c usecase.Content
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// TestCrashBetweenStores: a save whose document cannot be written still answers OK (it
// committed); the use case reads back with the new content (from the outbox); the healer writes
// the document later and the outbox empties. A save after a failed one supersedes it.
func TestCrashBetweenStores(t *testing.T) {
	for _, d := range documentStores {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			pool, _ := pgtest.New(t)
			docs := &flaky{Documents: d.open(t, pool)}
			store := usecasedb.WithDocuments(pool, docs, logging.Discard())
			svc := usecase.NewService(usecase.Deps{Store: store})
			author := identitytest.NewOrg(t, pool).Owner

			u, err := svc.Create(ctx, author, map[string]any{"title": "Draft"})
			require.NoError(t, err)
			assert.Empty(t, outboxRows(t, pool, u.ID), "delivered at once")

			docs.failNext.Store(true)
			u, err = svc.Update(ctx, author, u.ID, u.Version, complete(t))
			require.NoError(t, err, "the save committed: a document store down does not fail it")
			require.Equal(t, 2, u.Version)
			want := u.Content
			require.NotEmpty(t, want.ChallengesAndSolutions, "a part only the document holds")

			assert.Equal(t, []int{2}, outboxRows(t, pool, u.ID))
			_, v, err := docs.Get(ctx, u.ID)
			require.NoError(t, err)
			assert.Equal(t, 1, v, "the document store missed version 2")
			got, err := svc.Get(ctx, author, u.ID)
			require.NoError(t, err)
			assert.Equal(t, want, got.Content, "Get reads the content waiting in the outbox")
			assert.Equal(t, usecase.Project(want), stored(t, pool, u.ID), "PostgreSQL keeps the projection")

			n, err := store.Heal(ctx, time.Hour)
			require.NoError(t, err)
			assert.Zero(t, n, "a row younger than the age may still be on its way")
			n, err = store.Heal(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Empty(t, outboxRows(t, pool, u.ID))
			c, v, err := docs.Get(ctx, u.ID)
			require.NoError(t, err)
			assert.Equal(t, 2, v)
			assert.Equal(t, want, c, "the healer wrote the whole document")
			got, err = svc.Get(ctx, author, u.ID)
			require.NoError(t, err)
			assert.Equal(t, want, got.Content)

			// A failed save, then one that works: the second's document wins and its delivery
			// leaves no row behind (the first's row became the second's).
			docs.failNext.Store(true)
			_, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"subtitle": "lost on the way"})
			require.NoError(t, err)
			assert.Equal(t, []int{3}, outboxRows(t, pool, u.ID))
			u, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"title": "AI Quality Inspection, second edit"})
			require.NoError(t, err)
			assert.Empty(t, outboxRows(t, pool, u.ID))
			c, v, err = docs.Get(ctx, u.ID)
			require.NoError(t, err)
			assert.Equal(t, 4, v)
			assert.Equal(t, "lost on the way", c.Subtitle, "the failed save's change is in the next document")
			assert.Equal(t, "AI Quality Inspection, second edit", c.Title)
			n, err = store.Heal(ctx, 0)
			require.NoError(t, err)
			assert.Zero(t, n)
		})
	}
}

// TestHealFailing: a Put that keeps failing leaves its row for the next run and is reported; the
// other rows are healed.
func TestHealFailing(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	docs := &flaky{Documents: usecasedocs.New(pool)}
	store := usecasedb.WithDocuments(pool, docs, logging.Discard())
	svc := usecase.NewService(usecase.Deps{Store: store})
	author := identitytest.NewOrg(t, pool).Owner
	var ids []string
	for range 3 {
		docs.failNext.Store(true)
		u, err := svc.Create(ctx, author, map[string]any{"title": "Queued"})
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	docs.failNext.Store(true) // the first row's Put fails again
	n, err := store.Heal(ctx, 0)
	require.ErrorIs(t, err, errDown)
	assert.Equal(t, 2, n)
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM use_case_document_outbox`).Scan(&left))
	assert.Equal(t, 1, left)
	n, err = store.Heal(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	for _, id := range ids {
		_, _, err := docs.Get(ctx, id)
		assert.NoError(t, err)
	}
}

// TestGetWithoutDocument: a use case stored before the documents moved (no document, no outbox
// row) shows its row's document rather than failing.
func TestGetWithoutDocument(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	author := identitytest.NewOrg(t, pool).Owner
	before := usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)})
	u, err := before.Create(ctx, author, complete(t))
	require.NoError(t, err)

	after := usecase.NewService(usecase.Deps{Store: usecasedb.WithDocuments(pool, usecasedocs.New(pool), logging.Discard())})
	got, err := after.Get(ctx, author, u.ID)
	require.NoError(t, err)
	assert.Equal(t, u.Content, got.Content)
	_, err = after.Get(ctx, author, "5b0cbe49-8a43-4d6c-9bb5-6a3f1d0a2c11")
	assert.Equal(t, errs.NotFound, errs.CodeOf(err))
}

// TestRunHealer: the worker's loop heals at start and then on its schedule, and stops with its
// context.
func TestRunHealer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pool, _ := pgtest.New(t)
	docs := &flaky{Documents: usecasedocs.New(pool)}
	store := usecasedb.WithDocuments(pool, docs, logging.Discard())
	svc := usecase.NewService(usecase.Deps{Store: store})
	author := identitytest.NewOrg(t, pool).Owner
	docs.failNext.Store(true)
	u, err := svc.Create(ctx, author, map[string]any{"title": "Waiting"})
	require.NoError(t, err)
	require.Len(t, outboxRows(t, pool, u.ID), 1)

	done := make(chan error, 1)
	go func() { done <- store.RunHealer(ctx, 50*time.Millisecond, 0) }()
	assert.Eventually(t, func() bool { return len(outboxRows(t, pool, u.ID)) == 0 }, 10*time.Second, 20*time.Millisecond)
	got, v, err := docs.Get(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.Equal(t, "Waiting", got.Title)

	// A later failure is healed on the schedule.
	docs.failNext.Store(true)
	_, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"title": "Waiting again"})
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		c, _, err := docs.Get(ctx, u.ID)
		return err == nil && c.Title == "Waiting again" && len(outboxRows(t, pool, u.ID)) == 0
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("RunHealer did not stop with its context")
	}
}
