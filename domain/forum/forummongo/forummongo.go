// Package forummongo is the MongoDB implementation of forum.Bodies (mongo-driver v2): what topics
// and replies say, every version of it, for operators who keep document-shaped data in MongoDB.
// It runs here against FerretDB 1.24, since MongoDB cannot be installed on the machines this
// project is built on.
//
// The collection forum_bodies holds one document per version of a post:
//
//	{_id: "post:<id>/3", post: "post:<id>", topic: "<topic id>", version: 3, title: null, markdown: "…", html: "…", writtenAt: …}
//
// with a unique index on {post: 1, version: 1} and an index on {topic: 1, post: 1}: a page of
// replies is read from one thread, {topic: T, post: {$in: […]}}, and the topic is the natural
// shard key. On FerretDB, which pushes only equality down to PostgreSQL and reads the whole
// collection for $in, the topic's equality is what keeps a page's read to one thread's documents. A version is inserted once and never updated or
// deleted: the older versions are the post's revision history. Inserting is also the one write
// FerretDB makes atomic (see usecasemongo's package comment for the differences from MongoDB
// that shaped both stores): two writers of different versions never touch the same document,
// and a repeated version meets a duplicate key, which means it is stored. This package uses only
// insertOne, find with equality and $in on top-level fields, a sort on a top-level field, create,
// collMod, listCollections and createIndexes.
package forummongo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	platmongo "github.com/p2psandbox/hub/platform/mongo"
)

// Collection is the name of the collection of forum bodies.
const Collection = "forum_bodies"

const (
	indexPostAndVersion = "post_version"
	indexTopicAndPost   = "topic_post"
)

// document is one stored version of a post.
type document struct {
	ID        string    `bson:"_id"`
	Post      string    `bson:"post"`
	Topic     string    `bson:"topic"`
	Version   int       `bson:"version"`
	Title     *string   `bson:"title"`
	Markdown  string    `bson:"markdown"`
	HTML      string    `bson:"html"`
	WrittenAt time.Time `bson:"writtenAt"`
}

func postID(k forum.Key) string { return k.Type + ":" + k.ID }

func keyOf(d document) forum.Key {
	t, id, _ := strings.Cut(d.Post, ":")
	return forum.Key{Type: t, ID: id, Topic: d.Topic}
}

// Store implements forum.Bodies on a MongoDB database.
type Store struct {
	db   *mongo.Database
	coll *mongo.Collection
}

var _ forum.Bodies = (*Store)(nil)

// New returns a store on db. Call EnsureSchema before serving.
func New(db *mongo.Database) *Store { return &Store{db: db, coll: db.Collection(Collection)} }

// Validator is the collection's $jsonSchema; check applies the same rules before a write, for
// servers that take no validator (FerretDB).
func Validator() bson.D {
	str := bson.D{{Key: "bsonType", Value: "string"}}
	return bson.D{{Key: "$jsonSchema", Value: bson.D{
		{Key: "bsonType", Value: "object"},
		{Key: "required", Value: bson.A{"_id", "post", "topic", "version", "markdown", "html", "writtenAt"}},
		{Key: "properties", Value: bson.D{
			{Key: "_id", Value: str},
			{Key: "post", Value: bson.D{{Key: "bsonType", Value: "string"}, {Key: "pattern", Value: "^(topic|post):.+$"}}},
			{Key: "topic", Value: bson.D{{Key: "bsonType", Value: "string"}, {Key: "minLength", Value: 1}}},
			{Key: "version", Value: bson.D{{Key: "bsonType", Value: bson.A{"int", "long"}}, {Key: "minimum", Value: 1}}},
			{Key: "title", Value: bson.D{{Key: "bsonType", Value: bson.A{"string", "null"}}}},
			{Key: "markdown", Value: str},
			{Key: "html", Value: str},
			{Key: "writtenAt", Value: bson.D{{Key: "bsonType", Value: "date"}}},
		}},
	}}}
}

// check holds a version to Validator's rules.
func check(k forum.Key, version int) error {
	switch {
	case k.Type != forum.TypeTopic && k.Type != forum.TypeReply:
		return fmt.Errorf("post type %q is neither %q nor %q", k.Type, forum.TypeTopic, forum.TypeReply)
	case k.ID == "" || k.Topic == "":
		return fmt.Errorf("a post without an id or a topic")
	case version < 1:
		return fmt.Errorf("version %d is below 1", version)
	}
	return nil
}

