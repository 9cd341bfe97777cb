// Package mediadb is the PostgreSQL store of uploaded files.
package mediadb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/media"
)

// Store implements media.Store.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ media.Store = (*Store)(nil)

const columns = `id, organization_id, owner_user_id, kind, status, error, key, content_type, size, created_at, updated_at`

func scan(row pgx.Row) (media.File, error) {
	var f media.File
	err := row.Scan(&f.ID, &f.OrganizationID, &f.OwnerUserID, &f.Kind, &f.Status, &f.Error, &f.Key,
		&f.ContentType, &f.Size, &f.CreatedAt, &f.UpdatedAt)
	return f, err
}

// Create inserts a file.
func (s *Store) Create(ctx context.Context, f media.File) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO files (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		f.ID, f.OrganizationID, f.OwnerUserID, f.Kind, f.Status, f.Error, f.Key, f.ContentType, f.Size, f.CreatedAt, f.UpdatedAt)
	if err != nil {
		return fmt.Errorf("inserting file %s: %w", f.ID, err)
	}
	return nil
}

// Get returns a file.
func (s *Store) Get(ctx context.Context, id string) (media.File, error) {
	f, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM files WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, errs.E(errs.NotFound, "no file with this id")
	}
	if err != nil {
		return f, fmt.Errorf("loading file %s: %w", id, err)
	}
	return f, nil
}

// Delete removes a file's row.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM files WHERE id = $1`, id); err != nil {
		return fmt.Errorf("deleting file %s: %w", id, err)
	}
	return nil
}

// Fail marks a pending file failed. Nothing of it stays stored, so its size becomes 0.
func (s *Store) Fail(ctx context.Context, id, message string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE files SET status = 'failed', error = $2, size = 0, updated_at = now()
		WHERE id = $1 AND status = 'pending'`, id, message)
	if err != nil {
		return fmt.Errorf("failing file %s: %w", id, err)
	}
	return nil
}

// slotWhere is the condition selecting a slot's rows, with the owner as $1.
func slotWhere(slot media.Slot) string {
	if slot.Kind == media.Logo {
		return `kind = 'logo' AND organization_id = $1`
	}
	return `kind = 'avatar' AND owner_user_id = $1`
}

// lockSlot serialises the writers of one slot until the transaction ends. Changes to a slot's
// rows and to the picture it publishes happen under this lock, so concurrent uploads and removals
// leave one current image whose URL is the one published.
func lockSlot(ctx context.Context, tx pgx.Tx, slot media.Slot) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
		"media:"+string(slot.Kind)+":"+slot.Owner)
	if err != nil {
		return fmt.Errorf("locking %s slot of %s: %w", slot.Kind, slot.Owner, err)
	}
	return nil
}

func keys(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Finish implements media.Store. The newest upload wins: a file whose slot already shows a newer
// one is refused with ErrSuperseded, whatever order the worker finished them in.
func (s *Store) Finish(ctx context.Context, id, key, contentType string, size int64, publish func(context.Context) error) ([]string, error) {
	var replaced []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		f, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM files WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return media.ErrNotPending
		}
		if err != nil {
			return fmt.Errorf("loading file: %w", err)
		}
		slot := media.SlotOf(f)
		if err := lockSlot(ctx, tx, slot); err != nil {
			return err
		}
		var newer bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE `+slotWhere(slot)+`
			AND status = 'ready' AND (created_at, id) > ($2, $3))`, slot.Owner, f.CreatedAt, f.ID).Scan(&newer); err != nil {
			return fmt.Errorf("looking for a newer image: %w", err)
		}
		if newer {
			return media.ErrSuperseded
		}
		tag, err := tx.Exec(ctx, `
			UPDATE files SET status = 'ready', error = '', key = $2, content_type = $3, size = $4, updated_at = now()
			WHERE id = $1 AND status = 'pending'`, id, key, contentType, size)
		if err != nil {
			return fmt.Errorf("marking file ready: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return media.ErrNotPending // cancelled or failed since it was loaded
		}
		replaced, err = keys(tx.Query(ctx, `DELETE FROM files WHERE `+slotWhere(slot)+`
			AND status = 'ready' AND id <> $2 RETURNING key`, slot.Owner, id))
		if err != nil {
			return fmt.Errorf("removing replaced images: %w", err)
		}
		return publish(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("finishing file %s: %w", id, err)
	}
	return replaced, nil
}

// Clear implements media.Store.
func (s *Store) Clear(ctx context.Context, slot media.Slot, message string, unpublish func(context.Context) error) ([]string, error) {
	var removed []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockSlot(ctx, tx, slot); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE files SET status = 'failed', error = $2, size = 0, updated_at = now()
			WHERE `+slotWhere(slot)+` AND status = 'pending'`, slot.Owner, message); err != nil {
			return fmt.Errorf("cancelling uploads: %w", err)
		}
		var err error
		removed, err = keys(tx.Query(ctx, `DELETE FROM files WHERE `+slotWhere(slot)+` AND status = 'ready' RETURNING key`, slot.Owner))
		if err != nil {
			return fmt.Errorf("removing images: %w", err)
		}
		return unpublish(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("clearing the %s of %s: %w", slot.Kind, slot.Owner, err)
	}
	return removed, nil
}

// StorageUsed sums the sizes of the organization's pending and ready files (failed ones keep
// nothing stored).
func (s *Store) StorageUsed(ctx context.Context, orgID string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(size), 0) FROM files
		WHERE organization_id = $1 AND status <> 'failed'`, orgID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("summing storage of %s: %w", orgID, err)
	}
	return n, nil
}
