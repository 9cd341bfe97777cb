package usecasemongo_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/ids"

	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/domain/usecase/usecasetest"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
)

// TestMain starts bin/ferretdb (built if missing) over a PostgreSQL database of its own, dropped
// at the end; if it cannot be built or started, every test fails.
func TestMain(m *testing.M) { mongotest.Main(m) }

// TestContract: the document-store contract on FerretDB, a database per case.
func TestContract(t *testing.T) {
	usecasetest.Contract(t, func(t *testing.T) usecase.Documents { return open(t) })
}

// TestEnsureSchema: running it again (every start) changes nothing and fails nothing; the
// collection has its index, and says whether the server took the validator (FerretDB: no).
func TestEnsureSchema(t *testing.T) {
	ctx := context.Background()
	db, _ := mongotest.Database(t)
	s := usecasemongo.New(db)
	first, err := s.EnsureSchema(ctx)
	require.NoError(t, err)
	again, err := s.EnsureSchema(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	t.Logf("the server applies the validator: %v", first)

	cur, err := db.Collection(usecasemongo.Collection).Indexes().List(ctx)
	require.NoError(t, err)
	var indexes []struct {
		Name   string `bson:"name"`
		Key    bson.D `bson:"key"`
		Unique bool   `bson:"unique"`
	}
	require.NoError(t, cur.All(ctx, &indexes))
	require.Len(t, indexes, 2)
	assert.Equal(t, "useCase_version", indexes[1].Name)
	assert.Equal(t, bson.D{{Key: "useCase", Value: int32(1)}, {Key: "version", Value: int32(-1)}}, indexes[1].Key)
	assert.True(t, indexes[1].Unique)
}

// TestValidator: the $jsonSchema holds every field of the content to autosave's limits, lets nil
// lists and coordinates be null, and starts versions at 1.
func TestValidator(t *testing.T) {
	b, err := bson.MarshalExtJSON(usecasemongo.Validator(), false, false)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v))
	at := func(path ...string) any {
		var cur any = v["$jsonSchema"]
		for _, p := range path {
			cur = cur.(map[string]any)[p]
		}
		return cur
	}
	props := func(path ...string) []string {
		return slices.Sorted(maps.Keys(at(append(path, "properties")...).(map[string]any)))
	}
	assert.Equal(t, []any{"int", "long"}, at("properties", "version", "bsonType"))
	assert.EqualValues(t, 1, at("properties", "version", "minimum"))
	content := []string{"properties", "content", "properties"}
	assert.EqualValues(t, usecase.MaxFieldChars, at(append(content, "title", "maxLength")...))
	assert.Equal(t, "string", at(append(content, "category", "bsonType")...))
	assert.Nil(t, at(append(content, "category")...).(map[string]any)["enum"], "drafts hold any category")
	assert.Equal(t, []any{"array", "null"}, at(append(content, "tags", "bsonType")...))
	assert.EqualValues(t, usecase.MaxListItems, at(append(content, "tags", "maxItems")...))
	assert.Equal(t, []any{"double", "null"}, at(append(content, "location", "properties", "latitude", "bsonType")...))
	assert.EqualValues(t, usecase.MaxFieldChars,
		at(append(content, "results", "properties", "quantitativeMetrics", "items", "properties", "improvement", "maxLength")...))

	// Every field of Content, by its JSON name.
	full, err := json.Marshal(usecasetest.Full(t))
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(full, &fields))
	assert.Equal(t, slices.Sorted(maps.Keys(fields)), props("properties", "content"))
}

// TestPutChecks: what the validator refuses is refused before the write on every server (FerretDB
// takes no validator), as a validation error, and nothing is stored.
func TestPutChecks(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	tooLong := usecase.Content{Title: strings.Repeat("x", usecase.MaxFieldChars+1)}
	tooMany := usecase.Content{Title: "tags", Tags: make([]string, usecase.MaxListItems+1)}
	deep := usecase.Content{Title: "metric", Results: usecase.Results{QuantitativeMetrics: []usecase.Metric{{Baseline: strings.Repeat("٣", usecase.MaxFieldChars+1)}}}}
	for _, c := range []usecase.Content{tooLong, tooMany, deep} {
		id := ids.New()
		err := s.Put(ctx, id, 1, c)
		assert.Equal(t, errs.Validation, errs.CodeOf(err), "%v", err)
		_, _, err = s.Get(ctx, id)
		assert.Equal(t, errs.NotFound, errs.CodeOf(err))
	}
}

// TestLeftoverVersions: a writer that crashed between inserting its version and deleting the
// older ones leaves them behind; readers still see the newest, and the next Put clears them.
func TestLeftoverVersions(t *testing.T) {
	ctx := context.Background()
	db, _ := mongotest.Database(t)
	s := usecasemongo.New(db)
	_, err := s.EnsureSchema(ctx)
	require.NoError(t, err)
	coll := db.Collection(usecasemongo.Collection)
	id, other := ids.New(), ids.New()
	// The crash: versions 1 and 2 of id both stored, as a Put of 2 that died before its delete.
	for v := 1; v <= 2; v++ {
		_, err := coll.InsertOne(ctx, bson.D{
			{Key: "_id", Value: id + "/" + strconv.Itoa(v)}, {Key: "useCase", Value: id}, {Key: "version", Value: v},
			{Key: "content", Value: bson.D{{Key: "title", Value: "v" + strconv.Itoa(v)}}},
		})
		require.NoError(t, err)
	}
	require.NoError(t, s.Put(ctx, other, 1, usecase.Content{Title: "other"}))

	got, v, err := s.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 2, v)
	assert.Equal(t, "v2", got.Title)
	many, err := s.Many(ctx, []string{id, other})
	require.NoError(t, err)
	assert.Equal(t, "v2", many[id].Title)
	assert.Equal(t, "other", many[other].Title)

	require.NoError(t, s.Put(ctx, id, 3, usecase.Content{Title: "v3"}))
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "useCase", Value: id}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the older versions are gone")

	require.NoError(t, s.Delete(ctx, id))
	n, err = coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "only the other use case is left")
}

// TestStoredShape: documents keep the API's camelCase names, so they read in mongosh as in the API
// and the migration between backends maps field for field.
func TestStoredShape(t *testing.T) {
	ctx := context.Background()
	db, _ := mongotest.Database(t)
	s := usecasemongo.New(db)
	id := ids.New()
	require.NoError(t, s.Put(ctx, id, 7, usecasetest.Full(t)))
	raw, err := db.Collection(usecasemongo.Collection).FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, id+"/7", raw.Lookup("_id").StringValue())
	assert.Equal(t, id, raw.Lookup("useCase").StringValue())
	assert.EqualValues(t, 7, raw.Lookup("version").AsInt64())
	assert.Equal(t, bson.TypeEmbeddedDocument, raw.Lookup("content", "businessChallenge").Type)
	assert.Equal(t, bson.TypeString, raw.Lookup("content", "results", "roiPercentage").Type)
	assert.Equal(t, bson.TypeDouble, raw.Lookup("content", "location", "latitude").Type)
}

func open(t *testing.T) *usecasemongo.Store {
	t.Helper()
	db, _ := mongotest.Database(t)
	s := usecasemongo.New(db)
	_, err := s.EnsureSchema(context.Background())
	require.NoError(t, err)
	return s
}
