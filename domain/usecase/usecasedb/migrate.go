package usecasedb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
)

// Migration is what MigrateToDocuments and MigrateToPostgres did and found: the use cases walked,
// the documents written, and the count and checksum of the whole documents on each side, read
// back from the target after writing. The migration holds when Source equals Target.
type Migration struct {
	UseCases int // rows of use_cases walked (deleted ones included: their documents move too)
	Written  int // documents written to the target (0 on a repeated run)
	Source   Checksum
	Target   Checksum
	// Projections counts the rows whose use_cases.document is not what the target backend
	// expects there (the projection with documents, the whole document without).
	Projections int
	// Changed counts the rows a writer changed while the migration read them: run it again.
	Changed int
}

// OK reports whether the target holds what the source held.
func (m Migration) OK() bool {
	return m.Source == m.Target && m.Projections == 0 && m.Changed == 0
}

// Checksum is a count of documents and the SHA-256 of their ids and JSON encodings, in id order.
type Checksum struct {
	Count int
	SHA   string
}

type summer struct {
	n int
	h hash.Hash
}

func newSummer() *summer { return &summer{h: sha256.New()} }

func (s *summer) add(id string, c usecase.Content) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding use case %s: %w", id, err)
	}
	s.n++
	s.h.Write([]byte(id))
	s.h.Write([]byte{0})
	s.h.Write(b)
	s.h.Write([]byte{'\n'})
	return nil
}

func (s *summer) sum() Checksum { return Checksum{Count: s.n, SHA: hex.EncodeToString(s.h.Sum(nil))} }

// migrationRow is a use case as the migration reads it: its row's document and its outbox entry.
type migrationRow struct {
	id            string
	version       int
	doc           []byte
	queued        []byte // the outbox's content, nil when none waits
	queuedVersion int
}

// walk calls fn with the use cases in id order, batch at a time.
func walk(ctx context.Context, pool *pgxpool.Pool, batch int, fn func([]migrationRow) error) error {
	if batch < 1 {
		return errors.New("the batch must hold at least one use case")
	}
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := pool.Query(ctx, `SELECT u.id::text, u.version, u.document, x.content, coalesce(x.version, 0)
			FROM use_cases u LEFT JOIN use_case_document_outbox x ON x.use_case_id = u.id
			WHERE u.id > $1::uuid ORDER BY u.id LIMIT $2`, after, batch)
		if err != nil {
			return fmt.Errorf("reading use cases: %w", err)
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (migrationRow, error) {
			var r migrationRow
			return r, row.Scan(&r.id, &r.version, &r.doc, &r.queued, &r.queuedVersion)
		})
		if err != nil {
			return fmt.Errorf("reading use cases: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		after = page[len(page)-1].id
	}
}

func decodeContent(id string, b []byte) (usecase.Content, error) {
	var c usecase.Content
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decoding use case %s: %w", id, err)
	}
	return c, nil
}

func sameJSON(a, b usecase.Content) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}

// rewrite sets a use case's document to c unless a writer changed it since it was read (old):
// then the row counts as changed and the migration is to be run again.
func rewrite(ctx context.Context, pool *pgxpool.Pool, id string, old []byte, c usecase.Content) (changed bool, err error) {
	b, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("encoding use case %s: %w", id, err)
	}
	tag, err := pool.Exec(ctx, `UPDATE use_cases SET document = $2 WHERE id = $1 AND document = $3::jsonb AND document <> $2::jsonb`, id, b, old)
	if err != nil {
		return false, fmt.Errorf("rewriting the document of use case %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return false, nil
	}
	var same bool
	if err := pool.QueryRow(ctx, `SELECT document = $2::jsonb FROM use_cases WHERE id = $1`, id, b).Scan(&same); err != nil {
		return false, fmt.Errorf("checking the document of use case %s: %w", id, err)
	}
	return !same, nil
}

