// Package forumdb is the PostgreSQL store of the forum.
package forumdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements forum.Store.
type Store struct {
	pool *pgxpool.Pool
	// bodies keeps what posts say when a document store is configured (WithBodies); nil keeps
	// it on the rows.
	bodies forum.Bodies
	log    *slog.Logger
}

// New returns a store on pool that keeps posts' bodies on their rows.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ forum.Store = (*Store)(nil)

var (
	noTopic = errs.E(errs.NotFound, "no such topic")
	noReply = errs.E(errs.NotFound, "no such reply")
)

// author is the columns of a post's author, from users "u" and organizations "o".
const author = `u.id, u.first_name || ' ' || u.last_name,
	concat_ws(' - ', nullif(u.job_title, ''), coalesce(nullif(u.city, ''), o.city)), u.avatar_url, o.verified_at IS NOT NULL`

// Categories lists the categories in their order.
func (s *Store) Categories(ctx context.Context) ([]forum.Category, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name_en, name_ar, topic_count FROM forum_categories ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("listing categories: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (forum.Category, error) {
		var c forum.Category
		err := row.Scan(&c.ID, &c.Name, &c.NameAr, &c.TopicCount)
		c.Slug = c.ID
		return c, err
	})
}

// Category resolves a slug or a name.
func (s *Store) Category(ctx context.Context, ref string) (forum.Category, error) {
	var c forum.Category
	err := s.pool.QueryRow(ctx, `SELECT id, name_en, name_ar, topic_count FROM forum_categories
		WHERE id = lower($1) OR lower(name_en) = lower($1) OR name_ar = $1`, ref).Scan(&c.ID, &c.Name, &c.NameAr, &c.TopicCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errs.E(errs.NotFound, "no such category")
	}
	if err != nil {
		return c, fmt.Errorf("loading category: %w", err)
	}
	c.Slug = c.ID
	return c, nil
}

// People finds active users by the start of their first, last or full name.
func (s *Store) People(ctx context.Context, prefix string, limit int) ([]forum.Candidate, error) {
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(prefix)) + "%"
	rows, err := s.pool.Query(ctx, `SELECT `+author+` FROM users u JOIN organizations o ON o.id = u.organization_id
		WHERE u.is_active AND u.deleted_at IS NULL
		  AND (lower(u.first_name) LIKE $1 OR lower(u.last_name) LIKE $1 OR lower(u.first_name || ' ' || u.last_name) LIKE $1)
		ORDER BY u.first_name, u.last_name, u.id LIMIT $2`, like, limit)
	if err != nil {
		return nil, fmt.Errorf("finding people: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (forum.Candidate, error) {
		var c forum.Candidate
		err := row.Scan(&c.ID, &c.Name, &c.Title, &c.Avatar, &c.IsVerified)
		return c, err
	})
}

// AddViews adds counted views to topics (deleted or unknown ones are skipped).
func (s *Store) AddViews(ctx context.Context, views map[string]int) error {
	ids, counts := make([]string, 0, len(views)), make([]int32, 0, len(views))
	for id, n := range views {
		ids, counts = append(ids, id), append(counts, int32(n))
	}
	if _, err := s.pool.Exec(ctx, `UPDATE forum_topics t SET view_count = t.view_count + v.n
		FROM unnest($1::text[]::uuid[], $2::int[]) v(id, n) WHERE t.id = v.id`, ids, counts); err != nil {
		return fmt.Errorf("counting views: %w", err)
	}
	return nil
}

// Stats counts live topics and replies, members who posted since, best answers, and ranks
// users by reputation (likes their live posts received, their replies chosen as best answers).
func (s *Store) Stats(ctx context.Context, since time.Time, top int) (forum.Stats, error) {
	var st forum.Stats
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM forum_topics WHERE deleted_at IS NULL),
		(SELECT count(*) FROM forum_posts r JOIN forum_topics t ON t.id = r.topic_id WHERE r.deleted_at IS NULL AND t.deleted_at IS NULL),
		(SELECT count(DISTINCT author_id) FROM (
			SELECT author_id FROM forum_topics WHERE deleted_at IS NULL AND created_at >= $1
			UNION ALL SELECT author_id FROM forum_posts WHERE deleted_at IS NULL AND created_at >= $1) a),
		(SELECT count(*) FROM forum_topics WHERE deleted_at IS NULL AND best_answer_id IS NOT NULL)`, since).Scan(
		&st.Topics, &st.Replies, &st.ActiveMembers, &st.BestAnswers)
	if err != nil {
		return st, fmt.Errorf("counting the forum: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		WITH points AS (
			SELECT author_id, like_count * $1 AS p FROM forum_topics WHERE deleted_at IS NULL
			UNION ALL
			SELECT r.author_id, r.like_count * $1 + CASE WHEN t.best_answer_id = r.id THEN $2 ELSE 0 END
				+ CASE WHEN r.like_count > 0 THEN $4 ELSE 0 END
			FROM forum_posts r JOIN forum_topics t ON t.id = r.topic_id WHERE r.deleted_at IS NULL AND t.deleted_at IS NULL
		), ranked AS (
			SELECT author_id, sum(p)::int AS points FROM points GROUP BY author_id HAVING sum(p) > 0
			ORDER BY points DESC, author_id LIMIT $3
		)
		SELECT u.id, u.first_name || ' ' || u.last_name,
		       concat_ws(' - ', nullif(u.job_title, ''), coalesce(nullif(u.city, ''), o.city)), u.avatar_url,
		       o.verified_at IS NOT NULL, ranked.points
		FROM ranked JOIN users u ON u.id = ranked.author_id JOIN organizations o ON o.id = u.organization_id
		ORDER BY ranked.points DESC, u.id`, forum.PointsPerLike, forum.PointsPerBestAnswer, top, forum.PointsPerHelpfulReply)
	if err != nil {
		return st, fmt.Errorf("ranking contributors: %w", err)
	}
	st.TopContributors, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (forum.Contributor, error) {
		var c forum.Contributor
		err := row.Scan(&c.ID, &c.Name, &c.Title, &c.Avatar, &c.IsVerified, &c.Points)
		return c, err
	})
	if st.TopContributors == nil {
		st.TopContributors = []forum.Contributor{}
	}
	return st, err
}

