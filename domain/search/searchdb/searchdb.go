// Package searchdb is the PostgreSQL side of the search that no area answers: titles of live
// topics and of published use cases containing what is being typed (trigram indexes of
// migrations 00026 and 00028) for suggestions, and replies and organizations (migration 00030).
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

// likeEscape makes text literal inside a LIKE pattern.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// like is text as a LIKE pattern matching it anywhere, its own wildcards escaped.
func like(text string) string { return "%" + likeEscape.Replace(text) + "%" }

// TopicTitles are the most recently active live topics whose title contains text.
func (s *Store) TopicTitles(ctx context.Context, text string, limit int) ([]search.Suggestion, error) {
	return s.titles(ctx, topicTitles, text, limit, "topic", "/forum/topics/")
}

// UseCaseTitles are the most recently published use cases whose title contains text.
func (s *Store) UseCaseTitles(ctx context.Context, text string, limit int) ([]search.Suggestion, error) {
	return s.titles(ctx, useCaseTitles, text, limit, "use-case", "/use-cases/")
}

// A kind's two ways of finding titles. A common word is found among the most recent rows at
// once (walking them newest first); a rare one is not, and walking everything for it cost 300
// ms, so then the trigram index finds every match and they are sorted (BenchmarkSearch: each
// way alone was fast for one kind of word and 100-300 ms for the other).
type titleQueries struct{ recent, all string }

// recentRows is how many of the newest rows the first way reads: enough to hold a few matches
// of any word in one title of a hundred, and cheap to give up on for text in no title (2,000
// rows cost that text 16-18 ms p95 at 100,000 of each kind, 500 cost 10-11 ms; docs/perf.md).
const recentRows = 500

var (
	topicTitles = titleQueries{
		recent: `SELECT id::text, title FROM (SELECT id, title, title_key, last_activity_at FROM forum_topics
  WHERE deleted_at IS NULL ORDER BY last_activity_at DESC, id DESC LIMIT ` + fmt.Sprint(recentRows) + `) r
WHERE title_key LIKE lower(forum_normalize($1)) ORDER BY last_activity_at DESC, id DESC LIMIT $2`,
		all: `WITH m AS MATERIALIZED (SELECT id, title, last_activity_at FROM forum_topics
  WHERE deleted_at IS NULL AND title_key LIKE lower(forum_normalize($1)))
SELECT id::text, title FROM m ORDER BY last_activity_at DESC, id DESC LIMIT $2`,
	}
	useCaseTitles = titleQueries{
		recent: `SELECT id::text, title FROM (SELECT id, title, title_key, published_at FROM use_cases
  WHERE status = 'published' AND deleted_at IS NULL ORDER BY published_at DESC, id DESC LIMIT ` + fmt.Sprint(recentRows) + `) r
WHERE title_key LIKE lower(forum_normalize($1)) ORDER BY published_at DESC, id DESC LIMIT $2`,
		all: `WITH m AS MATERIALIZED (SELECT id, title, published_at FROM use_cases
  WHERE status = 'published' AND deleted_at IS NULL AND title_key LIKE lower(forum_normalize($1)))
SELECT id::text, title FROM m ORDER BY published_at DESC, id DESC LIMIT $2`,
	}
)

// titles asks the recent rows first and, when they hold fewer than limit matches, every row.
func (s *Store) titles(ctx context.Context, q titleQueries, text string, limit int, typ, link string) ([]search.Suggestion, error) {
	out, err := s.query(ctx, q.recent, text, limit, typ, link)
	if err != nil || len(out) >= limit {
		return out, err
	}
	return s.query(ctx, q.all, text, limit, typ, link)
}

func (s *Store) query(ctx context.Context, sql, text string, limit int, typ, link string) ([]search.Suggestion, error) {
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
