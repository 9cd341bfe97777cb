package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/domain/usecase/usecasetest"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestDocsMigrate moves a seeded database's use case documents to MongoDB (FerretDB) and back
// through the command: the documents are the same after each way, the checksums are printed and
// match, a second run writes nothing, and usage errors exit with 2.
func TestDocsMigrate(t *testing.T) {
	ctx := context.Background()
	pool, dbURL := pgtest.New(t)
	mongoURL := mongotest.Start(t) + "p2p_docs"
	env := []string{"P2P_ENV=test", "P2P_POSTGRES_URL=" + dbURL, "P2P_MONGO_URL=" + mongoURL}

	author := identitytest.NewOrg(t, pool).Owner
	svc := usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)})
	full := usecasetest.Full(t)
	full.ImageIDs = []string{}
	b, err := json.Marshal(full)
	require.NoError(t, err)
	var patch map[string]any
	require.NoError(t, json.Unmarshal(b, &patch))
	want := map[string]usecase.Content{}
	for _, p := range []map[string]any{patch, {"title": "Draft"}, {"title": "مصنع الرياض", "tags": []any{"صناعة"}}} {
		u, err := svc.Create(ctx, author, p)
		require.NoError(t, err)
		want[u.ID] = rowDocument(t, pool, u.ID)
	}

	code, out, errOut := p2pRun(t, env, "docs", "migrate", "--to", "mongo", "--batch", "2")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "docs: 3 use cases, 3 documents written to mongo")
	assert.Contains(t, out, "docs: verified, the checksums match")
	source, target := checksums(t, out)
	assert.Equal(t, source, target)

	client, err := mongo.Connect(options.Client().ApplyURI(mongoURL))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	docs := usecasemongo.New(client.Database("p2p_docs"))
	for id, c := range want {
		got, _, err := docs.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, c, got, "the document of %s in MongoDB", id)
		assert.Equal(t, usecase.Project(c), rowDocument(t, pool, id), "the row of %s holds the projection", id)
	}

	code, out, errOut = p2pRun(t, env, "docs", "migrate", "--to", "mongo")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "3 use cases, 0 documents written", "a second run writes nothing")
	again, _ := checksums(t, out)
	assert.Equal(t, source, again)

	code, out, errOut = p2pRun(t, env, "docs", "migrate", "--to", "postgres", "--batch", "1")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "docs: 3 use cases, 3 documents written to postgres")
	back, backTarget := checksums(t, out)
	assert.Equal(t, source, back, "the same documents came back")
	assert.Equal(t, back, backTarget)
	for id, c := range want {
		assert.Equal(t, c, rowDocument(t, pool, id), "the row of %s holds the whole document again", id)
	}

	for _, args := range [][]string{
		{"docs", "migrate"},
		{"docs", "migrate", "--to", "elsewhere"},
		{"docs", "migrate", "--to", "mongo", "--batch", "0"},
	} {
		code, _, errOut := p2pRun(t, env, args...)
		assert.Equal(t, exitConfig, code, "%v: %s", args, errOut)
	}
	code, _, errOut = p2pRun(t, []string{"P2P_ENV=test", "P2P_POSTGRES_URL=" + dbURL}, "docs", "migrate", "--to", "mongo")
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, errOut, "P2P_MONGO_URL")
}

func rowDocument(t *testing.T, pool *pgxpool.Pool, id string) usecase.Content {
	t.Helper()
	var b []byte
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT document FROM use_cases WHERE id = $1`, id).Scan(&b))
	var c usecase.Content
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// checksums are the source and target lines of the command's output.
func checksums(t *testing.T, out string) (source, target string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "docs: source "); ok {
			source = rest
		}
		if rest, ok := strings.CutPrefix(line, "docs: target "); ok {
			target = rest
		}
	}
	require.NotEmpty(t, source, out)
	require.NotEmpty(t, target, out)
	return source, target
}
