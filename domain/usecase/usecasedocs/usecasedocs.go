// Package usecasedocs is the PostgreSQL implementation of usecase.Documents: the table
// use_case_documents (migration 00034), one JSONB document per use case with its version. It is
// the default backend; usecasemongo is the other, and usecasetest.Contract holds both to the
// same behaviour.
package usecasedocs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
)

// Store implements usecase.Documents.
type Store struct{ pool *pgxpool.Pool }

var _ usecase.Documents = (*Store)(nil)

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Put stores c as version of id unless the stored version is at or above it. One statement: the
// conditional upsert locks the row, so concurrent Puts serialize and the highest version wins.
func (s *Store) Put(ctx context.Context, id string, version int, c usecase.Content) error {
	if version < 1 {
		return fmt.Errorf("usecasedocs: putting %s: version %d is below 1", id, version)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("usecasedocs: encoding %s: %w", id, err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO use_case_documents (id, version, content) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, content = excluded.content
		WHERE use_case_documents.version < excluded.version`, id, version, b)
	if err != nil {
		return fmt.Errorf("usecasedocs: putting %s version %d: %w", id, version, err)
	}
	return nil
}

// Get returns the document of id and its version.
func (s *Store) Get(ctx context.Context, id string) (usecase.Content, int, error) {
	var (
		b       []byte
		version int
	)
	err := s.pool.QueryRow(ctx, `SELECT version, content FROM use_case_documents WHERE id = $1`, id).Scan(&version, &b)
	if errors.Is(err, pgx.ErrNoRows) {
		return usecase.Content{}, 0, errs.E(errs.NotFound, "use case not found")
	}
	if err != nil {
		return usecase.Content{}, 0, fmt.Errorf("usecasedocs: getting %s: %w", id, err)
	}
	c, err := decode(b)
	if err != nil {
		return usecase.Content{}, 0, fmt.Errorf("usecasedocs: decoding %s: %w", id, err)
	}
	return c, version, nil
}

// Many returns the documents of ids that exist.
func (s *Store) Many(ctx context.Context, ids []string) (map[string]usecase.Content, error) {
	out := make(map[string]usecase.Content, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, content FROM use_case_documents WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("usecasedocs: getting %d documents: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			b  []byte
		)
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("usecasedocs: reading documents: %w", err)
		}
		c, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("usecasedocs: decoding %s: %w", id, err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usecasedocs: reading documents: %w", err)
	}
	return out, nil
}

// Delete removes the document of id, if there is one.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM use_case_documents WHERE id = $1`, id); err != nil {
		return fmt.Errorf("usecasedocs: deleting %s: %w", id, err)
	}
	return nil
}

// decode reads a stored document. Unknown fields are ignored, unlike usecase.Decode for input: a
// document written by a newer version of the service, with a field this one does not know, must
// still be readable while both run during a rolling update.
func decode(b []byte) (usecase.Content, error) {
	var c usecase.Content
	if err := json.Unmarshal(b, &c); err != nil {
		return usecase.Content{}, err
	}
	return c, nil
}