// EnsureSchema creates the collection with its validator and index (idempotent); validated
// reports whether the server took the validator.
func (s *Store) EnsureSchema(ctx context.Context) (validated bool, err error) {
	validated, err = platmongo.EnsureCollection(ctx, s.db, Collection, Validator(), mongo.IndexModel{
		Keys:    bson.D{{Key: "post", Value: 1}, {Key: "version", Value: 1}},
		Options: options.Index().SetName(indexPostAndVersion).SetUnique(true),
	}, mongo.IndexModel{
		Keys:    bson.D{{Key: "topic", Value: 1}, {Key: "post", Value: 1}},
		Options: options.Index().SetName(indexTopicAndPost),
	})
	if err != nil {
		return false, fmt.Errorf("forummongo: %w", err)
	}
	return validated, nil
}

// Put inserts version of k; a version already stored (a retry) changes nothing.
func (s *Store) Put(ctx context.Context, k forum.Key, version int, b forum.Body) error {
	if err := check(k, version); err != nil {
		return &errs.Error{Code: errs.Validation, Message: "the post cannot be stored", Err: fmt.Errorf("forummongo: %w", err)}
	}
	post := postID(k)
	_, err := s.coll.InsertOne(ctx, document{ID: fmt.Sprintf("%s/%d", post, version), Post: post, Topic: k.Topic, Version: version,
		Title: b.Title, Markdown: b.Markdown, HTML: b.HTML, WrittenAt: b.WrittenAt.UTC()})
	switch {
	case err == nil, mongo.IsDuplicateKeyError(err):
		return nil
	case platmongo.HasCode(err, platmongo.CodeValidationFailure):
		return &errs.Error{Code: errs.Validation, Message: "the post cannot be stored", Err: fmt.Errorf("forummongo: putting %s version %d: %w", post, version, err)}
	}
	return fmt.Errorf("forummongo: putting %s version %d: %w", post, version, err)
}

// Latest returns the highest stored version of each of keys. It reads every version of them in
// one query: posts are edited seldom, and one round trip serves a page of replies.
func (s *Store) Latest(ctx context.Context, keys []forum.Key) (map[forum.Key]forum.Versioned, error) {
	history, err := s.History(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[forum.Key]forum.Versioned, len(history))
	for k, versions := range history {
		out[k] = versions[len(versions)-1]
	}
	return out, nil
}

// History returns every stored version of each of keys, oldest first.
func (s *Store) History(ctx context.Context, keys []forum.Key) (map[forum.Key][]forum.Versioned, error) {
	out := make(map[forum.Key][]forum.Versioned, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	posts := make(bson.A, len(keys))
	topics := map[string]bool{}
	for i, k := range keys {
		posts[i] = postID(k)
		topics[k.Topic] = true
	}
	// One post is found by equality, several of one thread by the thread's equality and $in:
	// MongoDB serves both from an index, FerretDB pushes only equality down to PostgreSQL and
	// reads the whole collection for a bare $in (5 ms against 200 ms at 4,000 bodies;
	// docs/perf.md). Posts of several threads (the migration's batches) take the bare $in.
	var filter bson.D
	switch {
	case len(posts) == 1:
		filter = bson.D{{Key: "post", Value: posts[0]}}
	case len(topics) == 1:
		filter = bson.D{{Key: "topic", Value: keys[0].Topic}, {Key: "post", Value: bson.D{{Key: "$in", Value: posts}}}}
	default:
		filter = bson.D{{Key: "post", Value: bson.D{{Key: "$in", Value: posts}}}}
	}
	docs, err := s.find(ctx, filter, bson.D{{Key: "post", Value: 1}, {Key: "version", Value: 1}})
	if err != nil {
		return nil, fmt.Errorf("forummongo: reading %d posts: %w", len(keys), err)
	}
	for _, d := range docs {
		k := keyOf(d)
		out[k] = append(out[k], versioned(d))
	}
	return out, nil
}

func (s *Store) find(ctx context.Context, filter, sort bson.D) ([]document, error) {
	opts := options.Find()
	if sort != nil {
		opts.SetSort(sort)
	}
	cur, err := s.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []document
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

func versioned(d document) forum.Versioned {
	return forum.Versioned{Version: d.Version, Body: forum.Body{Title: d.Title, Markdown: d.Markdown, HTML: d.HTML, WrittenAt: d.WrittenAt.UTC()}}
}
