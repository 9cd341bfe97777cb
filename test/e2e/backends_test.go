package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/p2psandbox/hub/domain/forum/forummongo"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
	"github.com/p2psandbox/hub/test/harness"
)

// mongoDatabase is the database the hub uses on the test's FerretDB.
const mongoDatabase = "p2p_e2e"

// onEachBackend runs a journey with the documents in PostgreSQL and again with P2P_MONGO_URL set
// (FerretDB, since MongoDB cannot be installed here): its answers must not depend on where use
// cases' documents and forum posts' bodies live. After the MongoDB run, they must be there and
// not in PostgreSQL, with nothing left waiting in the outboxes.
func onEachBackend(t *testing.T, journey func(t *testing.T, env *harness.Env)) {
	t.Run("postgres", func(t *testing.T) { journey(t, harness.NewEnv(t)) })
	t.Run("mongo", func(t *testing.T) {
		url := mongotest.Start(t) + mongoDatabase
		env := harness.NewEnv(t)
		env.Vars = append(env.Vars, "P2P_MONGO_URL="+url)
		journey(t, env)
		documentsInMongo(t, env, url)
	})
}

// documentsInMongo checks that every forum body and use case document the journey wrote is in
// MongoDB and none in PostgreSQL.
func documentsInMongo(t *testing.T, env *harness.Env, url string) {
	ctx := context.Background()
	conn := db(t, env)
	var topics, posts, useCases, onRows, queued int
	require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM forum_topics), (SELECT count(*) FROM forum_posts),
		(SELECT count(*) FROM use_cases),
		(SELECT count(*) FROM forum_topics WHERE body IS NOT NULL) + (SELECT count(*) FROM forum_posts WHERE body IS NOT NULL),
		(SELECT count(*) FROM forum_body_outbox) + (SELECT count(*) FROM use_case_document_outbox)`).
		Scan(&topics, &posts, &useCases, &onRows, &queued))
	assert.Zero(t, onRows, "no forum body stays on its row")
	assert.Zero(t, queued, "nothing waits in the outboxes")

	client, err := mongo.Connect(options.Client().ApplyURI(url))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	database := client.Database(mongoDatabase)
	cur, err := database.Collection(forummongo.Collection).Find(ctx, bson.D{})
	require.NoError(t, err)
	var bodies []struct {
		Post string `bson:"post"`
	}
	require.NoError(t, cur.All(ctx, &bodies))
	withBody := map[bool]map[string]bool{true: {}, false: {}} // by whether the post is a topic
	for _, b := range bodies {
		withBody[strings.HasPrefix(b.Post, "topic:")][b.Post] = true
	}
	assert.Len(t, withBody[true], topics, "every topic has its body in MongoDB")
	assert.Len(t, withBody[false], posts, "every reply has its body in MongoDB")
	documents, err := database.Collection(usecasemongo.Collection).Distinct(ctx, "useCase", bson.D{}).Raw()
	require.NoError(t, err)
	values, err := documents.Values()
	require.NoError(t, err)
	assert.Len(t, values, useCases, "every use case has its document in MongoDB")
}
