// Package idempotency keeps the answers of retried writes (the Idempotency-Key header) in
// PostgreSQL, so that every node of a deployment recognises a retry: the first request with a key
// claims it, its successful answer is stored, and a later request with the same key and the same
// body gets that answer again instead of running twice.
package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// State is what a request finds under its key.
type State int

const (
	// Claimed: the key is this request's; run it, then Complete or Release.
	Claimed State = iota
	// Done: an earlier request with the same body finished; answer with its Response.
	Done
	// Running: an earlier request with the same body has not finished yet.
	Running
	// Mismatch: the key was used for a different request.
	Mismatch
)

// Response is a stored answer.
type Response struct {
	Status   int
	Body     []byte // JSON, or empty
	Location string
}

// Store keeps keys for TTL. A claim whose request never finished (its process died) may be taken
// over by a retry after Abandoned.
type Store struct {
	pool      *pgxpool.Pool
	TTL       time.Duration
	Abandoned time.Duration
}

// New returns a store on pool with a 24 h TTL and a 1 min takeover.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, TTL: 24 * time.Hour, Abandoned: time.Minute}
}

// Begin claims key in scope for a request whose body hashes to hash, or reports what holds it.
func (s *Store) Begin(ctx context.Context, scope, key, hash string) (State, Response, error) {
	// The claim takes an expired row over, and an unfinished one of the same request that has
	// been left for Abandoned; otherwise it finds the row as it is.
	var claimed bool
	err := s.pool.QueryRow(ctx, `
		INSERT INTO idempotency_keys AS k (scope, key, request_hash, created_at, expires_at)
		VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))
		ON CONFLICT (scope, key) DO UPDATE
		SET request_hash = EXCLUDED.request_hash, created_at = now(), expires_at = EXCLUDED.expires_at,
		    response_status = NULL, response_body = NULL, response_location = NULL
		WHERE k.expires_at <= now()
		   OR (k.response_status IS NULL AND k.request_hash = EXCLUDED.request_hash
		       AND k.created_at < now() - make_interval(secs => $5))
		RETURNING true`, scope, key, hash, s.TTL.Seconds(), s.Abandoned.Seconds()).Scan(&claimed)
	if err == nil {
		return Claimed, Response{}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, Response{}, fmt.Errorf("idempotency: claiming %q: %w", key, err)
	}
	var (
		stored   string
		status   *int
		body     []byte
		location *string
	)
	err = s.pool.QueryRow(ctx, `
		SELECT request_hash, response_status, response_body, response_location
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).Scan(&stored, &status, &body, &location)
	if errors.Is(err, pgx.ErrNoRows) {
		// Swept between the two statements: the key is free again.
		return s.Begin(ctx, scope, key, hash)
	}
	if err != nil {
		return 0, Response{}, fmt.Errorf("idempotency: reading %q: %w", key, err)
	}
	switch {
	case stored != hash:
		return Mismatch, Response{}, nil
	case status == nil:
		return Running, Response{}, nil
	}
	r := Response{Status: *status, Body: body}
	if location != nil {
		r.Location = *location
	}
	return Done, r, nil
}

// Complete stores the answer of the request that claimed key.
func (s *Store) Complete(ctx context.Context, scope, key string, r Response) error {
	var body, location any
	if len(r.Body) > 0 {
		body = string(r.Body)
	}
	if r.Location != "" {
		location = r.Location
	}
	_, err := s.pool.Exec(ctx, `
		UPDATE idempotency_keys SET response_status = $3, response_body = $4::jsonb, response_location = $5
		WHERE scope = $1 AND key = $2`, scope, key, r.Status, body, location)
	if err != nil {
		return fmt.Errorf("idempotency: storing the answer of %q: %w", key, err)
	}
	return nil
}

// Release frees key after a request that did not succeed, so that a retry runs again.
func (s *Store) Release(ctx context.Context, scope, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND response_status IS NULL`,
		scope, key); err != nil {
		return fmt.Errorf("idempotency: releasing %q: %w", key, err)
	}
	return nil
}
