// Package searchdb is the PostgreSQL side of the suggestions: titles of live topics and of
// published use cases containing what is being typed (trigram indexes of migration 00026).
package searchdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/search"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements search.Titles.
type Store struct{ pool *pgxpool.Pool }

// New returns the store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ search.Titles = (*Store)(nil)

// like is text as a LIKE pattern matching it anywhere, its own wildcards escaped.
func like(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(text) + "%"
}

// TopicTitles are the most recently active live topics whose title contains text.
func (s *Store) TopicTitles(ctx context.Context, text string, limit int) ([]search.Suggestion, error) {
	return s.titles(ctx, `SELECT id::text, title FROM forum_topics
WHERE deleted_at IS NULL AND lower(forum_normalize(title)) LIKE lower(forum_normalize($1))
ORDER BY last_activity_at DESC, id DESC LIMIT $2`, text, limit, "topic", "/forum/topics/")
}

// UseCaseTitles are the most recently published use cases whose title contains text.
func (s *Store) UseCaseTitles(ctx context.Context, text string, limit int) ([]search.Suggestion, error) {
	return s.titles(ctx, `SELECT id::text, title FROM use_cases
WHERE status = 'published' AND deleted_at IS NULL AND lower(forum_normalize(title)) LIKE lower(forum_normalize($1))
ORDER BY published_at DESC, id DESC LIMIT $2`, text, limit, "use-case", "/use-cases/")
}

func (s *Store) titles(ctx context.Context, sql, text string, limit int, typ, link string) ([]search.Suggestion, error) {
	rows, err := postgres.On(ctx, s.pool).Query(ctx, sql, like(text), limit)
	if err != nil {
		return nil, fmt.Errorf("searchdb: %s titles: %w", typ, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (search.Suggestion, error) {
		x := search.Suggestion{Type: typ}
		err := row.Scan(&x.ID, &x.Text)
		x.Link = link + x.ID
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("searchdb: %s titles: %w", typ, err)
	}
	return out, nil
}
