package usecasedb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// WithDocuments returns a store on pool that keeps the whole content of use cases in docs (MongoDB
// when configured) and only its projection (usecase.Project) in use_cases.document, for what the
// relational side reads: search, filters, cards, map points, facets, related.
//
// The two stores share no transaction, so a save crosses them through a transactional outbox
// (migration 00038): in the transaction that writes the row, the whole content is upserted into
// use_case_document_outbox at the row's new version; after the commit it is Put in docs and the
// outbox row of that version deleted. A failed Put (or a crash before it) leaves the row: Get
// reads the content from it meanwhile, and Heal Puts it later. A save that committed is never
// failed by docs: its answer is the relational one. log records the Puts left to Heal.
func WithDocuments(pool *pgxpool.Pool, docs usecase.Documents, log *slog.Logger) *Store {
	return &Store{pool: pool, docs: docs, log: log}
}

// relational is what use_cases.document holds of c: all of it without a Documents store, its
// projection with one.
func (s *Store) relational(c usecase.Content) usecase.Content {
	if s.docs == nil {
		return c
	}
	return usecase.Project(c)
}

// queue, in the transaction tx that wrote version of use case id, puts its content c in the
// outbox and arranges for it to be delivered once the transaction commits. A row of an older
// version is replaced: only the newest content needs to reach docs (Put keeps the highest
// version anyway), and the row lock the save holds orders the versions.
func (s *Store) queue(ctx context.Context, tx pgx.Tx, id string, version int, c usecase.Content) error {
	if s.docs == nil {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding use case %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO use_case_document_outbox (use_case_id, version, content, queued_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (use_case_id) DO UPDATE SET version = excluded.version, content = excluded.content, queued_at = excluded.queued_at
		WHERE use_case_document_outbox.version < excluded.version`, id, version, b); err != nil {
		return fmt.Errorf("queueing the document of use case %s: %w", id, err)
	}
	postgres.AfterCommit(ctx, func(ctx context.Context) {
		// The save has committed: its caller's cancellation no longer concerns the document.
		if err := s.deliver(context.WithoutCancel(ctx), id, version, c); err != nil {
			s.warn(ctx, "a use case's document waits in the outbox for the healer", "use_case", id, "version", version, "err", err)
		}
	})
	return nil
}

// deliver Puts version of id's content and then deletes its outbox row if it is still that
// version's (a newer save's row stays, for its own delivery).
func (s *Store) deliver(ctx context.Context, id string, version int, c usecase.Content) error {
	if err := s.docs.Put(ctx, id, version, c); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM use_case_document_outbox WHERE use_case_id = $1 AND version = $2`, id, version); err != nil {
		return fmt.Errorf("emptying the outbox of use case %s: %w", id, err)
	}
	return nil
}

func (s *Store) warn(ctx context.Context, msg string, args ...any) {
	if s.log != nil {
		s.log.WarnContext(ctx, msg, args...)
	}
}

// getDocument is Get with a Documents store: the row and its outbox content in one statement,
// and, when no content waits there, the document from docs. A use case docs does not know (one
// stored before the documents moved, whose `p2p docs migrate` has not run) shows its projection
// rather than failing.
func (s *Store) getDocument(ctx context.Context, viewer, id string) (usecase.UseCase, error) {
	var pending []byte
	u, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+`,
		(SELECT x.content FROM use_case_document_outbox x WHERE x.use_case_id = u.id)`+from+`
		WHERE u.id = $2 AND u.deleted_at IS NULL`, viewer, id), &pending)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, notFound
	}
	if err != nil {
		return u, fmt.Errorf("loading use case: %w", err)
	}
	if pending != nil {
		if err := json.Unmarshal(pending, &u.Content); err != nil {
			return u, fmt.Errorf("decoding the queued document of use case %s: %w", id, err)
		}
		return u, nil
	}
	c, _, err := s.docs.Get(ctx, id)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		s.warn(ctx, "a use case has no document: run `p2p docs migrate --to mongo`", "use_case", id)
		return u, nil
	case err != nil:
		return u, fmt.Errorf("loading the document of use case %s: %w", id, err)
	}
	u.Content = c
	return u, nil
}

// Healing defaults: a row younger than HealAge may still be on its way (its save's Put runs
// right after the commit); HealBatch rows are read at a time.
const (
	HealAge   = 5 * time.Second
	HealBatch = 100
)

// Heal Puts the contents left in the outbox for longer than age and deletes their rows, oldest
// first, until none is left; a Put that fails leaves its row for the next run (the failures are
// returned together). It is safe in several processes at once: Put is idempotent by version and
// a row is deleted only at the version that was Put.
func (s *Store) Heal(ctx context.Context, age time.Duration) (int, error) {
	if s.docs == nil {
		return 0, nil
	}
	var (
		healed   int
		failures []error
		afterAt  time.Time
		afterID  = "00000000-0000-0000-0000-000000000000"
	)
	for {
		rows, err := s.pool.Query(ctx, `SELECT use_case_id::text, version, content, queued_at FROM use_case_document_outbox
			WHERE queued_at < now() - make_interval(secs => $1) AND (queued_at, use_case_id) > ($2, $3::uuid)
			ORDER BY queued_at, use_case_id LIMIT $4`, age.Seconds(), afterAt, afterID, HealBatch)
		if err != nil {
			return healed, fmt.Errorf("reading the use case document outbox: %w", err)
		}
		type queued struct {
			id      string
			version int
			content []byte
			at      time.Time
		}
		batch, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (queued, error) {
			var q queued
			return q, row.Scan(&q.id, &q.version, &q.content, &q.at)
		})
		if err != nil {
			return healed, fmt.Errorf("reading the use case document outbox: %w", err)
		}
		for _, q := range batch {
			afterAt, afterID = q.at, q.id
			var c usecase.Content
			if err := json.Unmarshal(q.content, &c); err != nil {
				failures = append(failures, fmt.Errorf("decoding the queued document of use case %s: %w", q.id, err))
				continue
			}
			if err := s.deliver(ctx, q.id, q.version, c); err != nil {
				failures = append(failures, fmt.Errorf("use case %s version %d: %w", q.id, q.version, err))
				continue
			}
			healed++
		}
		if len(batch) < HealBatch {
			return healed, errors.Join(failures...)
		}
	}
}

// RunHealer heals at once and then every interval until ctx ends, logging what it healed and
// what it could not.
func (s *Store) RunHealer(ctx context.Context, every, age time.Duration) error {
	return outbox.RunHealer(ctx, every, s.log, "use case documents", func(ctx context.Context) (int, error) { return s.Heal(ctx, age) })
}
