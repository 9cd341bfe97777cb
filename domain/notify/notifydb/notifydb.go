// Package notifydb is the PostgreSQL store of notifications, notification preferences and each
// recipient's notification version.
package notifydb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements notify.Store.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// db is the unit of work ctx carries (an event subscriber's), or the pool: a transaction begun on
// it is then a savepoint, so a subscriber's notifications commit with its cursor.
func (s *Store) db(ctx context.Context) postgres.DB { return postgres.On(ctx, s.pool) }

var _ notify.Store = (*Store)(nil)

// columns are read from "n" (notifications, or a CTE of their rows) left-joined with the actor "a".
const columns = `n.id, n.type, n.recipient_id, n.actor_id, n.target_type, n.target_id, n.data, n.group_key, n.count,
	n.in_app, n.email, n.read_at, n.emailed_at, n.created_at, n.updated_at, a.first_name, a.last_name, a.avatar_url`

const fromActor = ` LEFT JOIN users a ON a.id = n.actor_id`

func scan(row pgx.Row) (notify.Notification, error) { return scanWith(row) }

// scanWith scans the columns after the leading ones given in before.
func scanWith(row pgx.Row, before ...any) (notify.Notification, error) {
	var (
		n                  notify.Notification
		actorID, groupKey  *string
		data               []byte
		actorFirst, actorL *string
		avatar             *string
	)
	err := row.Scan(append(before, &n.ID, &n.Type, &n.RecipientID, &actorID, &n.TargetType, &n.TargetID, &data, &groupKey, &n.Count,
		&n.InApp, &n.Email, &n.ReadAt, &n.EmailedAt, &n.CreatedAt, &n.UpdatedAt, &actorFirst, &actorL, &avatar)...)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n.Data); err != nil {
		return n, fmt.Errorf("notification %s: data: %w", n.ID, err)
	}
	if n.Data == nil {
		n.Data = map[string]any{}
	}
	if groupKey != nil {
		n.GroupKey = *groupKey
	}
	if actorID != nil {
		n.ActorID = *actorID
		n.Actor = &notify.Actor{ID: *actorID, Avatar: avatar}
		if actorFirst != nil {
			n.Actor.FirstName = *actorFirst
		}
		if actorL != nil {
			n.Actor.LastName = *actorL
		}
	}
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	if n.ReadAt != nil {
		t := n.ReadAt.UTC()
		n.ReadAt = &t
	}
	return n, nil
}

