package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TypeCleanup removes expired rows (stored idempotent responses, and whatever else registers a
// Sweeper). It runs every worker.cleanup_interval.
const TypeCleanup = "maintenance:cleanup"

// Sweeper removes the expired rows of one kind and says how many it removed.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (int64, error)
}

// Cleanup is the handler of TypeCleanup.
type Cleanup struct {
	Log      *slog.Logger
	Sweepers map[string]Sweeper
	Now      func() time.Time
}

// ProcessTask runs every sweeper; one failing does not stop the others.
func (c Cleanup) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	var errs []error
	for name, s := range c.Sweepers {
		n, err := s.Sweep(ctx, now())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if n > 0 {
			c.Log.InfoContext(ctx, "removed expired rows", "kind", name, "rows", n)
		}
	}
	return errors.Join(errs...)
}

// BlobDeleter deletes stored objects; deleting a missing one is not an error.
type BlobDeleter interface {
	Delete(ctx context.Context, key string) error
}

// UnattachedAttachments sweeps message attachments that were uploaded but never sent with a
// message (message_attachments.message_id IS NULL) once they are older than MaxAge, as migration
// 00005 promises: their blob, then their row.
//
// Each batch runs in one transaction that locks its rows with FOR UPDATE SKIP LOCKED: two workers
// share the work instead of queueing, and a row a message is claiming at that moment (its UPDATE
// holds the lock) is skipped, not swept under it. A message that tries to claim a row of the
// batch waits for the commit and then finds it gone. A blob whose deletion fails keeps its row
// for the next run (the failure is reported); deleting a missing blob is not an error, so a run
// that died between the blob and the commit is simply repeated.
type UnattachedAttachments struct {
	Pool   *pgxpool.Pool
	Blobs  BlobDeleter
	MaxAge time.Duration // default 24 h
	Batch  int           // rows per transaction; default 100
}

// Sweep implements Sweeper. Batches walk the rows in (created_at, id) order, each starting after
// the last row of the one before, until one comes back short: rows whose blob could not be
// deleted stay behind the cursor, so however many of them there are, one run still reaches
// every other row. Blob failures are reported together at the end.
func (u UnattachedAttachments) Sweep(ctx context.Context, now time.Time) (int64, error) {
	maxAge, batch := u.MaxAge, u.Batch
	if maxAge <= 0 {
		maxAge = 24 * time.Hour
	}
	if batch <= 0 {
		batch = 100
	}
	var (
		total  int64
		failed []error
		cur    cursor
	)
	for {
		res, err := u.sweepBatch(ctx, now.Add(-maxAge), batch, cur)
		total += res.deleted
		failed = append(failed, res.failed...)
		if err != nil {
			return total, fmt.Errorf("unattached attachments: %w", errors.Join(append(failed, err)...))
		}
		if res.selected < batch {
			if len(failed) > 0 {
				return total, fmt.Errorf("unattached attachments: %d blobs not deleted (their rows stay for the next run): %w", len(failed), errors.Join(failed...))
			}
			return total, nil
		}
		cur = res.last
	}
}

// cursor is the (created_at, id) of the last row a batch selected; the zero cursor is the start.
type cursor struct {
	createdAt time.Time
	id        uuid.UUID
}

type batchResult struct {
	selected int
	deleted  int64
	failed   []error
	last     cursor
}

// sweepBatch locks up to batch rows after cur, deletes their blobs, then the rows whose blob is
// gone, and commits.
func (u UnattachedAttachments) sweepBatch(ctx context.Context, before time.Time, batch int, cur cursor) (batchResult, error) {
	var res batchResult
	tx, err := u.Pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, `SELECT id, blob_key, created_at FROM message_attachments
		WHERE message_id IS NULL AND created_at < $1 AND (created_at, id) > ($2, $3)
		ORDER BY created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED`, before, cur.createdAt, cur.id, batch)
	if err != nil {
		return res, err
	}
	var (
		ids  []uuid.UUID
		keys []string
	)
	for rows.Next() {
		var key string
		if err := rows.Scan(&res.last.id, &key, &res.last.createdAt); err != nil {
			rows.Close()
			return batchResult{}, err
		}
		ids, keys = append(ids, res.last.id), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return batchResult{}, err
	}
	res.selected = len(ids)
	if res.selected == 0 {
		return res, nil
	}
	var gone []uuid.UUID
	for i, key := range keys {
		if err := u.Blobs.Delete(ctx, key); err != nil {
			res.failed = append(res.failed, fmt.Errorf("blob %q: %w", key, err))
			continue
		}
		gone = append(gone, ids[i])
	}
	tag, err := tx.Exec(ctx, `DELETE FROM message_attachments WHERE id = ANY($1) AND message_id IS NULL`, gone)
	if err != nil {
		return batchResult{failed: res.failed}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return batchResult{failed: res.failed}, err
	}
	res.deleted = tag.RowsAffected()
	return res, nil
}
