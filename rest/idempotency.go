package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/platform/idempotency"
)

// Idempotency keeps the answers of retried writes (platform/idempotency).
type Idempotency interface {
	Begin(ctx context.Context, scope, key, hash string) (idempotency.State, idempotency.Response, error)
	Complete(ctx context.Context, scope, key string, r idempotency.Response) error
	Release(ctx context.Context, scope, key string) error
}

const (
	idempotencyKeyHeader = "Idempotency-Key"
	replayedHeader       = "Idempotent-Replayed"
	// maxStoredAnswer bounds the answers kept for a replay; creations answer far less.
	maxStoredAnswer = 256 << 10
)

// idempotent makes a write safe to retry: a request with an Idempotency-Key runs once per user,
// route and key; a retry with the same body gets the first successful answer again (with
// Idempotent-Replayed: true), one while the first still runs 409, one with another body 422. An
// answer that is not a success is not kept, so its retry runs again. Requests without the header
// pass through. It runs after authentication: the key belongs to the signed-in user.
func idempotent(store Idempotency, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		values := c.Request.Header.Values(idempotencyKeyHeader)
		if len(values) == 0 {
			c.Next()
			return
		}
		key := values[0]
		if len(values) > 1 || !validIdempotencyKey(key) {
			Fail(c, errs.Fields(errs.FieldError{Field: idempotencyKeyHeader,
				Message: "must be one value of 1 to 255 visible ASCII characters, such as a UUID"}))
			return
		}
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			Fail(c, err) // 413 past the route's limit
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		for _, part := range [][]byte{[]byte(c.Request.Method), []byte(c.Request.URL.Path), []byte(c.ContentType()), body} {
			sum.Write(part)
			sum.Write([]byte{0})
		}
		hash := hex.EncodeToString(sum.Sum(nil))
		scope := Principal(c).UserID + " " + c.Request.Method + " " + c.FullPath()

		ctx := c.Request.Context()
		state, saved, err := store.Begin(ctx, scope, key, hash)
		if err != nil {
			Fail(c, err)
			return
		}
		switch state {
		case idempotency.Done:
			c.Header(replayedHeader, "true")
			if saved.Location != "" {
				c.Header("Location", saved.Location)
			}
			if len(saved.Body) == 0 {
				c.Status(saved.Status)
			} else {
				c.Data(saved.Status, "application/json; charset=utf-8", saved.Body)
			}
			c.Abort()
			return
		case idempotency.Running:
			Fail(c, &errs.Error{Code: errs.Conflict, RetryAfter: time.Second,
				Message: "a request with this Idempotency-Key is still being processed; retry in a moment"})
			return
		case idempotency.Mismatch:
			Fail(c, errs.Fields(errs.FieldError{Field: idempotencyKeyHeader,
				Message: "was already used for a different request; use a new key for a new request"}))
			return
		}

		rec := &recorder{ResponseWriter: c.Writer}
		c.Writer = rec
		// After the handler, whatever happened to the request (a panic included), the claim is
		// settled: kept with a success, freed otherwise.
		bg := context.WithoutCancel(ctx)
		settled := false
		defer func() {
			if settled {
				return
			}
			if err := store.Release(bg, scope, key); err != nil {
				log.ErrorContext(bg, "releasing an idempotency key", "err", err, "request_id", RequestID(c))
			}
		}()
		c.Next()
		status := rec.Status()
		if status < 200 || status > 299 || rec.overflow {
			return
		}
		settled = true
		r := idempotency.Response{Status: status, Body: rec.body.Bytes(), Location: rec.Header().Get("Location")}
		if err := store.Complete(bg, scope, key, r); err != nil {
			// The write happened and the client has its answer; a retry would run again, as
			// without the header.
			settled = false
			log.ErrorContext(bg, "storing an idempotent answer", "err", err, "request_id", RequestID(c))
		}
	}
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// recorder keeps a copy of the answer for the idempotency store.
type recorder struct {
	gin.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

func (r *recorder) Write(b []byte) (int, error) {
	r.keep(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) {
	r.keep([]byte(s))
	return r.ResponseWriter.WriteString(s)
}

func (r *recorder) keep(b []byte) {
	if r.overflow || r.body.Len()+len(b) > maxStoredAnswer {
		r.overflow = true
		return
	}
	r.body.Write(b)
}

var _ http.ResponseWriter = (*recorder)(nil)
