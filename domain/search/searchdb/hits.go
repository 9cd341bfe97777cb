package searchdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/search"
	"github.com/p2psandbox/hub/platform/postgres"
)

var (
	_ search.Replies       = (*Store)(nil)
	_ search.Organizations = (*Store)(nil)
)

// replySnippet is the forum's snippet of a topic's body (forumdb), so that both read alike.
const replySnippet = `StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=25, MinWords=8`

// replyCandidates bounds how many matches are ranked, the newest, for the reason forumdb's
// searchCandidates gives for topics: ranking every match of a common word costs more than the
// page, and the newest are what a reader of a search across everything most likely wants.
const replyCandidates = 1000

// Replies matches live replies of live topics in English and Arabic the way the forum matches
// topics (one query of both languages over the search column of migration 00030, spelling
// variants unified by forum_normalize), best first. The snippet is made from the reply's plain
// text, HTML-escaped before it is marked, in English and, when that marks nothing, in Arabic.
func (s *Store) Replies(ctx context.Context, text string, after *search.RankCursor, limit int) ([]search.ReplyHit, []float32, error) {
	args := []any{text}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	pageAfter := ""
	if after != nil {
		pageAfter = "WHERE (ts_rank(cand.search, q.query), cand.id) < (" + arg(after.Rank) + "::real, " + arg(after.ID) + "::uuid)"
	}
	// hidden_by is checked besides deleted_at although hiding sets both: a hidden post must never
	// be found, whatever a later change to hiding does with deleted_at. The page is chosen before
	// the snippets are made, which cost more than the ranking.
	sql := `
		WITH q AS NOT MATERIALIZED (
			SELECT websearch_to_tsquery('english', $1) || websearch_to_tsquery('arabic', forum_normalize($1)) AS query),
		cand AS (
			SELECT r.id, r.search FROM q, forum_posts r JOIN forum_topics t ON t.id = r.topic_id
			WHERE r.deleted_at IS NULL AND r.hidden_by IS NULL AND t.deleted_at IS NULL AND t.hidden_by IS NULL
			  AND r.search @@ q.query
			ORDER BY r.created_at DESC, r.id DESC LIMIT ` + strconv.Itoa(replyCandidates) + `
		),
		hits AS (
			SELECT cand.id, ts_rank(cand.search, q.query)::real AS rank FROM q, cand ` + pageAfter + `
			ORDER BY rank DESC, cand.id DESC LIMIT ` + arg(limit) + `
		)
		SELECT r.id::text, r.topic_id::text, t.title,
			CASE WHEN strpos(h.en, '<mark>') > 0 THEN h.en ELSE forum_marked(h.en,
				ts_headline('arabic', forum_normalize(forum_escape_html(x.body)), q.query, '` + replySnippet + `')) END,
			u.id::text, u.first_name || ' ' || u.last_name,
			concat_ws(' - ', nullif(u.job_title, ''), coalesce(nullif(u.city, ''), o.city)), u.avatar_url, o.verified_at IS NOT NULL,
			r.created_at, hits.rank
		FROM q, hits JOIN forum_posts r ON r.id = hits.id JOIN forum_topics t ON t.id = r.topic_id
			JOIN users u ON u.id = r.author_id JOIN organizations o ON o.id = u.organization_id
		CROSS JOIN LATERAL (SELECT coalesce(r.body_text, forum_html_text(r.body_html)) AS body OFFSET 0) x
		CROSS JOIN LATERAL (SELECT ts_headline('english', forum_escape_html(x.body), q.query, '` + replySnippet + `') AS en OFFSET 0) h
		ORDER BY hits.rank DESC, r.id DESC`
	// Planned with its values each time, as the forum's search is: how common the words are
	// decides between walking the newest replies and reading the index's matches.
	rows, err := postgres.On(ctx, s.pool).Query(ctx, sql, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("searchdb: replies: %w", err)
	}
	defer rows.Close()
	var (
		hits  []search.ReplyHit
		ranks []float32
	)
	for rows.Next() {
		var h search.ReplyHit
		var rank float32
		if err := rows.Scan(&h.ID, &h.TopicID, &h.TopicTitle, &h.Highlight, &h.Author.ID, &h.Author.Name, &h.Author.Title,
			&h.Author.Avatar, &h.Author.IsVerified, &h.CreatedAt, &rank); err != nil {
			return nil, nil, fmt.Errorf("searchdb: replies: %w", err)
		}
		h.Link = "/forum/topics/" + h.TopicID + "#reply-" + h.ID
		hits, ranks = append(hits, h), append(ranks, rank)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("searchdb: replies: %w", err)
	}
	return hits, ranks, nil
}

// orgKey is an organization's name as matched (lower-cased and normalised, stored by migration
// 00030 and indexed), and orgLive the predicate of that index: suspended and deactivated
// organizations are never found.
const (
	orgKey  = `o.name_key`
	orgLive = `o.is_active AND o.suspended_at IS NULL`
)

// minContains is the shortest text looked for inside names: a trigram index cannot narrow one or
// two letters, which would read every organization; shorter text matches the start of a name,
// through the btree index.
const minContains = 3

// Organizations finds the organizations whose name contains text (Arabic spelling variants
// unified, any case), those whose name starts with it first, then by name; text shorter than
// minContains is looked for at the start of names only. The members are counted for the page
// only, through an index of users by organization.
func (s *Store) Organizations(ctx context.Context, text string, after *search.NameCursor, limit int) ([]search.OrganizationHit, error) {
	// The patterns are normalised and lower-cased in SQL, as the key is: $1 matches anywhere,
	// $2 at the start.
	args := []any{like(text), likeEscape.Replace(text) + "%"}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	starts := orgKey + ` LIKE lower(forum_normalize($2))`
	match := orgKey + ` LIKE lower(forum_normalize($1))`
	if utf8.RuneCountInString(text) < minContains {
		match = starts + ` AND $1 <> ''` // $1 is still given a type
	}
	where := []string{orgLive, match}
	if after != nil {
		where = append(where, `(NOT (`+starts+`), `+orgKey+`, o.id) > (NOT `+arg(after.Prefix)+`::bool, `+
			arg(after.Key)+`, `+arg(after.ID)+`::uuid)`)
	}
	sql := `SELECT o.id::text, o.name, o.industry, o.city, o.country, o.logo_url,
			(SELECT count(*) FROM users u WHERE u.organization_id = o.id AND u.is_active AND u.deleted_at IS NULL),
			o.verified_at IS NOT NULL, ` + orgKey + `, ` + starts + `
		FROM organizations o WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY NOT (` + starts + `), ` + orgKey + `, o.id LIMIT ` + arg(limit)
	// Planned with the patterns' values each time (an unnamed statement, never a cached generic
	// plan): then forum_normalize of a pattern is folded to a constant once, where a generic plan
	// ran it for every row (166 ms where a constant took 50 to 80, for a letter found in 20,000
	// names), and a prefix's pattern can bound the btree index.
	args = append([]any{pgx.QueryExecModeDescribeExec}, args...)
	rows, err := postgres.On(ctx, s.pool).Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("searchdb: organizations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (search.OrganizationHit, error) {
		var h search.OrganizationHit
		err := row.Scan(&h.ID, &h.Name, &h.Industry, &h.City, &h.Country, &h.Logo, &h.MemberCount, &h.IsVerified, &h.Key, &h.Prefix)
		h.Link = "/organizations/" + h.ID
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("searchdb: organizations: %w", err)
	}
	return out, nil
}