// MigrateToDocuments moves the use cases' whole documents from PostgreSQL into docs: each is Put
// at its version and its row's document becomes its projection. A row whose document is
// already a projection has moved before (an interrupted or repeated run): its document is read
// from docs, or, when docs has none, is that projection itself (a use case with nothing beyond
// it). The content waiting in the outbox, if any, is the newest and goes first. Put keeps the
// highest version, so the run is resumable and repeatable. Then every document is read back from
// docs and the checksums compared.
func MigrateToDocuments(ctx context.Context, pool *pgxpool.Pool, docs usecase.Documents, batch int) (Migration, error) {
	var (
		m   Migration
		src = newSummer()
	)
	err := walk(ctx, pool, batch, func(page []migrationRow) error {
		for _, r := range page {
			m.UseCases++
			row, err := decodeContent(r.id, r.doc)
			if err != nil {
				return err
			}
			full, version, put := row, r.version, true
			switch {
			case r.queued != nil:
				if full, err = decodeContent(r.id, r.queued); err != nil {
					return err
				}
				version = r.queuedVersion
			case sameJSON(usecase.Project(row), row):
				// Moved before, when docs holds a document this row is the projection of; else
				// the row is the whole document (one with nothing beyond its projection, or one
				// edited since on PostgreSQL alone).
				stored, v, err := docs.Get(ctx, r.id)
				switch {
				case err == nil && sameJSON(usecase.Project(stored), row):
					full, version, put = stored, v, false
				case err != nil && errs.CodeOf(err) != errs.NotFound:
					return fmt.Errorf("reading the document of use case %s: %w", r.id, err)
				}
			}
			if put {
				if err := docs.Put(ctx, r.id, version, full); err != nil {
					return fmt.Errorf("putting the document of use case %s: %w", r.id, err)
				}
				m.Written++
			}
			if r.queued != nil {
				if _, err := pool.Exec(ctx, `DELETE FROM use_case_document_outbox WHERE use_case_id = $1 AND version = $2`, r.id, r.queuedVersion); err != nil {
					return fmt.Errorf("emptying the outbox of use case %s: %w", r.id, err)
				}
			}
			changed, err := rewrite(ctx, pool, r.id, r.doc, usecase.Project(full))
			if err != nil {
				return err
			}
			if changed {
				m.Changed++
			}
			if err := src.add(r.id, full); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	m.Source = src.sum()
	// Read back: every use case's document from docs, and its row holding its projection.
	dst := newSummer()
	err = walk(ctx, pool, batch, func(page []migrationRow) error {
		ids := make([]string, len(page))
		for i, r := range page {
			ids[i] = r.id
		}
		got, err := docs.Many(ctx, ids)
		if err != nil {
			return fmt.Errorf("reading documents back: %w", err)
		}
		for _, r := range page {
			c, ok := got[r.id]
			if !ok {
				continue // counted missing by the checksum's count
			}
			row, err := decodeContent(r.id, r.doc)
			if err != nil {
				return err
			}
			if !sameJSON(row, usecase.Project(c)) {
				m.Projections++
			}
			if err := dst.add(r.id, c); err != nil {
				return err
			}
		}
		return nil
	})
	m.Target = dst.sum()
	return m, err
}

// MigrateToPostgres moves the use cases' whole documents from docs back into use_cases.document,
// the outbox's content first when one waits, for a process that runs without mongo.url again.
// A use case docs does not know keeps its row's document. The documents stay in docs (drop the
// collection once satisfied). Repeatable: a second run writes nothing. Then every row is read
// back and the checksums compared.
func MigrateToPostgres(ctx context.Context, pool *pgxpool.Pool, docs usecase.Documents, batch int) (Migration, error) {
	var (
		m   Migration
		src = newSummer()
	)
	err := walk(ctx, pool, batch, func(page []migrationRow) error {
		ids := make([]string, len(page))
		for i, r := range page {
			ids[i] = r.id
		}
		stored, err := docs.Many(ctx, ids)
		if err != nil {
			return fmt.Errorf("reading documents: %w", err)
		}
		for _, r := range page {
			m.UseCases++
			row, err := decodeContent(r.id, r.doc)
			if err != nil {
				return err
			}
			// The outbox's content is the newest; a row that is not a projection is whole
			// already (moved before, or never moved); a projection takes the document it is the
			// projection of. A document it is not the projection of is an older one, left in
			// docs by an earlier move back: the row was edited since.
			full := row
			if d, ok := stored[r.id]; ok && r.queued == nil && sameJSON(usecase.Project(row), row) && sameJSON(usecase.Project(d), row) {
				full = d
			}
			if r.queued != nil {
				if full, err = decodeContent(r.id, r.queued); err != nil {
					return err
				}
				// Delivered too, so that docs is as new as the rows it leaves behind.
				if err := docs.Put(ctx, r.id, r.queuedVersion, full); err != nil {
					return fmt.Errorf("putting the document of use case %s: %w", r.id, err)
				}
			}
			if !sameJSON(row, full) {
				changed, err := rewrite(ctx, pool, r.id, r.doc, full)
				if err != nil {
					return err
				}
				if changed {
					m.Changed++
				} else {
					m.Written++
				}
			}
			if r.queued != nil {
				if _, err := pool.Exec(ctx, `DELETE FROM use_case_document_outbox WHERE use_case_id = $1 AND version = $2`, r.id, r.queuedVersion); err != nil {
					return fmt.Errorf("emptying the outbox of use case %s: %w", r.id, err)
				}
			}
			if err := src.add(r.id, full); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	m.Source = src.sum()
	dst := newSummer()
	err = walk(ctx, pool, batch, func(page []migrationRow) error {
		for _, r := range page {
			c, err := decodeContent(r.id, r.doc)
			if err != nil {
				return err
			}
			if err := dst.add(r.id, c); err != nil {
				return err
			}
		}
		return nil
	})
	m.Target = dst.sum()
	return m, err
}
