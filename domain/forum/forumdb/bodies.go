package forumdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// WithBodies returns a store on pool that keeps what posts say, every version of it, in bodies
// (MongoDB when configured), and the rest of the forum in PostgreSQL (migration 00039): a row
// whose body is NULL has it in bodies; a row written before holds its own until `p2p docs
// migrate` moves it, and an edit moves it too.
//
// The two stores share no transaction, so a write crosses them through a transactional outbox
// (forum_body_outbox), as use case documents do (usecasedb.WithDocuments): in the transaction
// that writes the row and its new body_version, the body is queued; after the commit it is Put
// in bodies and its outbox row deleted. A Put that fails (or a crash before it) leaves the row:
// readers take the body from it meanwhile, and Heal Puts it later. A write that committed is
// never failed by bodies: its answer is the relational one. log records the Puts left to Heal.
func WithBodies(pool *pgxpool.Pool, bodies forum.Bodies, log *slog.Logger) *Store {
	return &Store{pool: pool, bodies: bodies, log: log}
}

// queue, in the transaction tx that wrote version of post k, puts its body b in the outbox and
// arranges for it to be delivered once the transaction commits.
func (s *Store) queue(ctx context.Context, tx pgx.Tx, k forum.Key, version int, b forum.Body) error {
	if _, err := tx.Exec(ctx, `INSERT INTO forum_body_outbox (target_type, target_id, version, title, body, body_html, written_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		k.Type, k.ID, version, b.Title, b.Markdown, b.HTML, b.WrittenAt); err != nil {
		return fmt.Errorf("queueing the body of %s %s: %w", k.Type, k.ID, err)
	}
	postgres.AfterCommit(ctx, func(ctx context.Context) {
		// The write has committed: its caller's cancellation no longer concerns the body.
		if err := s.deliver(context.WithoutCancel(ctx), k, version, b); err != nil {
			s.warn(ctx, "a forum post's body waits in the outbox for the healer", "type", k.Type, "id", k.ID, "version", version, "err", err)
		}
	})
	return nil
}

// deliver Puts version of k's body and then deletes its outbox row.
func (s *Store) deliver(ctx context.Context, k forum.Key, version int, b forum.Body) error {
	if err := s.bodies.Put(ctx, k, version, b); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM forum_body_outbox WHERE target_type = $1 AND target_id = $2 AND version = $3`,
		k.Type, k.ID, version); err != nil {
		return fmt.Errorf("emptying the outbox of %s %s: %w", k.Type, k.ID, err)
	}
	return nil
}

func (s *Store) warn(ctx context.Context, msg string, args ...any) {
	if s.log != nil {
		s.log.WarnContext(ctx, msg, args...)
	}
}

// text is what a post says as shown: its Markdown and HTML.
type text struct{ markdown, html string }

// bodiesOf reads the bodies of the posts in want, each at its version: from the outbox first (a
// version not yet delivered), then from the store, in that order so that a body delivered
// meanwhile is found in one or the other. A body found in neither (a row whose store was lost, or
// a store this process is not configured with) is left out, with a warning, and reads empty.
func (s *Store) bodiesOf(ctx context.Context, db postgres.DB, want map[forum.Key]int) (map[forum.Key]text, error) {
	out := make(map[forum.Key]text, len(want))
	if len(want) == 0 {
		return out, nil
	}
	if s.bodies == nil {
		s.warn(ctx, "forum posts have their bodies in a document store: configure mongo.url or run `p2p docs migrate --to postgres`", "count", len(want))
		return out, nil
	}
	types, ids, versions := make([]string, 0, len(want)), make([]string, 0, len(want)), make([]int32, 0, len(want))
	keys := make(map[[2]string]forum.Key, len(want)) // by type and id, as the outbox names posts
	for k, v := range want {
		types, ids, versions = append(types, k.Type), append(ids, k.ID), append(versions, int32(v))
		keys[[2]string{k.Type, k.ID}] = k
	}
	rows, err := db.Query(ctx, `SELECT o.target_type, o.target_id::text, o.body, o.body_html
		FROM unnest($1::text[], $2::uuid[], $3::int[]) q(target_type, target_id, version)
		JOIN forum_body_outbox o USING (target_type, target_id, version)`, types, ids, versions)
	if err != nil {
		return nil, fmt.Errorf("reading queued forum bodies: %w", err)
	}
	for rows.Next() {
		var typ, id string
		var t text
		if err := rows.Scan(&typ, &id, &t.markdown, &t.html); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading queued forum bodies: %w", err)
		}
		out[keys[[2]string{typ, id}]] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading queued forum bodies: %w", err)
	}
	rest := make([]forum.Key, 0, len(want)-len(out))
	for k := range want {
		if _, ok := out[k]; !ok {
			rest = append(rest, k)
		}
	}
	if len(rest) == 0 {
		return out, nil
	}
	stored, err := s.bodies.Latest(ctx, rest)
	if err != nil {
		return nil, fmt.Errorf("loading forum bodies: %w", err)
	}
	for _, k := range rest {
		b, ok := stored[k]
		if !ok {
			s.warn(ctx, "a forum post has no body in the document store", "type", k.Type, "id", k.ID, "version", want[k])
			continue
		}
		out[k] = text{b.Markdown, b.HTML}
	}
	return out, nil
}