func collect(rows pgx.Rows, err error) ([]notify.Notification, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.Notification
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// asRecipient runs fn in a transaction holding the recipient's state row, whose version it bumps,
// and returns the unread count as fn left it with that version. Every change of a recipient's
// notifications that moves the count goes through here, so changes of one recipient happen one
// at a time and each count is exact as of its version.
func (s *Store) asRecipient(ctx context.Context, recipientID string, fn func(tx pgx.Tx) error) (notify.Unread, error) {
	var u notify.Unread
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO notification_state (user_id, version) VALUES ($1, 1)
			ON CONFLICT (user_id) DO UPDATE SET version = notification_state.version + 1
			RETURNING version`, recipientID).Scan(&u.Version)
		if isForeignKeyViolation(err) {
			return errs.E(errs.NotFound, "no such user")
		}
		if err != nil {
			return fmt.Errorf("locking the notifications of %s: %w", recipientID, err)
		}
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, unreadSQL, recipientID).Scan(&u.Unread); err != nil {
			return fmt.Errorf("counting unread notifications: %w", err)
		}
		return nil
	})
	return u, err
}

const unreadSQL = `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND in_app AND read_at IS NULL`

func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Upsert stores n or folds it into the unread notification of its group.
func (s *Store) Upsert(ctx context.Context, n notify.Notification) (notify.Notification, notify.Unread, error) {
	data, err := json.Marshal(n.Data)
	if err != nil {
		return n, notify.Unread{}, fmt.Errorf("notification data: %w", err)
	}
	var stored notify.Notification
	u, err := s.asRecipient(ctx, n.RecipientID, func(tx pgx.Tx) error {
		var err error
		stored, err = scan(tx.QueryRow(ctx, `
			WITH n AS (
				INSERT INTO notifications (id, recipient_id, type, actor_id, target_type, target_id, data, group_key, count,
				                           in_app, email, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $12, $9, $10, $11, $11)
				ON CONFLICT (recipient_id, group_key) WHERE read_at IS NULL AND group_key IS NOT NULL
				DO UPDATE SET type = EXCLUDED.type, actor_id = EXCLUDED.actor_id, target_type = EXCLUDED.target_type,
					target_id = EXCLUDED.target_id, data = EXCLUDED.data, count = notifications.count + EXCLUDED.count,
					in_app = EXCLUDED.in_app, email = EXCLUDED.email, updated_at = EXCLUDED.updated_at
				RETURNING *
			)
			SELECT `+columns+` FROM n`+fromActor,
			n.ID, n.RecipientID, n.Type, nullable(n.ActorID), n.TargetType, n.TargetID, data, nullable(n.GroupKey),
			n.InApp, n.Email, n.CreatedAt, max(n.Count, 1)))
		if isForeignKeyViolation(err) {
			return errs.E(errs.NotFound, "no such actor")
		}
		if err != nil {
			return fmt.Errorf("storing notification: %w", err)
		}
		return nil
	})
	return stored, u, err
}

// Fold updates, in one statement, the recipients' unread notifications of the groups of ns in
// place. The notifications of a delivered batch of events are folded together: one statement per
// batch rather than one per recipient and group, which at 2,000 messages/s was more statements
// than storing the messages took (docs/perf.md). A notification whose actor is not a user is
// left for Upsert to refuse.
func (s *Store) Fold(ctx context.Context, ns []notify.Notification) ([]notify.Notification, []bool, error) {
	found := make([]bool, len(ns))
	if len(ns) == 0 {
		return nil, found, nil
	}
	recipients, keys, actors, data := make([]string, len(ns)), make([]string, len(ns)), make([]string, len(ns)), make([]string, len(ns))
	at, counts := make([]time.Time, len(ns)), make([]int32, len(ns))
	for i, n := range ns {
		b, err := json.Marshal(n.Data)
		if err != nil {
			return nil, found, fmt.Errorf("notification data: %w", err)
		}
		recipients[i], keys[i], actors[i], data[i] = n.RecipientID, n.GroupKey, n.ActorID, string(b)
		at[i], counts[i] = n.UpdatedAt, int32(max(n.Count, 1))
	}
	// Planned for each batch (an unnamed statement), never from a cached generic plan: made for an
	// unknown number of groups, that plan scans the table, which every fold grows by a row
	// version until it is vacuumed (60–130 ms a batch at 2,000 messages/s, docs/perf.md).
	rows, err := s.db(ctx).Query(ctx, `
		WITH input AS (
			SELECT * FROM unnest($1::text[]::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::int[])
				WITH ORDINALITY AS t(recipient_id, group_key, actor_id, data, updated_at, count, ord)
		), n AS (
			UPDATE notifications n SET actor_id = nullif(i.actor_id, '')::uuid, data = i.data,
				count = n.count + i.count, updated_at = i.updated_at
			FROM input i
			WHERE n.recipient_id = i.recipient_id AND n.group_key = i.group_key AND n.read_at IS NULL
			  AND (i.actor_id = '' OR EXISTS (SELECT 1 FROM users u WHERE u.id = nullif(i.actor_id, '')::uuid))
			RETURNING n.*, i.ord
		)
		SELECT n.ord, `+columns+` FROM n`+fromActor,
		pgx.QueryExecModeCacheDescribe, recipients, keys, actors, data, at, counts)
	if err != nil {
		return nil, found, fmt.Errorf("folding notifications: %w", err)
	}
	defer rows.Close()
	var out []notify.Notification
	for rows.Next() {
		var ord int64
		n, err := scanWith(rows, &ord)
		if err != nil {
			return nil, found, fmt.Errorf("folding notifications: %w", err)
		}
		if ord < 1 || int(ord) > len(ns) || found[ord-1] {
			return nil, found, fmt.Errorf("folding notifications: a group given twice or an unknown row (%d)", ord)
		}
		found[ord-1] = true
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, found, fmt.Errorf("folding notifications: %w", err)
	}
	return out, found, nil
}

// HasUnread reports whether the recipient has unread notifications of a target.
func (s *Store) HasUnread(ctx context.Context, recipientID, targetType, targetID string) (bool, error) {
	var ok bool
	err := s.db(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notifications
		WHERE recipient_id = $1 AND target_type = $2 AND target_id = $3 AND read_at IS NULL)`,
		recipientID, targetType, targetID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("looking for unread notifications: %w", err)
	}
	return ok, nil
}

