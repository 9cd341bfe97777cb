// Package mediadb is the PostgreSQL store of uploaded files.
package mediadb

import (
	"context"
	"errors"
	"fmt"
	"time"

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

const columns = `id, organization_id, owner_user_id, kind, status, error, key, content_type, size, created_at, updated_at,
	name, error_ar, variants, meta, coalesce(attached_type, ''), coalesce(attached_id::text, ''), attached_at`

func scan(row pgx.Row) (media.File, error) {
	var f media.File
	var meta media.Meta
	err := row.Scan(&f.ID, &f.OrganizationID, &f.OwnerUserID, &f.Kind, &f.Status, &f.Error, &f.Key,
		&f.ContentType, &f.Size, &f.CreatedAt, &f.UpdatedAt,
		&f.Name, &f.ErrorAr, &f.Variants, &meta, &f.AttachedType, &f.AttachedID, &f.AttachedAt)
	if media.IsUpload(f.Kind) {
		f.Meta = &meta
	}
	return f, err
}

// Create inserts a file.
func (s *Store) Create(ctx context.Context, f media.File) error {
	if f.Variants == nil {
		f.Variants = []media.Variant{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO files (id, organization_id, owner_user_id, kind, status, error, key,
		content_type, size, created_at, updated_at, name, variants)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		f.ID, f.OrganizationID, f.OwnerUserID, f.Kind, f.Status, f.Error, f.Key, f.ContentType, f.Size,
		f.CreatedAt, f.UpdatedAt, f.Name, f.Variants)
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

// StorageUsed sums what the organization keeps stored: its files (uploading and pending ones by
// their declared or uploaded size, ready ones with every variant; failed ones keep nothing) and
// the message attachments its members uploaded.
func (s *Store) StorageUsed(ctx context.Context, orgID string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(size), 0) FROM files WHERE organization_id = $1 AND status <> 'failed')
		+ (SELECT coalesce(sum(a.size), 0) FROM message_attachments a JOIN users u ON u.id = a.uploader_id
		   WHERE u.organization_id = $1)`, orgID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("summing storage of %s: %w", orgID, err)
	}
	return n, nil
}

var _ media.UploadStore = (*Store)(nil)

// MarkPending implements media.UploadStore.
func (s *Store) MarkPending(ctx context.Context, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE files SET status = 'pending', updated_at = now()
		WHERE id = $1 AND status = 'uploading'`, id)
	if err != nil {
		return false, fmt.Errorf("marking file %s pending: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// FailUpload implements media.UploadStore.
func (s *Store) FailUpload(ctx context.Context, id string, reason media.Reason) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE files SET status = 'failed', error = $2, error_ar = $3, size = 0,
		variants = '[]', updated_at = now() WHERE id = $1 AND status IN ('uploading', 'pending')`, id, reason.EN, reason.AR)
	if err != nil {
		return false, fmt.Errorf("failing file %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// FinishUpload implements media.UploadStore.
func (s *Store) FinishUpload(ctx context.Context, id string, variants []media.Variant, meta media.Meta, size int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE files SET status = 'ready', error = '', error_ar = '', variants = $2,
		meta = $3, size = $4, updated_at = now() WHERE id = $1 AND status = 'pending'`, id, variants, meta, size)
	if err != nil {
		return fmt.Errorf("finishing file %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return media.ErrNotPending
	}
	return nil
}

// Attach implements media.UploadStore in one statement: the row changes only when it is the
// owner's, ready and unattached (or attached to this target already); the follow-up read says
// which rule refused it.
func (s *Store) Attach(ctx context.Context, id, ownerUserID, targetType, targetID string) (media.File, error) {
	f, err := scan(s.pool.QueryRow(ctx, `UPDATE files SET attached_type = $3, attached_id = $4,
		attached_at = coalesce(attached_at, now()), updated_at = now()
		WHERE id = $1 AND owner_user_id = $2 AND kind IN ('image', 'video', 'document') AND status = 'ready'
		  AND (attached_id IS NULL OR (attached_type = $3 AND attached_id = $4))
		RETURNING `+columns, id, ownerUserID, targetType, targetID))
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("attaching file %s: %w", id, err)
	}
	cur, err := s.Get(ctx, id)
	if err != nil {
		return media.File{}, err
	}
	if cur.OwnerUserID != ownerUserID || !media.IsUpload(cur.Kind) {
		return media.File{}, errs.E(errs.NotFound, "no file with this id")
	}
	if cur.Status != media.Ready {
		return media.File{}, errs.E(errs.Conflict, "the file is %s; only a ready file can be attached", cur.Status)
	}
	return media.File{}, errs.E(errs.Conflict, "the file is attached to other content already")
}

// SweepUnattached implements media.UploadStore.
func (s *Store) SweepUnattached(ctx context.Context, before time.Time, limit int) ([]media.File, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM files WHERE id IN (
		SELECT id FROM files WHERE attached_at IS NULL AND kind IN ('image', 'video', 'document')
		  AND created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+columns, before, limit)
	if err != nil {
		return nil, fmt.Errorf("sweeping unattached files: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (media.File, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("sweeping unattached files: %w", err)
	}
	return files, nil
}

// Release implements media.UploadStore.
func (s *Store) Release(ctx context.Context, targetType, targetID string, keep []string) error {
	if keep == nil {
		keep = []string{}
	}
	_, err := s.pool.Exec(ctx, `UPDATE files SET attached_type = NULL, attached_id = NULL, attached_at = NULL, updated_at = now()
		WHERE attached_type = $1 AND attached_id = $2 AND NOT (id::text = ANY($3))`, targetType, targetID, keep)
	if err != nil {
		return fmt.Errorf("releasing the files of %s %s: %w", targetType, targetID, err)
	}
	return nil
}

// Attached implements media.UploadStore.
func (s *Store) Attached(ctx context.Context, targetType string, ids []string) ([]media.File, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM files
		WHERE id = ANY($1::uuid[]) AND attached_type = $2 AND status = 'ready'`, ids, targetType)
	if err != nil {
		return nil, fmt.Errorf("reading attached files: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (media.File, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("reading attached files: %w", err)
	}
	return files, nil
}

// Forget implements media.UploadStore.
func (s *Store) Forget(ctx context.Context, targetType, targetID string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE files SET gone_at = $3, updated_at = now()
		WHERE attached_type = $1 AND attached_id = $2 AND gone_at IS NULL`, targetType, targetID, at)
	if err != nil {
		return fmt.Errorf("forgetting the files of %s %s: %w", targetType, targetID, err)
	}
	return nil
}

// SweepGone implements media.UploadStore.
func (s *Store) SweepGone(ctx context.Context, before time.Time, limit int) ([]media.File, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM files WHERE id IN (
		SELECT id FROM files WHERE gone_at < $1 ORDER BY gone_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+columns, before, limit)
	if err != nil {
		return nil, fmt.Errorf("sweeping the files of deleted content: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (media.File, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("sweeping the files of deleted content: %w", err)
	}
	return files, nil
}

// AttachedTo implements media.UploadStore.
func (s *Store) AttachedTo(ctx context.Context, targetType, targetID string) ([]media.File, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM files
		WHERE attached_id = $2 AND attached_type = $1 AND status = 'ready' AND gone_at IS NULL
		ORDER BY attached_at, id`, targetType, targetID)
	if err != nil {
		return nil, fmt.Errorf("reading the files of %s %s: %w", targetType, targetID, err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (media.File, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("reading the files of %s %s: %w", targetType, targetID, err)
	}
	return files, nil
}