// CreateTopic stores t and counts it in its category.
func (s *Store) CreateTopic(ctx context.Context, t forum.StoredTopic) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		md, html := &t.Body.Markdown, &t.Body.HTML
		if s.bodies != nil {
			md, html = nil, nil // in the store, queued below
		}
		if _, err := tx.Exec(ctx, `INSERT INTO forum_topics (id, category_id, author_id, kind, title, body, body_html,
			excerpt, body_text, tags, created_at, updated_at, last_activity_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)`,
			t.ID, t.CategoryID, t.AuthorID, t.Kind, t.Title, md, html, t.Body.Excerpt, t.Body.Text,
			tags(t.Tags), t.At); err != nil {
			return fmt.Errorf("storing topic: %w", err)
		}
		if s.bodies != nil {
			title := t.Title
			if err := s.queue(ctx, tx, forum.TopicKey(t.ID), 1,
				forum.Body{Title: &title, Markdown: t.Body.Markdown, HTML: t.Body.HTML, WrittenAt: t.At}); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_categories SET topic_count = topic_count + 1 WHERE id = $1`, t.CategoryID); err != nil {
			return fmt.Errorf("counting topic: %w", err)
		}
		return outbox.AddEvents(ctx, tx, forum.TopicPosted{TopicID: t.ID, Title: t.Title, AuthorID: t.AuthorID, Kind: t.Kind,
			Excerpt: t.Body.Excerpt, Mentioned: t.Mentioned})
	})
}

func tags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

// topicColumns are a topic's columns; $1 is the viewer (empty for nobody's view).
const topicColumns = `t.id, t.title, t.kind, c.name_en, t.category_id, t.tags, t.excerpt, t.reply_count, t.view_count,
	t.like_count, t.is_pinned, t.is_locked, t.best_answer_id, t.created_at, t.updated_at, t.edited_at, t.last_activity_at,
	EXISTS (SELECT 1 FROM forum_likes l WHERE l.target_type = 'topic' AND l.target_id = t.id AND l.user_id = nullif($1::text, '')::uuid),
	EXISTS (SELECT 1 FROM forum_bookmarks b WHERE b.topic_id = t.id AND b.user_id = nullif($1::text, '')::uuid), ` + author

const topicFrom = ` FROM forum_topics t JOIN forum_categories c ON c.id = t.category_id
	JOIN users u ON u.id = t.author_id JOIN organizations o ON o.id = u.organization_id`

func scanTopic(row pgx.Row, viewer string, extra ...any) (forum.Topic, error) {
	var t forum.Topic
	err := row.Scan(append([]any{&t.ID, &t.Title, &t.Kind, &t.Category, &t.CategoryID, &t.Tags, &t.Excerpt, &t.Replies,
		&t.Views, &t.Likes, &t.IsPinned, &t.IsLocked, &t.BestAnswerID, &t.CreatedAt, &t.UpdatedAt, &t.EditedAt,
		&t.LastActivityAt, &t.LikedByMe, &t.BookmarkedByMe, &t.Author.ID, &t.Author.Name, &t.Author.Title,
		&t.Author.Avatar, &t.Author.IsVerified}, extra...)...)
	t.HasBestAnswer = t.BestAnswerID != nil
	t.IsMine = t.Author.ID == viewer
	if t.Tags == nil {
		t.Tags = []string{}
	}
	return t, err
}

// The hot score is the column hot_score (migration 00013): log10(2 × likes + replies + 1) plus
// the creation time in units of 12.5 hours. It does not change with the clock, so it is
// generated from the counters by PostgreSQL, indexed with the id (and with the category), and a
// page of the hot list is a walk of forum_topics_hot, as every other sort. It replaces a decayed
// score computed as of the request over the topics active in 14 days (4,000 computations and a
// sort for every page, 32–40 ms at 100,000 topics): older topics sink by themselves, so no window
// is needed.

// Topics lists topics in q's order after the cursor, with their hot scores.
func (s *Store) Topics(ctx context.Context, viewer string, q forum.Query, after *forum.Cursor, limit int) ([]forum.Topic, []float64, error) {
	args := []any{viewer}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := filters(q, arg)
	score := "0::float8"
	var order string
	switch q.Sort {
	case forum.SortNewest, forum.SortUnanswered:
		order = "t.created_at DESC, t.id DESC"
		if q.Sort == forum.SortUnanswered {
			where = append(where, "t.kind = 'question' AND t.reply_count = 0")
		}
		if after != nil {
			where = append(where, "(t.created_at, t.id) < ("+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	case forum.SortLiked, forum.SortViewed:
		col := "t.like_count"
		if q.Sort == forum.SortViewed {
			col = "t.view_count"
		}
		order = col + " DESC, t.created_at DESC, t.id DESC"
		if after != nil {
			where = append(where, "("+col+", t.created_at, t.id) < ("+arg(after.Count)+", "+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	case forum.SortHot:
		score = "t.hot_score"
		order = "t.hot_score DESC, t.id DESC"
		if after != nil {
			where = append(where, "(t.hot_score, t.id) < ("+arg(after.Score)+"::float8, "+arg(after.ID)+"::uuid)")
		}
	default:
		order = "t.is_pinned DESC, t.last_activity_at DESC, t.id DESC"
		if after != nil {
			where = append(where, "(t.is_pinned, t.last_activity_at, t.id) < ("+arg(after.Pin)+", "+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	}
	sql := "SELECT " + topicColumns + ", " + score + topicFrom + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + order + " LIMIT " + arg(limit)
	if q.Tag != "" {
		// A common tag is found fastest by walking the sort's index, a rare one through the tags'
		// GIN index: planned with the tag each time, not with a cached generic plan.
		args = append([]any{pgx.QueryExecModeDescribeExec}, args...)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("listing topics: %w", err)
	}
	defer rows.Close()
	var out []forum.Topic
	var scores []float64
	for rows.Next() {
		var sc float64
		t, err := scanTopic(rows, viewer, &sc)
		if err != nil {
			return nil, nil, fmt.Errorf("listing topics: %w", err)
		}
		out, scores = append(out, t), append(scores, sc)
	}
	return out, scores, rows.Err()
}

// CountTopics counts the topics q lists: exactly from the categories' counters when q filters by
// nothing else (the common case, and free), else by counting rows up to upTo (the walk stops
// there, as a page's does).
func (s *Store) CountTopics(ctx context.Context, viewer string, q forum.Query, upTo int) (int, bool, error) {
	var n int
	if q.Tag == "" && q.AuthorID == "" && q.Answered == nil && !q.Bookmarked && q.Sort != forum.SortUnanswered {
		err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(topic_count), 0) FROM forum_categories WHERE $1 = '' OR id = $1`,
			q.Category).Scan(&n)
		if err != nil {
			return 0, false, fmt.Errorf("counting topics: %w", err)
		}
		return n, true, nil
	}
	args := []any{viewer}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := filters(q, arg)
	if q.Sort == forum.SortUnanswered {
		where = append(where, "t.kind = 'question' AND t.reply_count = 0")
	}
	// $1 (the viewer) is selected so that it has a type when no filter uses it. Unordered, so that
	// a bitmap of an index's matches (a tag's GIN entries) is read only up to upTo rows; which
	// index serves depends on the values, so the statement is planned with them each time (never
	// a cached generic plan).
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT $1::text FROM forum_topics t WHERE `+strings.Join(where, " AND ")+
		` LIMIT `+arg(upTo+1)+`) c`, append([]any{pgx.QueryExecModeDescribeExec}, args...)...).Scan(&n)
	if err != nil {
		return 0, false, fmt.Errorf("counting topics: %w", err)
	}
	if n > upTo {
		return upTo, false, nil
	}
	return n, true, nil
}

// filters are the conditions of q's filters on topics "t"; arg adds a parameter ($1 is the viewer).
func filters(q forum.Query, arg func(any) string) []string {
	where := []string{"t.deleted_at IS NULL"}
	if q.Category != "" {
		where = append(where, "t.category_id = "+arg(q.Category))
	}
	if q.Tag != "" {
		where = append(where, "t.tags @> ARRAY["+arg(strings.ToLower(q.Tag))+"::text]")
	}
	if q.AuthorID != "" {
		where = append(where, "t.author_id = "+arg(q.AuthorID))
	}
	if q.Answered != nil {
		if *q.Answered {
			where = append(where, "t.kind = 'question' AND t.best_answer_id IS NOT NULL")
		} else {
			where = append(where, "t.kind = 'question' AND t.best_answer_id IS NULL")
		}
	}
	if q.Bookmarked {
		where = append(where, "EXISTS (SELECT 1 FROM forum_bookmarks b WHERE b.topic_id = t.id AND b.user_id = nullif($1::text, '')::uuid)")
	}
	return where
}

// snippet is how a search shows the body around its matches.
const snippet = `StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=25, MinWords=8`

// searchCandidates bounds how many matches a search ranks: the most recently active ones.
//
// Ranking is what a common word costs: "vibration" matches 30,000 of 100,000 topics, and fetching
// each of them and calling ts_rank on it took 180–260 ms. The matches are first narrowed to the
// searchCandidates most recently active (last_activity_at) and only those are ranked. For a common
// word PostgreSQL walks forum_topics_recent (or forum_topics_category) newest first and tests
// each topic until it has enough — a few thousand rows; for a rarer one it reads every match
// through the GIN index and keeps the newest. The plan depends on how common the words are, so the
// statement is planned with its values each time (QueryExecModeDescribeExec: an unnamed
// statement, never a cached generic plan, which would read every match).
//
// The trade-off: a search matching more than searchCandidates topics ranks, and pages through,
// only the most recently active of them; an older topic, however relevant, needs more specific
// words to be found. Paging stays consistent unless the set of candidates changes between pages
// (a topic becomes active), as any list sorted by activity.
const searchCandidates = 1000

// Search matches topics in English and Arabic, best first, with marked snippets of their title
// and body. The text is HTML-escaped before it is marked, so only <mark> is markup. Each snippet
// is made in both languages (an English one marks "pumps" for "pump", an Arabic one works on the
// unified spelling) and the one with marks is kept: forum_marked(en, ar) in the migration.
func (s *Store) Search(ctx context.Context, viewer, text string, q forum.Query, after *forum.SearchCursor, limit int) ([]forum.Hit, []float32, error) {
	args := []any{viewer, text}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := append(filters(q, arg), "t.search @@ q.query")
	page := ""
	if after != nil {
		page = "WHERE (ts_rank(cand.search, q.query), cand.id) < (" + arg(after.Rank) + "::real, " + arg(after.ID) + "::uuid)"
	}
	// The query is inlined (NOT MATERIALIZED) so that the planner sees its words and can tell a
	// common one from a rare one. The page is chosen before joining and marking: snippets of
	// every candidate would cost more than the ranking. The Arabic snippet is made only when the
	// English one marks nothing (forum_marked would keep the English one anyway).
	rows, err := s.pool.Query(ctx, `
		WITH q AS NOT MATERIALIZED (
			SELECT websearch_to_tsquery('english', $2) || websearch_to_tsquery('arabic', forum_normalize($2)) AS query),
		cand AS (
			SELECT t.id, t.search FROM q, forum_topics t
			WHERE `+strings.Join(where, " AND ")+`
			ORDER BY t.last_activity_at DESC, t.id DESC LIMIT `+strconv.Itoa(searchCandidates)+`
		),
		hits AS (
			SELECT cand.id, ts_rank(cand.search, q.query)::real AS rank FROM q, cand `+page+`
			ORDER BY rank DESC, cand.id DESC LIMIT `+arg(limit)+`
		)
		SELECT `+topicColumns+`, hits.rank,
			CASE WHEN strpos(h.title_en, '<mark>') > 0 THEN h.title_en ELSE forum_marked(h.title_en,
				ts_headline('arabic', forum_normalize(forum_escape_html(t.title)), q.query, 'StartSel=<mark>, StopSel=</mark>, HighlightAll=true')) END,
			CASE WHEN strpos(h.body_en, '<mark>') > 0 THEN h.body_en ELSE forum_marked(h.body_en,
				ts_headline('arabic', forum_normalize(forum_escape_html(t.body_text)), q.query, '`+snippet+`')) END
		FROM q, hits JOIN `+strings.TrimPrefix(topicFrom, " FROM ")+` ON true
		CROSS JOIN LATERAL (SELECT
			ts_headline('english', forum_escape_html(t.title), q.query, 'StartSel=<mark>, StopSel=</mark>, HighlightAll=true') AS title_en,
			ts_headline('english', forum_escape_html(t.body_text), q.query, '`+snippet+`') AS body_en
			OFFSET 0) h -- a fence: each headline made once, not once per use
		WHERE t.id = hits.id
		ORDER BY hits.rank DESC, t.id DESC`, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("searching topics: %w", err)
	}
	defer rows.Close()
	var hits []forum.Hit
	var ranks []float32
	for rows.Next() {
		var h forum.Hit
		var rank float32
		h.Topic, err = scanTopic(rows, viewer, &rank, &h.Title, &h.Highlight)
		if err != nil {
			return nil, nil, fmt.Errorf("searching topics: %w", err)
		}
		hits, ranks = append(hits, h), append(ranks, rank)
	}
	return hits, ranks, rows.Err()
}

// Topic loads one topic with its body.
func (s *Store) Topic(ctx context.Context, viewer, id string) (forum.Topic, error) {
	var body, html *string
	var version int
	db := postgres.On(ctx, s.pool)
	t, err := scanTopic(db.QueryRow(ctx, "SELECT "+topicColumns+", t.body, t.body_html, t.body_version"+topicFrom+
		" WHERE t.id = $2 AND t.deleted_at IS NULL", viewer, id), viewer, &body, &html, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, noTopic
	}
	if err != nil {
		return t, fmt.Errorf("loading topic: %w", err)
	}
	if body != nil {
		t.Content, t.ContentHTML = *body, *html
		return t, nil
	}
	k := forum.TopicKey(t.ID)
	got, err := s.bodiesOf(ctx, db, map[forum.Key]int{k: version})
	if err != nil {
		return t, err
	}
	t.Content, t.ContentHTML = got[k].markdown, got[k].html
	return t, nil
}

// UpdateTopic changes a topic; a new title or body marks it edited.
func (s *Store) UpdateTopic(ctx context.Context, id string, up forum.StoredTopicUpdate) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var (
			old, oldTitle    string
			oldBody, oldHTML *string
			version          int
		)
		if err := tx.QueryRow(ctx, `SELECT category_id, title, body, body_html, body_version FROM forum_topics
			WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).Scan(&old, &oldTitle, &oldBody, &oldHTML, &version); errors.Is(err, pgx.ErrNoRows) {
			return noTopic
		} else if err != nil {
			return fmt.Errorf("loading topic: %w", err)
		}
		// A new title or body is a new version (the trigger of 00014 keeps the one before on the
		// row's side; the store keeps every version it was given).
		edited := up.Title != nil || up.Body != nil
		k := forum.TopicKey(id)
		var cur text
		switch {
		case oldBody != nil:
			cur = text{*oldBody, *oldHTML}
		case edited:
			var err error
			if cur, err = s.current(ctx, tx, k, version); err != nil {
				return err
			}
		}
		title, next := oldTitle, cur
		if up.Title != nil {
			title = *up.Title
		}
		var md, html, excerpt, plain *string
		if up.Body != nil {
			next = text{up.Body.Markdown, up.Body.HTML}
			md, html, excerpt, plain = &up.Body.Markdown, &up.Body.HTML, &up.Body.Excerpt, &up.Body.Text
		}
		changed := title != oldTitle || next.markdown != cur.markdown
		if changed {
			version++
		}
		toStore := s.bodies != nil && changed
		if s.bodies != nil {
			md, html = nil, nil // the body stays where it is unless it changes, and then goes to the store
		}
		var tagList any
		if up.Tags != nil {
			tagList = up.Tags
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_topics SET title = coalesce($2, title),
			body = CASE WHEN $11 THEN NULL ELSE coalesce($3, body) END,
			body_html = CASE WHEN $11 THEN NULL ELSE coalesce($4, body_html) END,
			excerpt = coalesce($5, excerpt), category_id = coalesce($6, category_id),
			tags = coalesce($7::text[], tags), updated_at = $8, edited_at = CASE WHEN $9 THEN $8 ELSE edited_at END,
			body_text = coalesce($10, body_text), body_version = $12
			WHERE id = $1`, id, up.Title, md, html, excerpt, up.CategoryID, tagList, up.At, edited, plain, toStore, version); err != nil {
			return fmt.Errorf("updating topic: %w", err)
		}
		if toStore {
			if err := s.queue(ctx, tx, k, version, forum.Body{Title: &title, Markdown: next.markdown, HTML: next.html, WrittenAt: up.At}); err != nil {
				return err
			}
		}
		if up.CategoryID != nil && *up.CategoryID != old {
			if _, err := tx.Exec(ctx, `UPDATE forum_categories SET topic_count = topic_count + CASE WHEN id = $1 THEN -1 ELSE 1 END
				WHERE id IN ($1, $2)`, old, *up.CategoryID); err != nil {
				return fmt.Errorf("moving topic: %w", err)
			}
		}
		return nil
	})
}

// DeleteTopic takes a topic out of every list.
func (s *Store) DeleteTopic(ctx context.Context, id string, at time.Time) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		return removeTopic(ctx, tx, id, at, nil)
	})
}

// replyColumns are a reply's columns; $1 is the viewer.
const replyColumns = `r.id, r.topic_id, r.parent_id, r.depth, r.body, r.body_html, r.body_version, r.like_count, r.reply_count,
	r.created_at, r.updated_at, r.edited_at, r.deleted_at IS NOT NULL, t.best_answer_id IS NOT DISTINCT FROM r.id,
	EXISTS (SELECT 1 FROM forum_likes l WHERE l.target_type = 'post' AND l.target_id = r.id AND l.user_id = nullif($1::text, '')::uuid), ` + author

const replyFrom = ` FROM forum_posts r JOIN forum_topics t ON t.id = r.topic_id
	JOIN users u ON u.id = r.author_id JOIN organizations o ON o.id = u.organization_id`

// visible keeps live replies and the tombstones that still have replies.
const visible = ` AND (r.deleted_at IS NULL OR r.reply_count > 0) AND t.deleted_at IS NULL`

// scanReply reads a reply; one whose body is in the store is added to missing, with its version,
// for fillReplies.
func scanReply(row pgx.Row, viewer string, missing map[forum.Key]int) (forum.Reply, error) {
	var r forum.Reply
	var body, html *string
	var version int
	err := row.Scan(&r.ID, &r.TopicID, &r.ParentID, &r.Depth, &body, &html, &version, &r.Likes, &r.ReplyCount,
		&r.CreatedAt, &r.UpdatedAt, &r.EditedAt, &r.IsDeleted, &r.IsBestAnswer, &r.LikedByMe, &r.Author.ID, &r.Author.Name,
		&r.Author.Title, &r.Author.Avatar, &r.Author.IsVerified)
	r.Replies = []forum.Reply{}
	switch {
	case r.IsDeleted:
		// A tombstone: the thread reads on, with nothing of what was said or by whom.
		r.Author, r.LikedByMe, r.IsBestAnswer = forum.Author{}, false, false
	case body != nil:
		r.Content, r.ContentHTML = *body, *html
	case err == nil:
		missing[forum.ReplyKey(r.ID, r.TopicID)] = version
	}
	r.IsMine = !r.IsDeleted && r.Author.ID == viewer
	return r, err
}

// fillReplies gives the replies (and their nested ones) whose bodies are in the store, as
// scanReply listed them in missing, their bodies.
func (s *Store) fillReplies(ctx context.Context, db postgres.DB, missing map[forum.Key]int, replies []forum.Reply) error {
	if len(missing) == 0 {
		return nil
	}
	got, err := s.bodiesOf(ctx, db, missing)
	if err != nil {
		return err
	}
	var walk func([]forum.Reply)
	walk = func(rs []forum.Reply) {
		for i := range rs {
			if b, ok := got[forum.ReplyKey(rs[i].ID, rs[i].TopicID)]; ok {
				rs[i].Content, rs[i].ContentHTML = b.markdown, b.html
			}
			walk(rs[i].Replies)
		}
	}
	walk(replies)
	return nil
}

// Replies lists the replies to parentID (the topic itself when empty), each with its first
// nested replies.
func (s *Store) Replies(ctx context.Context, viewer, topicID, parentID string, after *forum.Cursor, limit, nested int) ([]forum.Reply, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM forum_topics WHERE id = $1 AND deleted_at IS NULL)`,
		topicID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("loading topic: %w", err)
	}
	if !exists {
		return nil, noTopic
	}
	args := []any{viewer, topicID, limit}
	where := " WHERE r.topic_id = $2 AND r.parent_id IS NULL"
	if parentID != "" {
		args = append(args, parentID)
		where = " WHERE r.topic_id = $2 AND r.parent_id = $4"
	}
	if after != nil {
		args = append(args, after.At, after.ID)
		where += fmt.Sprintf(" AND (r.created_at, r.id) > ($%d, $%d::uuid)", len(args)-1, len(args))
	}
	rows, err := s.pool.Query(ctx, "SELECT "+replyColumns+replyFrom+where+visible+" ORDER BY r.created_at, r.id LIMIT $3", args...)
	if err != nil {
		return nil, fmt.Errorf("listing replies: %w", err)
	}
	missing := map[forum.Key]int{}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (forum.Reply, error) { return scanReply(row, viewer, missing) })
	if err != nil || len(out) == 0 {
		return out, err
	}
	if nested == 0 {
		return out, s.fillReplies(ctx, s.pool, missing, out)
	}
	parents := make([]string, len(out))
	index := map[string]int{}
	for i, r := range out {
		parents[i], index[r.ID] = r.ID, i
	}
	rows, err = s.pool.Query(ctx, `SELECT `+strings.ReplaceAll(replyColumns, "$1", "$3")+` FROM unnest($1::text[]::uuid[]) p(id)
		CROSS JOIN LATERAL (SELECT r.* FROM forum_posts r WHERE r.parent_id = p.id AND (r.deleted_at IS NULL OR r.reply_count > 0)
			ORDER BY r.created_at, r.id LIMIT $2) r
		JOIN forum_topics t ON t.id = r.topic_id JOIN users u ON u.id = r.author_id JOIN organizations o ON o.id = u.organization_id
		ORDER BY r.created_at, r.id`, parents, nested, viewer)
	if err != nil {
		return nil, fmt.Errorf("listing nested replies: %w", err)
	}
	children, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (forum.Reply, error) { return scanReply(row, viewer, missing) })
	if err != nil {
		return nil, err
	}
	for _, c := range children {
		i := index[*c.ParentID]
		out[i].Replies = append(out[i].Replies, c)
	}
	return out, s.fillReplies(ctx, s.pool, missing, out)
}

