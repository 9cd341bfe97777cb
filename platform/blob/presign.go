package blob

import (
	"context"
	"errors"
	"time"
)

// Presigner hands out short-lived URLs scoped to one object.
type Presigner interface {
	// PresignPut returns a request that stores exactly one object under key, with this content
	// type and exactly size bytes, until ttl has passed.
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (Presigned, error)
	// PresignGet returns a request that reads key until ttl has passed; a non-empty filename
	// makes the response an attachment with that name.
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (Presigned, error)
}

// Presigned is a request a client makes without its session.
type Presigned struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"` // to send as they are (Content-Type, …)
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Objects is a Store that also hands out presigned URLs: what the hub's areas use, whichever
// backend (Disk or S3) configuration chose.
type Objects interface {
	Store
	Presigner
}

// MaxPresignTTL bounds the lifetime of a presigned URL (S3's SigV4 limit is 7 days; we keep
// them short-lived by design).
const MaxPresignTTL = 7 * 24 * time.Hour

var (
	// ErrNoSigning is returned by a Disk built without WithURLSigning.
	ErrNoSigning = errors.New("blob: presigned URLs are not configured")
	// ErrInvalidPresign is returned for a presign request with a bad ttl, size or content type.
	ErrInvalidPresign = errors.New("blob: invalid presign request")
)

func checkPresign(key string, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ttl <= 0 || ttl > MaxPresignTTL {
		return errors.Join(ErrInvalidPresign, errors.New("ttl out of range"))
	}
	return nil
}

func checkPresignPut(key, contentType string, size int64, ttl time.Duration) error {
	if err := checkPresign(key, ttl); err != nil {
		return err
	}
	if size < 0 {
		return errors.Join(ErrInvalidPresign, errors.New("negative size"))
	}
	if contentType == "" || len(contentType) > 255 || !printableASCII(contentType) {
		return errors.Join(ErrInvalidPresign, errors.New("content type must be printable ASCII"))
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
