// Package page is keyset pagination: a limit, an opaque cursor naming the last item seen, and a
// page of items with the cursor of the next page.
package page

import (
	"encoding/base64"
	"encoding/json"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/text"
)

// Limits of ?limit=.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page is one page of a list. NextCursor is nil on the last page. Total is set where the UI shows
// counts; TotalCapped says it is a lower bound ("1,000+"), where counting further would cost more
// than the page.
type Page[T any] struct {
	Items       []T     `json:"items"`
	NextCursor  *string `json:"nextCursor"`
	Total       *int    `json:"total,omitempty"`
	TotalCapped bool    `json:"totalCapped,omitempty"`
}

// Limit clamps a requested limit: 0 means the default; anything outside [1, MaxLimit] is an error.
func Limit(n int) (int, error) {
	if n == 0 {
		return DefaultLimit, nil
	}
	if n < 1 || n > MaxLimit {
		return 0, errs.Fields(errs.FieldError{Field: "limit", Message: "must be between 1 and 100"})
	}
	return n, nil
}

// Encode turns a key into an opaque cursor.
func Encode(key any) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode into key. A cursor that was not made by Encode for this
// kind of key is a validation error, never a panic or a silent first page.
func Decode(cursor string, key any) error {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	// A cursor is ours only if it holds text as we write it: a forged one with a NUL or bytes
	// that are not UTF-8 would reach PostgreSQL as a key and fail there.
	if err != nil || json.Unmarshal(b, key) != nil || text.JSONProblem(b) != "" {
		return errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
	}
	return nil
}

// Build cuts items (fetched with limit+1) to limit and makes the next cursor from the last item.
func Build[T any](items []T, limit int, key func(T) any) Page[T] {
	p := Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		c := Encode(key(p.Items[limit-1]))
		p.NextCursor = &c
	}
	return p
}
