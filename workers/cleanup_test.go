package workers_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/workers"
)

// attachmentFixture is an organization, its admin, a conversation and one message in it.
type attachmentFixture struct {
	pool            *pgxpool.Pool
	disk            *blob.Disk
	user, conv, msg uuid.UUID
}

func newAttachmentFixture(t *testing.T) attachmentFixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	disk, err := blob.NewDisk(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { disk.Close() })

	f := attachmentFixture{pool: pool, disk: disk, user: uuid.New(), conv: uuid.New(), msg: uuid.New()}
	org := uuid.New()
	tx, err := pool.Begin(ctx) // the organization's admin is a deferred reference
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO organizations (id, name, industry, size, country, city, admin_user_id)
			VALUES ($1, 'Org One', 'manufacturing', 'small', 'SA', 'Riyadh', $2)`, []any{org, f.user}},
		{`INSERT INTO users (id, organization_id, email, first_name, last_name, role)
			VALUES ($1, $2, 'a@example.com', 'A', 'B', 'admin')`, []any{f.user, org}},
		{`INSERT INTO conversations (id, kind, created_by) VALUES ($1, 'group', $2)`, []any{f.conv, f.user}},
		{`INSERT INTO messages (id, conversation_id, seq, sender_id, content) VALUES ($1, $2, 1, $3, 'hi')`, []any{f.msg, f.conv, f.user}},
	} {
		_, err = tx.Exec(ctx, st.q, st.args...)
		require.NoError(t, err, st.q)
	}
	require.NoError(t, tx.Commit(ctx))
	return f
}

// add stores a blob under key and an attachment row of that age pointing at it; a nil message
// leaves it unattached.
func (f attachmentFixture) add(t *testing.T, key string, age time.Duration, message *uuid.UUID) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	if blob.ValidKey(key) {
		_, err := f.disk.Put(ctx, key, strings.NewReader(key), "text/plain", 0)
		require.NoError(t, err)
	}
	id := uuid.New()
	_, err := f.pool.Exec(ctx, `INSERT INTO message_attachments
		(id, conversation_id, uploader_id, message_id, name, content_type, size, blob_key, created_at)
		VALUES ($1, $2, $3, $4, 'file.txt', 'text/plain', $5, $6, now() - $7::interval)`,
		id, f.conv, f.user, message, len(key), key, age.String())
	require.NoError(t, err)
	return id
}

func (f attachmentFixture) rowExists(t *testing.T, id uuid.UUID) bool {
	t.Helper()
	var exists bool
	require.NoError(t, f.pool.QueryRow(context.Background(),
		`SELECT EXISTS (SELECT 1 FROM message_attachments WHERE id = $1)`, id).Scan(&exists))
	return exists
}

// TestUnattachedAttachmentsSwept: an upload never sent with a message is removed (blob and row)
// after 24 h; a younger one and an attached one of the same age stay; a second run finds nothing.
func TestUnattachedAttachmentsSwept(t *testing.T) {
	ctx := context.Background()
	f := newAttachmentFixture(t)
	rows := []struct {
		name    string
		age     time.Duration
		message *uuid.UUID
		kept    bool
	}{
		{"orphan-old", 25 * time.Hour, nil, false},
		{"orphan-older", 72 * time.Hour, nil, false},
		{"orphan-young", 23 * time.Hour, nil, true},
		{"attached-old", 72 * time.Hour, &f.msg, true},
	}
	ids := map[string]uuid.UUID{}
	key := func(name string) string { return "attachments/" + f.conv.String() + "/" + name }
	for _, r := range rows {
		ids[r.name] = f.add(t, key(r.name), r.age, r.message)
	}

	sweep := workers.UnattachedAttachments{Pool: f.pool, Blobs: f.disk, Batch: 1} // batches of one: the loop runs
	n, err := sweep.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	for _, r := range rows {
		assert.Equal(t, r.kept, f.rowExists(t, ids[r.name]), "%s row", r.name)
		_, err := f.disk.Stat(ctx, key(r.name))
		if r.kept {
			assert.NoError(t, err, "%s blob", r.name)
		} else {
			assert.ErrorIs(t, err, blob.ErrNotFound, "%s blob", r.name)
		}
	}

	n, err = sweep.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n, "idempotent")

	// A row whose blob is already gone (a run that died before its commit) is still swept.
	gone := uuid.New()
	_, err = f.pool.Exec(ctx, `INSERT INTO message_attachments
		(id, conversation_id, uploader_id, name, content_type, size, blob_key, created_at)
		VALUES ($1, $2, $3, 'x', 'text/plain', 1, 'attachments/none', now() - interval '2 days')`, gone, f.conv, f.user)
	require.NoError(t, err)
	n, err = workers.UnattachedAttachments{Pool: f.pool, Blobs: f.disk}.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	assert.False(t, f.rowExists(t, gone))
}

// TestUnattachedAttachmentsSkipLocked: a row another transaction holds (a message claiming it
// right now) is skipped, not waited for, and the claim then attaches it with its blob intact;
// the rows around it are swept.
func TestUnattachedAttachmentsSkipLocked(t *testing.T) {
	ctx := context.Background()
	f := newAttachmentFixture(t)
	claimed := f.add(t, "attachments/claimed", 48*time.Hour, nil)
	other := f.add(t, "attachments/other", 48*time.Hour, nil)

	claim, err := f.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = claim.Rollback(ctx) }()
	// The claim's UPDATE ... WHERE message_id IS NULL locks the row, as messagingdb's does.
	tag, err := claim.Exec(ctx, `UPDATE message_attachments SET message_id = $1 WHERE id = $2 AND message_id IS NULL`, f.msg, claimed)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	n, err := workers.UnattachedAttachments{Pool: f.pool, Blobs: f.disk}.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "only the unlocked row")
	assert.False(t, f.rowExists(t, other))
	require.NoError(t, claim.Commit(ctx))

	assert.True(t, f.rowExists(t, claimed))
	_, err = f.disk.Stat(ctx, "attachments/claimed")
	assert.NoError(t, err, "the claimed attachment keeps its blob")
	n, err = workers.UnattachedAttachments{Pool: f.pool, Blobs: f.disk}.Sweep(ctx, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n, "attached now")
}

// TestUnattachedAttachmentsBlobFailureKeepsTheRow: a blob the store refuses to delete (here a
// key the store rejects) keeps its row for the next run and is reported; the others are swept,
// even when the refused rows come first and fill whole batches.
func TestUnattachedAttachmentsBlobFailureKeepsTheRow(t *testing.T) {
	ctx := context.Background()
	f := newAttachmentFixture(t)
	bad := []uuid.UUID{f.add(t, "../outside", 72*time.Hour, nil), f.add(t, "/etc/passwd", 71*time.Hour, nil)}
	good := []uuid.UUID{f.add(t, "attachments/good", 48*time.Hour, nil), f.add(t, "attachments/good2", 47*time.Hour, nil)}

	n, err := workers.UnattachedAttachments{Pool: f.pool, Blobs: f.disk, Batch: 1}.Sweep(ctx, time.Now())
	require.ErrorIs(t, err, blob.ErrInvalidKey)
	assert.Contains(t, err.Error(), "2 blobs not deleted")
	assert.EqualValues(t, 2, n)
	for _, id := range bad {
		assert.True(t, f.rowExists(t, id), "kept for the next run")
	}
	for _, id := range good {
		assert.False(t, f.rowExists(t, id))
	}
	_, err = f.disk.Stat(ctx, "attachments/good")
	assert.ErrorIs(t, err, blob.ErrNotFound)

	// Through the cleanup task the failure is reported under the sweeper's name.
	err = workers.Cleanup{
		Log:      slog.New(slog.DiscardHandler),
		Sweepers: map[string]workers.Sweeper{"message_attachments": workers.UnattachedAttachments{Pool: f.pool, Blobs: f.disk}},
	}.ProcessTask(ctx, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "message_attachments")
}