// Reply loads one reply (a deleted one as its tombstone).
func (s *Store) Reply(ctx context.Context, viewer, id string) (forum.Reply, error) {
	db, missing := postgres.On(ctx, s.pool), map[forum.Key]int{}
	r, err := scanReply(db.QueryRow(ctx, "SELECT "+replyColumns+replyFrom+
		" WHERE r.id = $2 AND t.deleted_at IS NULL", viewer, id), viewer, missing)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, noReply
	}
	if err != nil {
		return r, fmt.Errorf("loading reply: %w", err)
	}
	one := []forum.Reply{r}
	err = s.fillReplies(ctx, db, missing, one)
	return one[0], err
}

// CreateReply stores r and counts it on its topic and parent.
func (s *Store) CreateReply(ctx context.Context, r forum.StoredReply) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var locked bool
		ev := forum.ReplyPosted{ReplyID: r.ID, TopicID: r.TopicID, AuthorID: r.AuthorID, Excerpt: r.Body.Excerpt,
			Mentioned: r.Mentioned}
		err := tx.QueryRow(ctx, `SELECT is_locked, title, author_id FROM forum_topics WHERE id = $1 AND deleted_at IS NULL
			FOR UPDATE`, r.TopicID).Scan(&locked, &ev.TopicTitle, &ev.TopicAuthorID)
		if errors.Is(err, pgx.ErrNoRows) {
			return noTopic
		}
		if err != nil {
			return fmt.Errorf("loading topic: %w", err)
		}
		if locked {
			return errs.E(errs.Conflict, "the topic is locked")
		}
		depth := 0
		if r.ParentID != nil {
			err := tx.QueryRow(ctx, `SELECT depth + 1, author_id FROM forum_posts WHERE id = $1 AND topic_id = $2
				AND deleted_at IS NULL FOR UPDATE`, *r.ParentID, r.TopicID).Scan(&depth, &ev.ParentAuthorID)
			if errors.Is(err, pgx.ErrNoRows) {
				return errs.Fields(errs.FieldError{Field: "parentId", Message: "is not a reply of this topic"})
			}
			if err != nil {
				return fmt.Errorf("loading parent reply: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE forum_posts SET reply_count = reply_count + 1 WHERE id = $1`, *r.ParentID); err != nil {
				return fmt.Errorf("counting reply: %w", err)
			}
		}
		// With a store, the row keeps the text search reads, taken from the HTML as 00030 does.
		if _, err := tx.Exec(ctx, `INSERT INTO forum_posts (id, topic_id, parent_id, author_id, depth, body, body_html,
			body_text, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, CASE WHEN $9 THEN NULL ELSE $6 END, CASE WHEN $9 THEN NULL ELSE $7 END,
				CASE WHEN $9 THEN forum_html_text($7) END, $8, $8)`,
			r.ID, r.TopicID, r.ParentID, r.AuthorID, depth, r.Body.Markdown, r.Body.HTML, r.At, s.bodies != nil); err != nil {
			return fmt.Errorf("storing reply: %w", err)
		}
		if s.bodies != nil {
			if err := s.queue(ctx, tx, forum.ReplyKey(r.ID, r.TopicID), 1,
				forum.Body{Markdown: r.Body.Markdown, HTML: r.Body.HTML, WrittenAt: r.At}); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_topics SET reply_count = reply_count + 1, last_activity_at = $2 WHERE id = $1`,
			r.TopicID, r.At); err != nil {
			return fmt.Errorf("counting reply: %w", err)
		}
		return outbox.AddEvents(ctx, tx, ev)
	})
}

// UpdateReply replaces a reply's body and marks it edited.
func (s *Store) UpdateReply(ctx context.Context, id string, body forum.Rendered, at time.Time) error {
	if s.bodies == nil {
		tag, err := s.pool.Exec(ctx, `UPDATE forum_posts SET body = $2, body_html = $3, updated_at = $4, edited_at = $4,
			body_text = NULL, body_version = body_version + CASE WHEN body IS DISTINCT FROM $2 THEN 1 ELSE 0 END
			WHERE id = $1 AND deleted_at IS NULL`, id, body.Markdown, body.HTML, at)
		if err != nil {
			return fmt.Errorf("updating reply: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return noReply
		}
		return nil
	}
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var oldBody, oldHTML *string
		var version int
		var topic string
		err := tx.QueryRow(ctx, `SELECT body, body_html, body_version, topic_id::text FROM forum_posts WHERE id = $1 AND deleted_at IS NULL
			FOR UPDATE`, id).Scan(&oldBody, &oldHTML, &version, &topic)
		if errors.Is(err, pgx.ErrNoRows) {
			return noReply
		}
		if err != nil {
			return fmt.Errorf("loading reply: %w", err)
		}
		k := forum.ReplyKey(id, topic)
		var cur text
		if oldBody != nil {
			cur = text{*oldBody, *oldHTML}
		} else if cur, err = s.current(ctx, tx, k, version); err != nil {
			return err
		}
		changed := body.Markdown != cur.markdown
		if changed {
			version++
		}
		// A changed body goes to the store (a body still on the row moves there, the trigger of
		// 00014 keeping the version before); an unchanged one only marks the reply edited.
		if _, err := tx.Exec(ctx, `UPDATE forum_posts SET updated_at = $2, edited_at = $2, body_version = $3,
			body = CASE WHEN $4 THEN NULL ELSE body END, body_html = CASE WHEN $4 THEN NULL ELSE body_html END,
			body_text = CASE WHEN $4 THEN forum_html_text($5) ELSE body_text END
			WHERE id = $1`, id, at, version, changed, body.HTML); err != nil {
			return fmt.Errorf("updating reply: %w", err)
		}
		if !changed {
			return nil
		}
		return s.queue(ctx, tx, k, version, forum.Body{Markdown: body.Markdown, HTML: body.HTML, WrittenAt: at})
	})
}

// DeleteReply makes a reply a tombstone, uncounts it and unmarks it as the best answer.
func (s *Store) DeleteReply(ctx context.Context, id string, at time.Time) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		return removeReply(ctx, tx, id, at, nil)
	})
}

// Like records or removes a like and returns the target's count.
func (s *Store) Like(ctx context.Context, targetType, id, userID string, on bool, at time.Time) (int, error) {
	table, missing := "forum_topics", noTopic
	if targetType == "post" {
		table, missing = "forum_posts", noReply
	}
	var count int
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		// The target's row lock orders concurrent likes, so the count stays exact.
		lock := `SELECT like_count, author_id FROM ` + table + ` x WHERE x.id = $1 AND x.deleted_at IS NULL`
		if targetType == "post" {
			lock += ` AND EXISTS (SELECT 1 FROM forum_topics t WHERE t.id = x.topic_id AND t.deleted_at IS NULL)`
		}
		ev := forum.Liked{TargetType: targetType, ID: id, By: userID, On: on}
		err := tx.QueryRow(ctx, lock+` FOR UPDATE`, id).Scan(&count, &ev.AuthorID)
		if errors.Is(err, pgx.ErrNoRows) {
			return missing
		}
		if err != nil {
			return fmt.Errorf("loading %s: %w", targetType, err)
		}
		var tag interface{ RowsAffected() int64 }
		if on {
			tag, err = tx.Exec(ctx, `INSERT INTO forum_likes (target_type, target_id, user_id, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, targetType, id, userID, at)
		} else {
			tag, err = tx.Exec(ctx, `DELETE FROM forum_likes WHERE target_type = $1 AND target_id = $2 AND user_id = $3`,
				targetType, id, userID)
		}
		if err != nil {
			return fmt.Errorf("liking: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		delta := 1
		if !on {
			delta = -1
		}
		if err := tx.QueryRow(ctx, `UPDATE `+table+` SET like_count = like_count + $2 WHERE id = $1 RETURNING like_count`,
			id, delta).Scan(&count); err != nil {
			return fmt.Errorf("counting like: %w", err)
		}
		return outbox.AddEvents(ctx, tx, ev)
	})
	return count, err
}

