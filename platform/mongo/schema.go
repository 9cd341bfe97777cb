package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Server error codes the stores answer to.
const (
	CodeNamespaceExists   = 48
	CodeValidationFailure = 121
	CodeNotImplemented    = 238
)

// HasCode reports whether err is a server error carrying code.
func HasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}

// EnsureCollection creates collection name on db with validator (a $jsonSchema), or brings an
// existing collection's validator up to date, and then creates indexes; it is idempotent and safe
// from several processes at once. validated reports whether the server took the validator:
// FerretDB answers create with a validator, and collMod, with NotImplemented, and then the
// collection is created without one and only the store's own checks hold documents to the rules.
func EnsureCollection(ctx context.Context, db *mongo.Database, name string, validator bson.D, indexes ...mongo.IndexModel) (validated bool, err error) {
	validated, err = ensureValidator(ctx, db, name, validator)
	if err != nil {
		return false, err
	}
	// One at a time: FerretDB 1.24 drops the connection when createIndexes names several
	// indexes that all exist already (a second start), though it takes them one by one.
	for _, ix := range indexes {
		if _, err := db.Collection(name).Indexes().CreateOne(ctx, ix); err != nil {
			return false, fmt.Errorf("mongo: creating an index of %s: %w", name, err)
		}
	}
	return validated, nil
}

func ensureValidator(ctx context.Context, db *mongo.Database, name string, validator bson.D) (bool, error) {
	names, err := db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return false, fmt.Errorf("mongo: listing collections: %w", err)
	}
	if len(names) == 0 {
		err := db.CreateCollection(ctx, name, options.CreateCollection().
			SetValidator(validator).SetValidationLevel("strict").SetValidationAction("error"))
		switch {
		case err == nil:
			return true, nil
		case HasCode(err, CodeNotImplemented):
			if err := db.CreateCollection(ctx, name); err != nil && !HasCode(err, CodeNamespaceExists) {
				return false, fmt.Errorf("mongo: creating %s: %w", name, err)
			}
			return false, nil
		case !HasCode(err, CodeNamespaceExists): // another process created it meanwhile: collMod below
			return false, fmt.Errorf("mongo: creating %s: %w", name, err)
		}
	}
	err = db.RunCommand(ctx, bson.D{
		{Key: "collMod", Value: name},
		{Key: "validator", Value: validator},
		{Key: "validationLevel", Value: "strict"},
		{Key: "validationAction", Value: "error"},
	}).Err()
	switch {
	case err == nil:
		return true, nil
	case HasCode(err, CodeNotImplemented):
		return false, nil
	}
	return false, fmt.Errorf("mongo: setting the validator of %s: %w", name, err)
}
