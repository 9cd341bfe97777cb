// Package blob stores opaque files (uploaded and processed images) under string keys.
//
// Store is the contract; Disk implements it on a local directory. The contract is shaped like an
// object store's (keys, not paths; the content type travels with the object; whole-object writes
// that either happen completely or not at all) so that an S3 implementation can take Disk's place
// without its callers noticing.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"time"
)

// Store keeps objects under keys.
//
// Keys are slash-separated segments of letters, digits, '.', '_' and '-', each starting with a
// letter or digit ("avatars/<org>/<id>.jpg"), at most MaxKeyLen bytes. A missing object is
// reported with an error for which errors.Is(err, ErrNotFound) holds (ErrNotFound is
// fs.ErrNotExist, so callers need not import this package to recognise it).
type Store interface {
	// Put stores r under key with its content type, replacing any object there. It reads at most
	// maxSize bytes (no limit when maxSize <= 0): a longer r fails with ErrTooLarge and stores
	// nothing. Readers see either the previous object or the whole new one, never a part.
	Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (int64, error)
	// Open returns the object's content. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat returns the object's attributes.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object. Deleting a missing object is not an error, so that cleanups can
	// be retried.
	Delete(ctx context.Context, key string) error
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// MaxKeyLen is the longest key accepted (S3's limit).
const MaxKeyLen = 1024

var (
	// ErrNotFound is returned for a key that holds no object.
	ErrNotFound = fs.ErrNotExist
	// ErrTooLarge is returned by Put when the content exceeds the size limit.
	ErrTooLarge = errors.New("blob: content exceeds the size limit")
	// ErrInvalidKey is returned for keys outside the grammar above.
	ErrInvalidKey = errors.New("blob: invalid key")
)

var keyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$`)

// ValidKey reports whether key follows the key grammar. Because no segment may start with a dot,
// a valid key can never be "..", name a hidden file, or collide with Disk's bookkeeping files.
func ValidKey(key string) bool {
	return len(key) <= MaxKeyLen && keyRE.MatchString(key)
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return nil
}