// Bookmark records or forgets a bookmark of a live topic.
func (s *Store) Bookmark(ctx context.Context, topicID, userID string, on bool, at time.Time) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM forum_topics WHERE id = $1 AND deleted_at IS NULL)`,
			topicID).Scan(&exists); err != nil {
			return fmt.Errorf("loading topic: %w", err)
		}
		if !exists {
			return noTopic
		}
		var tag interface{ RowsAffected() int64 }
		var err error
		if on {
			tag, err = tx.Exec(ctx, `INSERT INTO forum_bookmarks (user_id, topic_id, created_at) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, userID, topicID, at)
		} else {
			tag, err = tx.Exec(ctx, `DELETE FROM forum_bookmarks WHERE user_id = $1 AND topic_id = $2`, userID, topicID)
		}
		if err != nil {
			return fmt.Errorf("bookmarking: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return outbox.AddEvents(ctx, tx, forum.Bookmarked{TopicID: topicID, By: userID, On: on})
	})
}

// SetBestAnswer marks a live reply of the topic its best answer; marking another records it.
func (s *Store) SetBestAnswer(ctx context.Context, topicID, replyID, by string, at time.Time) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		ev := forum.BestAnswerMarked{TopicID: topicID, ReplyID: replyID, MarkedBy: by}
		var before *string
		err := tx.QueryRow(ctx, `SELECT t.title, t.best_answer_id, r.author_id FROM forum_topics t
			JOIN forum_posts r ON r.id = $2 AND r.topic_id = t.id AND r.deleted_at IS NULL
			WHERE t.id = $1 AND t.deleted_at IS NULL FOR UPDATE OF t`, topicID, replyID).Scan(&ev.TopicTitle, &before, &ev.ReplyAuthorID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.Fields(errs.FieldError{Field: "replyId", Message: "is not a reply of this topic"})
		}
		if err != nil {
			return fmt.Errorf("loading best answer: %w", err)
		}
		if before != nil && *before == replyID {
			return nil
		}
		if before != nil {
			if err := tx.QueryRow(ctx, `SELECT author_id FROM forum_posts WHERE id = $1`, *before).Scan(&ev.PreviousAuthorID); err != nil {
				return fmt.Errorf("loading the previous best answer: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE forum_topics SET best_answer_id = $2, updated_at = $3 WHERE id = $1`,
			topicID, replyID, at); err != nil {
			return fmt.Errorf("marking best answer: %w", err)
		}
		return outbox.AddEvents(ctx, tx, ev)
	})
}
