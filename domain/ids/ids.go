// Package ids makes and checks the ids of every entity: UUIDv7 strings.
package ids

import (
	"context"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/p2psandbox/hub/domain/errs"
)

// New returns a UUIDv7: time-ordered, so keyset pages and indexes stay compact.
func New() string { return uuid.Must(uuid.NewV7()).String() }

// Valid reports whether s is a UUID in its canonical form. Transports check ids from outside with
// it so that a malformed id is a 404, not a database error.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request being served, so that what the domain
// records (the audit log) can point back to the request's logs.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// CheckList checks a list of ids from outside (files a post attaches, say): at most max, each
// valid, none twice. It answers each problem on its item (field[i]), or on field for the length.
func CheckList(field string, list []string, max int) []errs.FieldError {
	if len(list) > max {
		return []errs.FieldError{{Field: field, Message: "must have at most " + strconv.Itoa(max) + " items"}}
	}
	var bad []errs.FieldError
	for i, id := range list {
		at := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case !Valid(id):
			bad = append(bad, errs.FieldError{Field: at, Message: "must be the id of an uploaded file"})
		case slices.Contains(list[:i], id):
			bad = append(bad, errs.FieldError{Field: at, Message: "is listed twice"})
		}
	}
	return bad
}