// current is the body of version of k, read in the transaction that holds k's row: for an edit
// that must carry the part it does not change (a topic's body when only its title changes) into
// the next version.
func (s *Store) current(ctx context.Context, tx pgx.Tx, k forum.Key, version int) (text, error) {
	got, err := s.bodiesOf(ctx, tx, map[forum.Key]int{k: version})
	return got[k], err
}

// storedRevisions are the versions of k kept in the store (or waiting in the outbox) below
// current, oldest first: the revisions written since the post's body moved there.
func (s *Store) storedRevisions(ctx context.Context, k forum.Key, current int) ([]forum.Revision, error) {
	if s.bodies == nil {
		return nil, nil
	}
	// The outbox first, as in fill: a version delivered meanwhile is then in the store.
	rows, err := s.pool.Query(ctx, `SELECT version, title, body, body_html, written_at FROM forum_body_outbox
		WHERE target_type = $1 AND target_id = $2 AND version < $3`, k.Type, k.ID, current)
	if err != nil {
		return nil, fmt.Errorf("listing queued revisions: %w", err)
	}
	byVersion := map[int]forum.Revision{}
	for rows.Next() {
		var v int
		var r forum.Revision
		if err := rows.Scan(&v, &r.Title, &r.Content, &r.ContentHTML, &r.WrittenAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing queued revisions: %w", err)
		}
		byVersion[v] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing queued revisions: %w", err)
	}
	history, err := s.bodies.History(ctx, []forum.Key{k})
	if err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	for _, h := range history[k] {
		if h.Version < current {
			byVersion[h.Version] = forum.Revision{Title: h.Title, Content: h.Markdown, ContentHTML: h.HTML, WrittenAt: h.WrittenAt}
		}
	}
	out := make([]forum.Revision, 0, len(byVersion))
	for v := 1; v < current; v++ {
		if r, ok := byVersion[v]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Healing defaults: a row younger than HealAge may still be on its way (its write's Put runs
// right after the commit); HealBatch rows are read at a time.
const (
	HealAge   = 5 * time.Second
	HealBatch = 100
)

// Heal Puts the bodies left in the outbox for longer than age and deletes their rows, oldest
// first, until none is left; a Put that fails leaves its row for the next run (the failures are
// returned together). It is safe in several processes at once: Put is idempotent by version.
func (s *Store) Heal(ctx context.Context, age time.Duration) (int, error) {
	if s.bodies == nil {
		return 0, nil
	}
	type queued struct {
		key     forum.Key
		version int
		body    forum.Body
		at      time.Time
	}
	var (
		healed   int
		failures []error
		after    queued
	)
	after.key = forum.Key{Type: "", ID: "00000000-0000-0000-0000-000000000000"}
	for {
		rows, err := s.pool.Query(ctx, `SELECT target_type, target_id::text, version, title, body, body_html, written_at, queued_at,
				CASE WHEN target_type = 'topic' THEN target_id ELSE (SELECT p.topic_id FROM forum_posts p WHERE p.id = target_id) END::text
			FROM forum_body_outbox WHERE queued_at < now() - make_interval(secs => $1)
			AND (queued_at, target_type, target_id, version) > ($2, $3, $4::uuid, $5)
			ORDER BY queued_at, target_type, target_id, version LIMIT $6`,
			age.Seconds(), after.at, after.key.Type, after.key.ID, after.version, HealBatch)
		if err != nil {
			return healed, fmt.Errorf("reading the forum body outbox: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (queued, error) {
			var q queued
			return q, row.Scan(&q.key.Type, &q.key.ID, &q.version, &q.body.Title, &q.body.Markdown, &q.body.HTML, &q.body.WrittenAt, &q.at, &q.key.Topic)
		})
		if err != nil {
			return healed, fmt.Errorf("reading the forum body outbox: %w", err)
		}
		for _, q := range batch {
			after = q
			if err := s.deliver(ctx, q.key, q.version, q.body); err != nil {
				failures = append(failures, fmt.Errorf("%s %s version %d: %w", q.key.Type, q.key.ID, q.version, err))
				continue
			}
			healed++
		}
		if len(batch) < HealBatch {
			return healed, errors.Join(failures...)
		}
	}
}

// RunHealer heals at once and then every interval until ctx ends.
func (s *Store) RunHealer(ctx context.Context, every, age time.Duration) error {
	return outbox.RunHealer(ctx, every, s.log, "forum bodies", func(ctx context.Context) (int, error) { return s.Heal(ctx, age) })
}
