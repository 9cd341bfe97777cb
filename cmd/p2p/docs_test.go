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

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/forum/forummongo"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/domain/usecase/usecasetest"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/markdown"
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

// TestDocsMigrateForum moves the forum's bodies to MongoDB (FerretDB) and back through the
// command: every post reads the same, with the same revisions, on PostgreSQL alone, after the
// move (from MongoDB), and after the move back; posts written while on MongoDB come back with
// their revisions; a second run moves nothing; the checksums are printed and match.
func TestDocsMigrateForum(t *testing.T) {
	ctx := context.Background()
	pool, dbURL := pgtest.New(t)
	mongoURL := mongotest.Start(t) + "p2p_docs"
	env := []string{"P2P_ENV=test", "P2P_POSTGRES_URL=" + dbURL, "P2P_MONGO_URL=" + mongoURL}
	client, err := mongo.Connect(options.Client().ApplyURI(mongoURL))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	bodies := forummongo.New(client.Database("p2p_docs"))
	_, err = bodies.EnsureSchema(ctx)
	require.NoError(t, err)

	service := func(store forum.Store) *forum.Service {
		return forum.NewService(forum.Deps{Store: store, Renderer: forum.Markdown{MD: markdown.New()}})
	}
	onRows, inMongo := service(forumdb.New(pool)), service(forumdb.WithBodies(pool, bodies, logging.Discard()))
	p := identitytest.NewOrg(t, pool).Owner
	topic, err := onRows.CreateTopic(ctx, p, forum.NewTopic{Title: "Chiller alarms", Content: "First **draft**."})
	require.NoError(t, err)
	title, content := "Chiller alarms at night", "Second draft, عربي."
	_, err = onRows.UpdateTopic(ctx, p, topic.ID, forum.TopicUpdate{Title: &title, Content: &content})
	require.NoError(t, err)
	reply, err := onRows.Reply(ctx, p, topic.ID, forum.NewReply{Content: "Check the *sensor*."})
	require.NoError(t, err)
	_, err = onRows.EditReply(ctx, p, reply.ID, "Check the sensor and its cable.")
	require.NoError(t, err)
	_, err = onRows.Reply(ctx, p, topic.ID, forum.NewReply{Content: "A reply never edited.", ParentID: &reply.ID})
	require.NoError(t, err)

	// What a reader sees: the topic, its replies and every revision.
	seen := func(svc *forum.Service) string {
		t.Helper()
		got, err := svc.Topic(ctx, p, topic.ID)
		require.NoError(t, err)
		revs, err := svc.TopicRevisions(ctx, p, topic.ID)
		require.NoError(t, err)
		page, err := svc.Replies(ctx, p, topic.ID, "", 10, "")
		require.NoError(t, err)
		b, err := json.Marshal([]any{got.Title, got.Content, got.ContentHTML, revs, page.Items})
		require.NoError(t, err)
		for _, r := range page.Items {
			rrevs, err := svc.ReplyRevisions(ctx, p, r.ID)
			require.NoError(t, err)
			rb, err := json.Marshal(rrevs)
			require.NoError(t, err)
			b = append(b, rb...)
		}
		return string(b)
	}
	before := seen(onRows)

	code, out, errOut := p2pRun(t, env, "docs", "migrate", "--to", "mongo", "--batch", "1")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "forum: 3 posts, 3 moved, 5 versions written to mongo")
	assert.Contains(t, out, "forum: verified, the checksums match")
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM forum_topics WHERE body IS NOT NULL)
		+ (SELECT count(*) FROM forum_posts WHERE body IS NOT NULL) + (SELECT count(*) FROM forum_revisions)`).Scan(&left))
	assert.Zero(t, left, "no body nor revision is left in PostgreSQL")
	assert.Equal(t, before, seen(inMongo), "the forum reads the same from MongoDB")

	code, out, errOut = p2pRun(t, env, "docs", "migrate", "--to", "mongo")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "forum: 3 posts, 0 moved, 0 versions written", "a second run moves nothing")

	// Written while on MongoDB: a reply and its edit, which come back with their revision.
	late, err := inMongo.Reply(ctx, p, topic.ID, forum.NewReply{Content: "Written on MongoDB."})
	require.NoError(t, err)
	_, err = inMongo.EditReply(ctx, p, late.ID, "Written on MongoDB, then edited.")
	require.NoError(t, err)
	during := seen(inMongo)

	code, out, errOut = p2pRun(t, env, "docs", "migrate", "--to", "postgres", "--batch", "2")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "forum: 4 posts, 4 moved, 7 versions written to postgres")
	assert.Contains(t, out, "forum: verified, the checksums match")
	assert.Equal(t, during, seen(onRows), "the forum reads the same from PostgreSQL alone")
	code, out, errOut = p2pRun(t, env, "docs", "migrate", "--to", "postgres")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "forum: 4 posts, 0 moved, 0 versions written")
}
