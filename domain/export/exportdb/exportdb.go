// Package exportdb is export.Store on PostgreSQL (migration 00019).
package exportdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/export"
)

// Store keeps exports in the exports table.
type Store struct{ pool *pgxpool.Pool }

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ export.Store = (*Store)(nil)

// Create records a queued export.
func (s *Store) Create(ctx context.Context, e export.Export) error {
	params, err := json.Marshal(e.Params)
	if err != nil {
		return fmt.Errorf("export params: %w", err)
	}
	var org *string
	if e.OrganizationID != "" {
		org = &e.OrganizationID
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO exports (id, user_id, organization_id, kind, params, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, e.UserID, org, e.Kind, params, e.Status, e.CreatedAt); err != nil {
		return fmt.Errorf("recording an export: %w", err)
	}
	return nil
}

// Get loads an export.
func (s *Store) Get(ctx context.Context, id string) (export.Export, error) {
	var (
		e      export.Export
		org    *string
		params []byte
		en, ar string
	)
	err := s.pool.QueryRow(ctx, `SELECT id, user_id, organization_id, kind, params, status, percent, rows, file_key,
		file_name, content_type, size, error_en, error_ar, created_at, finished_at FROM exports WHERE id = $1`, id).
		Scan(&e.ID, &e.UserID, &org, &e.Kind, &params, &e.Status, &e.Percent, &e.Rows, &e.FileKey, &e.FileName,
			&e.ContentType, &e.Size, &en, &ar, &e.CreatedAt, &e.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, errs.E(errs.NotFound, "export not found")
	}
	if err != nil {
		return e, fmt.Errorf("loading export %s: %w", id, err)
	}
	if org != nil {
		e.OrganizationID = *org
	}
	if err := json.Unmarshal(params, &e.Params); err != nil {
		return e, fmt.Errorf("export %s params: %w", id, err)
	}
	if en != "" || ar != "" {
		e.Error = &export.Reason{EN: en, AR: ar}
	}
	return e, nil
}

// Progress marks a queued or running export running at percent (never backwards).
func (s *Store) Progress(ctx context.Context, id string, percent int) error {
	if _, err := s.pool.Exec(ctx, `UPDATE exports SET status = 'running', percent = GREATEST(percent, $2)
		WHERE id = $1 AND status IN ('queued', 'running')`, id, percent); err != nil {
		return fmt.Errorf("export %s progress: %w", id, err)
	}
	return nil
}

// Finish marks an export ready with its file.
func (s *Store) Finish(ctx context.Context, e export.Export) error {
	if _, err := s.pool.Exec(ctx, `UPDATE exports SET status = 'ready', percent = 100, rows = $2, file_key = $3,
		file_name = $4, content_type = $5, size = $6, finished_at = $7 WHERE id = $1`,
		e.ID, e.Rows, e.FileKey, e.FileName, e.ContentType, e.Size, e.FinishedAt); err != nil {
		return fmt.Errorf("export %s ready: %w", e.ID, err)
	}
	return nil
}

// Fail marks an unfinished export failed.
func (s *Store) Fail(ctx context.Context, id string, why export.Reason, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE exports SET status = 'failed', error_en = $2, error_ar = $3, finished_at = $4
		WHERE id = $1 AND status <> 'ready'`, id, why.EN, why.AR, at); err != nil {
		return fmt.Errorf("export %s failed: %w", id, err)
	}
	return nil
}
