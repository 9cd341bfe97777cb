package usecasemongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
	platmongo "github.com/p2psandbox/hub/platform/mongo"
)

// Collection is the name of the collection of use case documents.
const Collection = "use_case_documents"

// Field names of a stored document.
const (
	fieldUseCase = "useCase"
	fieldVersion = "version"
	fieldContent = "content"
)

const indexUseCaseAndVersion = "useCase_version"

// document is one stored version of a use case's content. Its _id is the use case's id and the
// version ("<id>/<version>"): writing a version is an insert, the one write FerretDB makes atomic
// (doc.go).
type document struct {
	ID      string          `bson:"_id"`
	UseCase string          `bson:"useCase"`
	Version int             `bson:"version"`
	Content usecase.Content `bson:"content"`
}

func documentID(id string, version int) string { return id + "/" + strconv.Itoa(version) }

// Store implements usecase.Documents on a MongoDB database.
type Store struct {
	db   *mongo.Database
	coll *mongo.Collection
}

var _ usecase.Documents = (*Store)(nil)

// New returns a store on db. Call EnsureSchema before serving.
func New(db *mongo.Database) *Store {
	// Content carries JSON tags only: the documents keep the API's camelCase field names, so a
	// document reads the same in mongosh as in the API.
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &Store{db: db, coll: db.Collection(Collection, opts)}
}

// EnsureSchema creates the collection with its validator and its index, or brings an existing
// collection's validator up to date; it is idempotent and safe to run from several processes at
// once. validated reports whether the server took the validator: FerretDB does not, and then
// only the store's own check holds documents to the rules.
func (s *Store) EnsureSchema(ctx context.Context) (validated bool, err error) {
	// The one index: Get and Many find a use case's highest version, and the version's
	// uniqueness per use case is what _id already guarantees, said again where it is read.
	validated, err = platmongo.EnsureCollection(ctx, s.db, Collection, Validator(), mongo.IndexModel{
		Keys:    bson.D{{Key: fieldUseCase, Value: 1}, {Key: fieldVersion, Value: -1}},
		Options: options.Index().SetName(indexUseCaseAndVersion).SetUnique(true),
	})
	if err != nil {
		return false, fmt.Errorf("usecasemongo: %w", err)
	}
	return validated, nil
}

// Put stores c as version of id unless a version at or above it is stored.
//
// Each version is a document of its own, inserted: two writers of different versions never touch
// the same document, and a retry of the same version meets a duplicate key, which means it is
// stored. Once a version is in, the older ones are deleted; a crash before that leaves them
// behind, harmless, since readers take the highest version and the next Put deletes them.
func (s *Store) Put(ctx context.Context, id string, version int, c usecase.Content) error {
	if err := check(version, c); err != nil {
		return &errs.Error{Code: errs.Validation, Message: "the use case cannot be stored", Err: fmt.Errorf("usecasemongo: putting %s: %w", id, err)}
	}
	latest, err := s.latest(ctx, id)
	if err != nil {
		return err
	}
	if latest >= version {
		return nil // a retry, or a late writer: the stored version is as new or newer
	}
	_, err = s.coll.InsertOne(ctx, document{ID: documentID(id, version), UseCase: id, Version: version, Content: c})
	switch {
	case platmongo.HasCode(err, platmongo.CodeValidationFailure):
		return &errs.Error{Code: errs.Validation, Message: "the use case cannot be stored", Err: fmt.Errorf("usecasemongo: putting %s version %d: %w", id, version, err)}
	case err != nil && !mongo.IsDuplicateKeyError(err): // a duplicate: a concurrent retry stored it
		return fmt.Errorf("usecasemongo: putting %s version %d: %w", id, version, err)
	}
	// Only versions below this one go, each by the _id FerretDB looked up (doc.go): a newer
	// version stored meanwhile by another writer cannot match.
	_, err = s.coll.DeleteMany(ctx, bson.D{
		{Key: fieldUseCase, Value: id},
		{Key: fieldVersion, Value: bson.D{{Key: "$lt", Value: version}}},
	})
	if err != nil {
		return fmt.Errorf("usecasemongo: deleting the versions of %s before %d: %w", id, version, err)
	}
	return nil
}

// latest is the highest stored version of id, 0 when none.
func (s *Store) latest(ctx context.Context, id string) (int, error) {
	var d struct {
		Version int `bson:"version"`
	}
	err := s.coll.FindOne(ctx, bson.D{{Key: fieldUseCase, Value: id}}, options.FindOne().
		SetSort(bson.D{{Key: fieldVersion, Value: -1}}).
		SetProjection(bson.D{{Key: fieldVersion, Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("usecasemongo: reading the version of %s: %w", id, err)
	}
	return d.Version, nil
}

// Get returns the highest stored version of id.
func (s *Store) Get(ctx context.Context, id string) (usecase.Content, int, error) {
	var d document
	err := s.coll.FindOne(ctx, bson.D{{Key: fieldUseCase, Value: id}},
		options.FindOne().SetSort(bson.D{{Key: fieldVersion, Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return usecase.Content{}, 0, errs.E(errs.NotFound, "use case not found")
	}
	if err != nil {
		return usecase.Content{}, 0, fmt.Errorf("usecasemongo: getting %s: %w", id, err)
	}
	return d.Content, d.Version, nil
}

// Many returns the highest stored version of each of ids that exists.
func (s *Store) Many(ctx context.Context, ids []string) (map[string]usecase.Content, error) {
	out := make(map[string]usecase.Content, len(ids))
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.coll.Find(ctx, bson.D{{Key: fieldUseCase, Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("usecasemongo: getting %d documents: %w", len(ids), err)
	}
	var docs []document
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("usecasemongo: reading %d documents: %w", len(ids), err)
	}
	versions := make(map[string]int, len(docs))
	for _, d := range docs {
		if d.Version > versions[d.UseCase] {
			versions[d.UseCase] = d.Version
			out[d.UseCase] = d.Content
		}
	}
	return out, nil
}

// Delete removes every stored version of id.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.coll.DeleteMany(ctx, bson.D{{Key: fieldUseCase, Value: id}}); err != nil {
		return fmt.Errorf("usecasemongo: deleting %s: %w", id, err)
	}
	return nil
}
