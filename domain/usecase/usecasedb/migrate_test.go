package usecasedb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/domain/usecase/usecasetest"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestMigrateBothWays: use cases written with PostgreSQL alone move into the document store and
// back, the documents identical each way and the checksums equal; a repeated run writes nothing;
// an edit and a save left in the outbox while on the document store come back too.
func TestMigrateBothWays(t *testing.T) {
	for _, d := range documentStores {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			pool, _ := pgtest.New(t)
			org := identitytest.NewOrg(t, pool)
			author := org.Owner
			mod := org.Member(t, pool)
			mod.Roles = append(mod.Roles, identity.RoleModerator)
			before := usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)})

			// The seed: published, drafts of every size, every field in Arabic, an empty one.
			want := map[string]usecase.Content{}
			for i := range 5 {
				u, err := before.Create(ctx, author, map[string]any{})
				require.NoError(t, err)
				if i%2 == 0 {
					publish(t, before, author, mod, u.ID, map[string]any{"title": fmt.Sprintf("Kiln line %d predictive maintenance", i)})
				} else {
					_, err = before.Update(ctx, author, u.ID, 0, complete(t))
					require.NoError(t, err)
				}
				want[u.ID] = get(t, before, author, u.ID)
			}
			full := usecasetest.Full(t)
			full.ImageIDs = []string{} // no uploads here
			u, err := before.Create(ctx, author, map[string]any{})
			require.NoError(t, err)
			_, err = pool.Exec(ctx, `UPDATE use_cases SET document = $2 WHERE id = $1`, u.ID, full)
			require.NoError(t, err)
			want[u.ID] = get(t, before, author, u.ID)
			empty, err := before.Create(ctx, author, map[string]any{"title": "Empty"})
			require.NoError(t, err)
			want[empty.ID] = get(t, before, author, empty.ID)

			// What the service shows, and what the rows hold (Get shows absent lists as empty).
			rows := map[string]usecase.Content{}
			for id := range want {
				rows[id] = stored(t, pool, id)
			}

			docs := &flaky{Documents: d.open(t, pool)}
			m, err := usecasedb.MigrateToDocuments(ctx, pool, docs, 3)
			require.NoError(t, err)
			assert.True(t, m.OK(), "%+v", m)
			assert.Equal(t, len(want), m.UseCases)
			assert.Equal(t, len(want), m.Written)
			assert.Equal(t, len(want), m.Source.Count)
			assert.Equal(t, m.Source, m.Target)

			after := usecase.NewService(usecase.Deps{Store: usecasedb.WithDocuments(pool, docs, logging.Discard())})
			for id, c := range want {
				inDocs, _, err := docs.Get(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, rows[id], inDocs, "the document of %s", id)
				assert.Equal(t, usecase.Project(rows[id]), stored(t, pool, id), "the row of %s holds its projection", id)
				assert.Equal(t, c, get(t, after, author, id))
			}

			again, err := usecasedb.MigrateToDocuments(ctx, pool, docs, 2)
			require.NoError(t, err)
			assert.True(t, again.OK(), "%+v", again)
			assert.Zero(t, again.Written, "a repeated run writes nothing")
			assert.Equal(t, m.Source, again.Source)

			// On the document store: an edit, and one left in the outbox.
			u, err = after.Update(ctx, author, empty.ID, 0, map[string]any{"subtitle": "edited on the document store"})
			require.NoError(t, err)
			docs.failNext.Store(true)
			u, err = after.Update(ctx, author, u.ID, 0, map[string]any{"description": "saved while the document store was down"})
			require.NoError(t, err)
			want[empty.ID] = u.Content
			assert.Len(t, outboxRows(t, pool, u.ID), 1)
			queued, _ := pendingContent(t, pool, u.ID)
			rows[empty.ID] = queued

			back, err := usecasedb.MigrateToPostgres(ctx, pool, docs, 4)
			require.NoError(t, err)
			assert.True(t, back.OK(), "%+v", back)
			assert.Equal(t, len(want), back.UseCases)
			assert.Equal(t, len(want), back.Written)
			assert.Empty(t, outboxRows(t, pool, u.ID))
			for id, c := range want {
				assert.Equal(t, rows[id], stored(t, pool, id), "the row of %s holds the whole document", id)
				assert.Equal(t, c, get(t, before, author, id))
			}
			again, err = usecasedb.MigrateToPostgres(ctx, pool, docs, 4)
			require.NoError(t, err)
			assert.True(t, again.OK(), "%+v", again)
			assert.Zero(t, again.Written)
			assert.Equal(t, back.Source, again.Source)
		})
	}
}

// lost is a document store that acknowledges Puts and keeps none: what the read back is for.
type lost struct{ usecase.Documents }

func (lost) Put(context.Context, string, int, usecase.Content) error { return nil }

// TestMigrateSeesALoss: documents the target did not keep make the checksums differ.
func TestMigrateSeesALoss(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	author := identitytest.NewOrg(t, pool).Owner
	svc := usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)})
	for range 3 {
		_, err := svc.Create(ctx, author, complete(t))
		require.NoError(t, err)
	}
	m, err := usecasedb.MigrateToDocuments(ctx, pool, lost{documentStores[0].open(t, pool)}, 2)
	require.NoError(t, err)
	assert.False(t, m.OK(), "%+v", m)
	assert.Equal(t, 3, m.Source.Count)
	assert.Zero(t, m.Target.Count)
}

func pendingContent(t *testing.T, pool *pgxpool.Pool, id string) (usecase.Content, int) {
	t.Helper()
	var (
		b []byte
		v int
	)
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT content, version FROM use_case_document_outbox WHERE use_case_id = $1`, id).Scan(&b, &v))
	var c usecase.Content
	require.NoError(t, json.Unmarshal(b, &c))
	return c, v
}

func get(t *testing.T, svc *usecase.Service, p identity.Principal, id string) usecase.Content {
	t.Helper()
	u, err := svc.Get(context.Background(), p, id)
	require.NoError(t, err)
	return u.Content
}