// MarkRead marks one in-app notification of the recipient read.
func (s *Store) MarkRead(ctx context.Context, recipientID, id string, at time.Time) (bool, notify.Unread, error) {
	var changed bool
	u, err := s.asRecipient(ctx, recipientID, func(tx pgx.Tx) error {
		var readAt *time.Time
		err := tx.QueryRow(ctx, `SELECT read_at FROM notifications WHERE id = $1 AND recipient_id = $2 AND in_app FOR UPDATE`,
			id, recipientID).Scan(&readAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.E(errs.NotFound, "no such notification")
		}
		if err != nil {
			return fmt.Errorf("loading notification %s: %w", id, err)
		}
		if readAt != nil {
			return nil
		}
		changed = true
		if _, err := tx.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE id = $1`, id, at); err != nil {
			return fmt.Errorf("marking notification %s read: %w", id, err)
		}
		return nil
	})
	return changed, u, err
}

// MarkTargetRead marks the recipient's unread notifications of a target read.
func (s *Store) MarkTargetRead(ctx context.Context, recipientID, targetType, targetID string, at time.Time) (int, notify.Unread, error) {
	var n int
	u, err := s.asRecipient(ctx, recipientID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notifications SET read_at = $4
			WHERE recipient_id = $1 AND target_type = $2 AND target_id = $3 AND read_at IS NULL`,
			recipientID, targetType, targetID, at)
		if err != nil {
			return fmt.Errorf("marking notifications read: %w", err)
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, u, err
}

// MarkAllRead marks every unread in-app notification of the recipient read.
func (s *Store) MarkAllRead(ctx context.Context, recipientID string, at time.Time) (int, notify.Unread, error) {
	var n int
	u, err := s.asRecipient(ctx, recipientID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND in_app AND read_at IS NULL`,
			recipientID, at)
		if err != nil {
			return fmt.Errorf("marking notifications read: %w", err)
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, u, err
}

// Unread reads the count and its version in one snapshot.
func (s *Store) Unread(ctx context.Context, recipientID string) (notify.Unread, error) {
	var u notify.Unread
	err := s.db(ctx).QueryRow(ctx, `SELECT coalesce((SELECT version FROM notification_state WHERE user_id = $1), 0), (`+unreadSQL+`)`,
		recipientID).Scan(&u.Version, &u.Unread)
	if err != nil {
		return u, fmt.Errorf("counting unread notifications of %s: %w", recipientID, err)
	}
	return u, nil
}

// List pages the recipient's in-app notifications, newest activity first.
func (s *Store) List(ctx context.Context, recipientID string, q notify.Query, limit int) ([]notify.Notification, error) {
	sql := `SELECT ` + columns + ` FROM notifications n` + fromActor + ` WHERE n.recipient_id = $1 AND n.in_app`
	args := []any{recipientID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.UnreadOnly {
		sql += ` AND n.read_at IS NULL`
	}
	if q.After != nil {
		sql += ` AND (n.updated_at, n.id) < (` + arg(q.After.UpdatedAt) + `, ` + arg(q.After.ID) + `::uuid)`
	}
	sql += ` ORDER BY n.updated_at DESC, n.id DESC LIMIT ` + arg(limit)
	out, err := collect(s.db(ctx).Query(ctx, sql, args...))
	if err != nil {
		return nil, fmt.Errorf("listing notifications of %s: %w", recipientID, err)
	}
	return out, nil
}

// Preferences returns the channels the user chose.
func (s *Store) Preferences(ctx context.Context, userID string) (map[string]notify.Channels, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT type, in_app, email FROM notification_preferences WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("loading notification preferences of %s: %w", userID, err)
	}
	defer rows.Close()
	out := map[string]notify.Channels{}
	for rows.Next() {
		var (
			t  string
			ch notify.Channels
		)
		if err := rows.Scan(&t, &ch.InApp, &ch.Email); err != nil {
			return nil, fmt.Errorf("loading notification preferences of %s: %w", userID, err)
		}
		out[t] = ch
	}
	return out, rows.Err()
}

// SetPreferences writes the user's channels for the given types in one transaction.
func (s *Store) SetPreferences(ctx context.Context, userID string, prefs map[string]notify.Channels, at time.Time) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		for t, ch := range prefs {
			_, err := tx.Exec(ctx, `
				INSERT INTO notification_preferences (user_id, type, in_app, email, updated_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (user_id, type) DO UPDATE SET in_app = EXCLUDED.in_app, email = EXCLUDED.email, updated_at = EXCLUDED.updated_at`,
				userID, t, ch.InApp, ch.Email, at)
			if isForeignKeyViolation(err) {
				return errs.E(errs.NotFound, "no such user")
			}
			if err != nil {
				return fmt.Errorf("saving notification preferences of %s: %w", userID, err)
			}
		}
		return nil
	})
}

// Digest runs fn on the recipient's notifications that are due for email, with their rows locked
// until the marks are written: two digests of one recipient running at once mail each
// notification once (the second waits, then finds them mailed).
func (s *Store) Digest(ctx context.Context, recipientID string, cutoff, at time.Time, fn func([]notify.Notification) ([]string, error)) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		due, err := collect(tx.Query(ctx, `
			WITH n AS (
				SELECT * FROM notifications
				WHERE recipient_id = $1 AND email AND read_at IS NULL AND emailed_at IS NULL AND created_at <= $2
				ORDER BY created_at, id
				FOR UPDATE
			)
			SELECT `+columns+` FROM n`+fromActor+` ORDER BY n.created_at, n.id`, recipientID, cutoff))
		if err != nil {
			return fmt.Errorf("loading the digest of %s: %w", recipientID, err)
		}
		if len(due) == 0 {
			return nil
		}
		mailed, err := fn(due)
		if err != nil {
			return err
		}
		if mailed == nil {
			mailed = []string{} // ANY(NULL) would make email NULL
		}
		ids := make([]string, len(due))
		for i, n := range due {
			ids[i] = n.ID
		}
		// Mailed ones are stamped; the others were not wanted by email any more.
		_, err = tx.Exec(ctx, `
			UPDATE notifications SET
				emailed_at = CASE WHEN id = ANY($2::uuid[]) THEN $3::timestamptz END,
				email = (id = ANY($2::uuid[]))
			WHERE id = ANY($1::uuid[])`, ids, mailed, at)
		if err != nil {
			return fmt.Errorf("marking the digest of %s: %w", recipientID, err)
		}
		return nil
	})
}
