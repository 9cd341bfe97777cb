// Package trendingdb is trending's PostgreSQL side: it scores items from the forum's and the use
// cases' signals in one scan of the longest window per kind, and keeps the rankings' snapshot.
package trendingdb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/trending"
)

// Store is the PostgreSQL side on a pool.
type Store struct{ pool *pgxpool.Pool }

// New returns the store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var (
	_ trending.Source    = (*Store)(nil)
	_ trending.Snapshots = (*Store)(nil)
)

// decay is w·2^(−age/h) for a signal at column at; the exponent is capped because PostgreSQL
// answers an underflow with an error, and 2^−60 is nothing beside any live signal. In float8:
// extract() answers numeric, whose power() cost 10 s a run over 100,000 use cases' signals.
func decay(at string, h time.Duration) string {
	return fmt.Sprintf("power(0.5::float8, least(extract(epoch FROM $1::timestamptz - %s)::float8 / %d, 60))", at, int64(h.Seconds()))
}

// scoreSQL builds a kind's query: signals of the longest window (sig), summed per item with
// decay for each window (s), joined to what is still shown, plus the views term per window.
func scoreSQL(signals, item, itemFrom, born string) string {
	longest := trending.Windows[len(trending.Windows)-1]
	var sums, terms []string
	for i, w := range trending.Windows {
		sums = append(sums, fmt.Sprintf("sum(w * %s) FILTER (WHERE at > $1::timestamptz - interval '%d seconds') AS s%d",
			decay("at", w.HalfLife), int64(w.Span.Seconds()), i))
		terms = append(terms, fmt.Sprintf("s.s%d + %g * ln(1 + views) * %s", i, trending.WeightViews, decay(born, w.HalfLife)))
	}
	return fmt.Sprintf(`WITH sig (id, at, w) AS (%s),
s AS (SELECT id, %s FROM sig WHERE at > $1::timestamptz - interval '%d seconds' AND at <= $1 GROUP BY id)
SELECT %s, %s FROM s JOIN %s`,
		signals, strings.Join(sums, ", "), int64(longest.Span.Seconds()), item, strings.Join(terms, ", "), itemFrom)
}

var (
	topicsSQL = scoreSQL(fmt.Sprintf(`
    SELECT id, created_at, %[1]g FROM forum_topics WHERE created_at > $2 AND deleted_at IS NULL AND hidden_by IS NULL
    UNION ALL SELECT topic_id, created_at, %[2]g FROM forum_posts WHERE created_at > $2 AND deleted_at IS NULL AND hidden_by IS NULL
    UNION ALL SELECT target_id, created_at, %[3]g FROM forum_likes WHERE target_type = 'topic' AND created_at > $2
    UNION ALL SELECT topic_id, created_at, %[4]g FROM forum_bookmarks WHERE created_at > $2`,
		trending.WeightPost, trending.WeightReply, trending.WeightLike, trending.WeightSave),
		`t.id, t.title, c.name_en, t.category_id, t.reply_count, t.like_count, t.view_count, 0`,
		`LATERAL (SELECT t.*, t.view_count AS views FROM forum_topics t WHERE t.id = s.id AND t.deleted_at IS NULL AND t.hidden_by IS NULL) t ON true
 JOIN forum_categories c ON c.id = t.category_id`, "t.created_at")
	useCasesSQL = scoreSQL(fmt.Sprintf(`
    SELECT id, published_at, %[1]g FROM use_cases WHERE published_at > $2 AND status = 'published' AND deleted_at IS NULL
    UNION ALL SELECT use_case_id, created_at, %[2]g FROM use_case_likes WHERE created_at > $2
    UNION ALL SELECT use_case_id, created_at, %[3]g FROM use_case_saves WHERE created_at > $2`,
		trending.WeightPost, trending.WeightLike, trending.WeightSave),
		`u.id, u.title, u.category, '', 0, u.like_count, u.view_count, u.save_count`,
		`LATERAL (SELECT u.*, u.view_count AS views FROM use_cases u WHERE u.id = s.id AND u.status = 'published' AND u.deleted_at IS NULL) u ON true`,
		"u.published_at")
)

// Scores reads every item of kind with a signal in the last 30 days before now.
func (s *Store) Scores(ctx context.Context, kind string, now time.Time) ([]trending.Scored, error) {
	sql, link := topicsSQL, "/forum/topics/"
	if kind == trending.KindUseCases {
		sql, link = useCasesSQL, "/use-cases/"
	}
	longest := trending.Windows[len(trending.Windows)-1]
	rows, err := s.pool.Query(ctx, sql, now, now.Add(-longest.Span))
	if err != nil {
		return nil, fmt.Errorf("trendingdb: scoring %s: %w", kind, err)
	}
	defer rows.Close()
	var out []trending.Scored
	for rows.Next() {
		var (
			it     trending.Scored
			scores = make([]*float64, len(trending.Windows))
			dest   = []any{&it.ID, &it.Title, &it.Category, &it.CategoryID, &it.Replies, &it.Likes, &it.Views, &it.Saves}
		)
		for i := range scores {
			dest = append(dest, &scores[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("trendingdb: scoring %s: %w", kind, err)
		}
		it.Kind, it.Link = kind, link+it.ID
		it.Scores = map[string]float64{}
		for i, sc := range scores {
			if sc != nil {
				it.Scores[trending.Windows[i].Name] = *sc
			}
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trendingdb: scoring %s: %w", kind, err)
	}
	return out, nil
}

// Save replaces the snapshot with rankings in one transaction.
func (s *Store) Save(ctx context.Context, rankings []trending.Ranking, at time.Time) error {
	var rows [][]any
	for _, r := range rankings {
		for i, it := range r.Items {
			b, err := json.Marshal(it)
			if err != nil {
				return fmt.Errorf("trendingdb: encoding an item: %w", err)
			}
			rows = append(rows, []any{r.Kind, r.Window, r.Category, i, b, at})
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM trending_snapshots`); err != nil {
			return fmt.Errorf("trendingdb: clearing the snapshot: %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"trending_snapshots"},
			[]string{"kind", "time_window", "category", "position", "item", "computed_at"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("trendingdb: writing the snapshot: %w", err)
		}
		return nil
	})
}

// Read is one ranking of the snapshot, best first.
func (s *Store) Read(ctx context.Context, kind, window, category string, limit int) ([]trending.Item, error) {
	rows, err := s.pool.Query(ctx, `SELECT item FROM trending_snapshots
 WHERE kind = $1 AND time_window = $2 AND category = $3 ORDER BY position LIMIT $4`, kind, window, category, limit)
	if err != nil {
		return nil, fmt.Errorf("trendingdb: reading the snapshot: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (trending.Item, error) {
		var it trending.Item
		err := row.Scan(&it)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("trendingdb: reading the snapshot: %w", err)
	}
	if items == nil {
		items = []trending.Item{}
	}
	return items, nil
}
