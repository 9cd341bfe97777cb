// Package usecasedb is the PostgreSQL store of the use cases: the columns the library filters and
// sorts by, and the structured body as one JSONB document.
package usecasedb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements usecase.Store.
type Store struct {
	pool   *pgxpool.Pool
	facets facetCache
	// docs, when set, keeps the whole content; use_cases.document then holds its projection
	// (usecase.Project) and the outbox carries the content across (documents.go).
	docs usecase.Documents
	log  *slog.Logger
}

// New returns a store on pool that keeps the whole content in use_cases.document.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// facetsFresh is how long the facets of the whole library (no filter: the top companies always,
// the categories and industries of an unfiltered sidebar) are kept in memory: counting 100,000
// use cases on every sidebar is most of its time, and a new use case may wait that long to count.
const facetsFresh = time.Minute

// facetCache keeps the whole library's facets per column, each with when it was counted.
type facetCache struct {
	mu      sync.Mutex
	entries map[string]facetEntry
}

type facetEntry struct {
	at     time.Time
	facets []usecase.Facet
}

func (c *facetCache) get(col string, now time.Time) ([]usecase.Facet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[col]
	if !ok || now.Sub(e.at) >= facetsFresh || now.Before(e.at) {
		return nil, false
	}
	return slices.Clone(e.facets), true
}

func (c *facetCache) put(col string, now time.Time, facets []usecase.Facet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]facetEntry{}
	}
	c.entries[col] = facetEntry{at: now, facets: slices.Clone(facets)}
}

var _ usecase.Store = (*Store)(nil)

var notFound = errs.E(errs.NotFound, "no such use case")

// columns of a use case "u" with its organization "o" and author "a"; $1 is the viewer.
const columns = `u.id, u.status, u.organization_id, u.author_id, u.document, o.name,
	a.first_name || ' ' || a.last_name, a.job_title, o.verified_at IS NOT NULL,
	u.view_count, u.like_count, u.save_count,
	EXISTS (SELECT 1 FROM use_case_likes l WHERE l.use_case_id = u.id AND l.user_id = nullif($1, '')::uuid),
	EXISTS (SELECT 1 FROM use_case_saves s WHERE s.use_case_id = u.id AND s.user_id = nullif($1, '')::uuid),
	u.version, u.submissions, u.review_outcome, u.review_comments, u.reviewed_at,
	u.submitted_at, u.published_at, u.created_at, u.updated_at,
	u.verified_at IS NOT NULL, coalesce((SELECT v.first_name || ' ' || v.last_name FROM users v WHERE v.id = u.verified_by), ''),
	u.featured_at IS NOT NULL, u.review_field_comments, u.reviewed_by,
	coalesce((SELECT r.first_name || ' ' || r.last_name FROM users r WHERE r.id = u.reviewed_by), ''),
	CASE WHEN u.status = 'under_review' THEN u.claimed_by END`

const from = ` FROM use_cases u JOIN organizations o ON o.id = u.organization_id JOIN users a ON a.id = u.author_id`

func scan(row pgx.Row, extra ...any) (usecase.UseCase, error) {
	var (
		u        usecase.UseCase
		doc      []byte
		outcome  *string
		comments *string
		reviewed *time.Time
		fields   []byte
		reviewer *string
		name     string
		claimed  *string
	)
	dest := append([]any{&u.ID, &u.Status, &u.OrganizationID, &u.AuthorID, &doc, &u.Company, &u.PublishedBy, &u.PublisherTitle,
		&u.IsVerified, &u.Views, &u.Likes, &u.Saves, &u.LikedByMe, &u.SavedByMe, &u.Version, &u.Submissions,
		&outcome, &comments, &reviewed, &u.SubmittedAt, &u.PublishedAt, &u.CreatedAt, &u.UpdatedAt,
		&u.Verified, &u.VerifiedBy, &u.Featured, &fields, &reviewer, &name, &claimed}, extra...)
	err := row.Scan(dest...)
	if err != nil {
		return u, err
	}
	if err := json.Unmarshal(doc, &u.Content); err != nil {
		return u, fmt.Errorf("decoding use case %s: %w", u.ID, err)
	}
	if claimed != nil {
		u.ReviewerID = *claimed
	}
	if outcome != nil && reviewed != nil {
		u.Review = &usecase.Review{Action: *outcome, ReviewedAt: *reviewed, FieldComments: []usecase.FieldComment{}}
		if comments != nil {
			u.Review.Comments = *comments
		}
		if len(fields) > 0 {
			if err := json.Unmarshal(fields, &u.Review.FieldComments); err != nil {
				return u, fmt.Errorf("decoding the review of use case %s: %w", u.ID, err)
			}
		}
		if reviewer != nil {
			u.Review.Reviewer = &usecase.Person{ID: *reviewer, Name: name}
		}
	}
	return u, nil
}

// derived are the columns that repeat fields of the document, for filters and sorts.
func derived(c usecase.Content) (doc []byte, roi *float64, err error) {
	doc, err = json.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding use case: %w", err)
	}
	return doc, usecase.ROI(c.Results.RoiPercentage), nil
}

// Create stores a new draft.
func (s *Store) Create(ctx context.Context, u usecase.Stored) error {
	doc, roi, err := derived(s.relational(u.Content))
	if err != nil {
		return err
	}
	c := u.Content
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err = tx.Exec(ctx, `INSERT INTO use_cases (id, organization_id, author_id, document, title, category, industry,
			city, region, roi, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
			u.ID, u.OrganizationID, u.AuthorID, doc, c.Title, c.Category, c.Industry, c.Location.City, c.Location.Region, roi, u.At)
		if err != nil {
			return fmt.Errorf("creating use case: %w", err)
		}
		if err := history(ctx, tx, u.ID, nil, usecase.Transition{To: usecase.StatusDraft, Action: usecase.ActionCreate, ActorID: u.AuthorID, At: u.At}); err != nil {
			return err
		}
		if err := s.queue(ctx, tx, u.ID, 1, u.Content); err != nil {
			return err
		}
		return outbox.AddEvents(ctx, tx, usecase.Drafted{UseCaseID: u.ID, AuthorID: u.AuthorID, OrganizationID: u.OrganizationID})
	})
}

// history appends a transition to the use case's history (use_case_transitions).
func history(ctx context.Context, tx pgx.Tx, id string, from *string, t usecase.Transition) error {
	fields := []byte("[]")
	if t.Review != nil && len(t.Review.FieldComments) > 0 {
		var err error
		if fields, err = json.Marshal(t.Review.FieldComments); err != nil {
			return fmt.Errorf("encoding field comments: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO use_case_transitions (use_case_id, from_status, to_status, action, actor_id, comments,
		field_comments, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, from, t.To, t.Action, t.ActorID, t.Comments, fields, t.At); err != nil {
		return fmt.Errorf("recording a use case's transition: %w", err)
	}
	return nil
}

// History lists a use case's transitions, oldest first.
func (s *Store) History(ctx context.Context, id string, limit int) ([]usecase.Entry, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.from_status, t.to_status, t.action, t.actor_id, a.first_name || ' ' || a.last_name,
		t.comments, t.field_comments, t.at
		FROM use_case_transitions t JOIN users a ON a.id = t.actor_id
		WHERE t.use_case_id = $1 ORDER BY t.id LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("reading a use case's history: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (usecase.Entry, error) {
		var (
			e      usecase.Entry
			fields []byte
		)
		if err := row.Scan(&e.ID, &e.From, &e.To, &e.Action, &e.Actor.ID, &e.Actor.Name, &e.Comments, &fields, &e.At); err != nil {
			return e, err
		}
		return e, json.Unmarshal(fields, &e.FieldComments)
	})
	if err != nil {
		return nil, fmt.Errorf("reading a use case's history: %w", err)
	}
	return items, nil
}

// Get loads one use case that is not deleted. With a Documents store its content is read from
// there (or from its outbox row while one waits), in place of the projection.
func (s *Store) Get(ctx context.Context, viewer, id string) (usecase.UseCase, error) {
	if s.docs != nil {
		return s.getDocument(ctx, viewer, id)
	}
	u, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+from+` WHERE u.id = $2 AND u.deleted_at IS NULL`, viewer, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, notFound
	}
	if err != nil {
		return u, fmt.Errorf("loading use case: %w", err)
	}
	return u, nil
}

// why explains a change that matched no row: no such use case, another status, another version.
func why(ctx context.Context, q pgx.Tx, id string, statuses []string) error {
	var status string
	err := q.QueryRow(ctx, `SELECT status FROM use_cases WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("loading use case: %w", err)
	}
	if !slices.Contains(statuses, status) {
		return errs.E(errs.Conflict, "the use case is %s", strings.ReplaceAll(status, "_", " "))
	}
	return usecase.ErrStale
}

// Save replaces the content at version (any when 0) and returns the new version.
func (s *Store) Save(ctx context.Context, id string, version int, statuses []string, c usecase.Content, at time.Time) (int, error) {
	doc, roi, err := derived(s.relational(c))
	if err != nil {
		return 0, err
	}
	var next int
	err = postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE use_cases SET document = $2, title = $3, category = $4, industry = $5, city = $6,
			region = $7, roi = $8, version = version + 1, updated_at = $9
			WHERE id = $1 AND deleted_at IS NULL AND status = ANY($10) AND ($11 = 0 OR version = $11) RETURNING version`,
			id, doc, c.Title, c.Category, c.Industry, c.Location.City, c.Location.Region, roi, at, statuses, version).Scan(&next)
		if errors.Is(err, pgx.ErrNoRows) {
			return why(ctx, tx, id, statuses)
		}
		if err != nil {
			return fmt.Errorf("saving use case: %w", err)
		}
		return s.queue(ctx, tx, id, next, c)
	})
	return next, err
}

// Transition changes the status, records the event and appends the change to the history, in one
// transaction.
func (s *Store) Transition(ctx context.Context, id string, t usecase.Transition) error {
	var outcome, comments, reviewer *string
	fields := []byte(nil)
	if t.Review != nil {
		outcome, comments, reviewer = &t.Review.Action, &t.Review.Comments, &t.ActorID
		fc := t.Review.FieldComments
		if fc == nil {
			fc = []usecase.FieldComment{}
		}
		var err error
		if fields, err = json.Marshal(fc); err != nil {
			return fmt.Errorf("encoding field comments: %w", err)
		}
	}
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var from string
		err := tx.QueryRow(ctx, `UPDATE use_cases u SET status = $2, version = u.version + 1, updated_at = $3,
			submissions = u.submissions + CASE WHEN $4 THEN 1 ELSE 0 END,
			submitted_at = CASE WHEN $4 THEN $3 ELSE u.submitted_at END,
			published_at = CASE WHEN $5 THEN coalesce(u.published_at, $3) ELSE u.published_at END,
			review_outcome = coalesce($6, u.review_outcome),
			review_comments = CASE WHEN $6::text IS NULL THEN u.review_comments ELSE $7 END,
			review_field_comments = CASE WHEN $6::text IS NULL THEN u.review_field_comments ELSE $8::jsonb END,
			reviewed_by = CASE WHEN $6::text IS NULL THEN u.reviewed_by ELSE $9::uuid END,
			reviewed_at = CASE WHEN $6::text IS NULL THEN u.reviewed_at ELSE $3 END,
			claimed_by = CASE WHEN $2 = 'under_review' THEN $12::uuid END,
			claimed_at = CASE WHEN $2 = 'under_review' THEN $3 END
			FROM (SELECT id, status FROM use_cases WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) old
			WHERE u.id = old.id AND old.status = ANY($10) AND ($11 = 0 OR u.version = $11)
			RETURNING old.status`,
			id, t.To, t.At, t.Submit, t.Publish, outcome, comments, fields, reviewer, t.From, t.Version, nullable(t.ActorID)).Scan(&from)
		if errors.Is(err, pgx.ErrNoRows) {
			return why(ctx, tx, id, t.From)
		}
		if err != nil {
			return fmt.Errorf("changing a use case's status: %w", err)
		}
		if err := history(ctx, tx, id, &from, t); err != nil {
			return err
		}
		if t.Event != nil {
			return outbox.AddEvents(ctx, tx, t.Event)
		}
		return nil
	})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Delete soft-deletes a use case.
func (s *Store) Delete(ctx context.Context, id string, version int, statuses []string, at time.Time) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		ev := usecase.Removed{UseCaseID: id}
		err := tx.QueryRow(ctx, `UPDATE use_cases SET deleted_at = $2, updated_at = $2
			WHERE id = $1 AND deleted_at IS NULL AND status = ANY($3) AND ($4 = 0 OR version = $4)
			RETURNING author_id, organization_id, status`, id, at, statuses, version).Scan(&ev.AuthorID, &ev.OrganizationID, &ev.Status)
		if errors.Is(err, pgx.ErrNoRows) {
			return why(ctx, tx, id, statuses)
		}
		if err != nil {
			return fmt.Errorf("deleting use case: %w", err)
		}
		return outbox.AddEvents(ctx, tx, ev)
	})
}

// searchCandidates bounds how many matches of a text search List ranks, counts and pages
// through: the most recently published ones. A common word ("vibration" in one title in
// twelve of 100,000) otherwise costs a count and a rank of every match on each page (150-310 ms);
// the newest 500 are found by walking the publication index until 500 match, so the cost
// follows how rare the word is: at 1,000 an Arabic word in one use case in nine took 53 ms at
// p50 (docs/perf.md). A word matching more is answered from its newest 500 (25 pages), and the
// total says so (totalCapped).
const searchCandidates = 500

// countCap bounds the count of a list without text: a list that matches more says
// "1,000+" (totalCapped), as the forum's lists do.
const countCap = 1000

// candidates restricts a text search's conditions to its searchCandidates most recently
// published matches. The inner u is the candidate; the outer query's u is the row listed.
func candidates(where []string) []string {
	return append(where, `u.id IN (SELECT u.id FROM use_cases u WHERE `+strings.Join(where, " AND ")+
		` ORDER BY u.published_at DESC, u.id DESC LIMIT `+strconv.Itoa(searchCandidates)+`)`)
}

// List lists use cases as q says, with the number that match (at most searchCandidates for a
// text search, capped then).
func (s *Store) List(ctx context.Context, viewer string, q usecase.Query, after *usecase.Cursor, limit int) ([]usecase.UseCase, int, bool, error) {
	args := []any{viewer}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := conditions(q, arg)
	countArgs := len(args)
	var (
		total  int
		capped bool
		with   string
	)
	// The viewer ($1) is not a filter; the count names it so the arguments are numbered alike. It
	// stops past countCap, as the forum's does: an exact count of every published use case read
	// 100,000 index entries for each first page of the library (most of its time under the
	// mixed load: p50 23 ms with it, 5 ms without; docs/perf.md), to print a number nobody
	// reads beyond "1,000+".
	count := `WITH viewer AS (SELECT $1::text) SELECT count(*) FROM (SELECT 1 FROM use_cases u WHERE ` +
		strings.Join(where, " AND ") + ` LIMIT ` + strconv.Itoa(countCap) + ` + 1) x`
	// With q, each row also carries how well it matched and where (ts_headline runs on the page's
	// rows only: PostgreSQL evaluates the select list after the LIMIT), and the count of the
	// candidates, found once for both (finding them is most of a search's cost).
	extra := ", 0::float8, '', 0::bigint"
	if q.Text != "" {
		n := strconv.Itoa(searchCandidates)
		count = `WITH viewer AS (SELECT $1::text) SELECT count(*) FROM (SELECT 1 FROM use_cases u WHERE ` +
			strings.Join(where, " AND ") + ` LIMIT ` + n + ` + 1) x`
		with = `WITH cand AS MATERIALIZED (SELECT u.id, row_number() OVER (ORDER BY u.published_at DESC, u.id DESC) AS rn
			FROM use_cases u WHERE ` + strings.Join(where, " AND ") + ` ORDER BY u.published_at DESC, u.id DESC LIMIT ` + n + ` + 1) `
		where = append(where, "u.id IN (SELECT id FROM cand WHERE rn <= "+n+")")
		tq := tsquery(arg(q.Text))
		extra = ", ts_rank_cd(u.search, " + tq + ")::float8, ts_headline('english', coalesce(u.document->>'description', ''), " + tq +
			", 'StartSel=" + markOpen + ", StopSel=" + markClose + ", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"')" +
			", (SELECT count(*) FROM cand)"
	} else if err := s.pool.QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, false, fmt.Errorf("counting use cases: %w", err)
	}
	var order string
	keyset := func(lead string, lv any) {
		order = lead + " DESC, u.published_at DESC, u.id DESC"
		if after != nil {
			where = append(where, "("+lead+", u.published_at, u.id) < ("+arg(lv)+", "+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	}
	switch q.Sort {
	case "updated":
		order = "u.updated_at DESC, u.id DESC"
		if after != nil {
			where = append(where, "(u.updated_at, u.id) < ("+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	case "queue":
		order = "u.submitted_at, u.id"
		if after != nil {
			where = append(where, "(u.submitted_at, u.id) > ("+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	case usecase.SortViewed, usecase.SortLiked, usecase.SortSaved:
		col := map[string]string{usecase.SortViewed: "u.view_count", usecase.SortLiked: "u.like_count", usecase.SortSaved: "u.save_count"}[q.Sort]
		keyset(col, cursorField(after, func(c *usecase.Cursor) any { return c.Count }))
	case usecase.SortROI:
		keyset("coalesce(u.roi::float8, "+strconv.FormatFloat(usecase.NoROI, 'g', -1, 64)+")",
			cursorField(after, func(c *usecase.Cursor) any { return c.Value }))
	case usecase.SortRelevance:
		// The rank as computed in the select list: the cursor's value compares equal to it.
		keyset("ts_rank_cd(u.search, "+tsquery(arg(q.Text))+")::float8", cursorField(after, func(c *usecase.Cursor) any { return c.Value }))
	default:
		order = "u.published_at DESC, u.id DESC"
		if after != nil {
			where = append(where, "(u.published_at, u.id) < ("+arg(after.At)+", "+arg(after.ID)+"::uuid)")
		}
	}
	rows, err := s.pool.Query(ctx, with+`SELECT `+columns+extra+from+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("listing use cases: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (usecase.UseCase, error) {
		var (
			rank    float64
			snippet string
			found   int
		)
		u, err := scan(row, &rank, &snippet, &found)
		u.Rank, u.Snippet = rank, marked(snippet)
		if q.Text != "" {
			total = found
		}
		return u, err
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("listing use cases: %w", err)
	}
	if q.Text != "" && len(items) == 0 {
		// A page past the last match carries no count: count them alone (the count's own
		// arguments are the first ones; the page's come after them).
		if err := s.pool.QueryRow(ctx, count, args[:countArgs]...).Scan(&total); err != nil {
			return nil, 0, false, fmt.Errorf("counting use cases: %w", err)
		}
	}
	switch {
	case q.Text != "" && total > searchCandidates:
		total, capped = searchCandidates, true
	case total > countCap:
		total, capped = countCap, true
	}
	return items, total, capped, nil
}

// relatedCandidates bounds the use cases Related scores: the newest of those sharing both the
// category and the industry, the newest sharing the category and the newest sharing the industry,
// this many each (through use_cases_filters and use_cases_industry_key), rather than every one
// of the thousands that share either.
const relatedCandidates = 200

// summary is the part of the document a card shows (usecase.Summarize), read in place of the
// whole document (u.document in columns).
const summary = `jsonb_build_object('title', u.document->'title', 'subtitle', u.document->'subtitle',
	'description', u.document->'description', 'category', u.document->'category', 'industry', u.document->'industry',
	'factoryName', u.document->'factoryName', 'tags', u.document->'tags', 'imageIds', u.document->'imageIds',
	'location', jsonb_build_object('city', u.document->'location'->'city'),
	'implementation', jsonb_build_object('implementationTime', u.document->'implementation'->'implementationTime'),
	'results', jsonb_build_object('roiPercentage', u.document->'results'->'roiPercentage',
		'quantitativeMetrics', u.document->'results'->'quantitativeMetrics'))`

// Related ranks published use cases that share u's category or industry (a bounded set of
// candidates, the newest: relatedCandidates), scored 3 for the category, 2 for the industry and 1
// per shared tag or technology, then the most liked and newest. The ranking reads the stored keys
// beside each candidate's row (category_key, industry_key, tech_keys of migration 00033), never a
// document; only the page's rows are read in full, and then only what their cards show (summary):
// scoring on the document's tags detoasted each of up to 600 candidates' documents (p95 19-26 ms
// at 100,000, docs/perf.md).
func (s *Store) Related(ctx context.Context, viewer string, u usecase.UseCase, limit int) ([]usecase.UseCase, error) {
	keys := make([]string, 0, len(u.Tags)+len(u.Solution.TechnologyComponents))
	for _, t := range u.Tags {
		keys = append(keys, strings.ToLower(t))
	}
	for _, c := range u.Solution.TechnologyComponents {
		keys = append(keys, strings.ToLower(c.Component))
	}
	const published = `status = 'published' AND deleted_at IS NULL AND id <> $2::uuid`
	rows, err := s.pool.Query(ctx, `WITH candidates AS (
			(SELECT id FROM use_cases WHERE `+published+` AND $3 <> '' AND $4 <> ''
			   AND category_key = lower($3) AND industry_key = lower($4) ORDER BY published_at DESC, id DESC LIMIT $7)
			UNION
			(SELECT id FROM use_cases WHERE `+published+` AND $3 <> '' AND category_key = lower($3)
			 ORDER BY published_at DESC, id DESC LIMIT $7)
			UNION
			(SELECT id FROM use_cases WHERE `+published+` AND $4 <> '' AND industry_key = lower($4)
			 ORDER BY published_at DESC, id DESC LIMIT $7)),
		ranked AS (
			SELECT x.id, x.like_count, x.published_at,
				CASE WHEN x.category_key = lower($3) THEN 3 ELSE 0 END +
				CASE WHEN x.industry_key = lower($4) THEN 2 ELSE 0 END +
				(SELECT count(*) FROM jsonb_array_elements_text(coalesce(x.tech_keys, '[]')) t WHERE t = ANY ($5::text[])) AS score
			FROM candidates c JOIN use_cases x ON x.id = c.id
			WHERE x.status = 'published' AND x.deleted_at IS NULL
			ORDER BY score DESC, x.like_count DESC, x.published_at DESC, x.id DESC LIMIT $6)
		SELECT `+strings.Replace(columns, "u.document", summary, 1)+` FROM ranked r JOIN use_cases u ON u.id = r.id
		JOIN organizations o ON o.id = u.organization_id JOIN users a ON a.id = u.author_id
		ORDER BY r.score DESC, r.like_count DESC, r.published_at DESC, r.id DESC`,
		viewer, u.ID, u.Category, u.Industry, keys, limit, relatedCandidates)
	if err != nil {
		return nil, fmt.Errorf("relating use cases: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (usecase.UseCase, error) { return scan(row) })
	if err != nil {
		return nil, fmt.Errorf("relating use cases: %w", err)
	}
	return items, nil
}

// Mark sets the moderators' marks of a published use case.
func (s *Store) Mark(ctx context.Context, id, by string, verified, featured *bool, at time.Time) error {
	var status string
	err := s.pool.QueryRow(ctx, `UPDATE use_cases u SET
			verified_at = CASE WHEN $3::bool IS NULL THEN u.verified_at WHEN $3 THEN coalesce(u.verified_at, $5) END,
			verified_by = CASE WHEN $3::bool IS NULL THEN u.verified_by WHEN $3 THEN coalesce(u.verified_by, $2::uuid) END,
			featured_at = CASE WHEN $4::bool IS NULL THEN u.featured_at WHEN $4 THEN coalesce(u.featured_at, $5) END
		FROM (SELECT id, status FROM use_cases WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) old
		WHERE u.id = old.id AND old.status = 'published'
		RETURNING old.status`, id, by, verified, featured, at).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM use_cases WHERE id = $1 AND deleted_at IS NULL AND status <> 'draft')`,
			id).Scan(&exists); err != nil {
			return fmt.Errorf("marking use case: %w", err)
		}
		if !exists {
			return errs.E(errs.NotFound, "no such use case")
		}
		return errs.E(errs.Conflict, "only a published use case is verified or featured")
	}
	if err != nil {
		return fmt.Errorf("marking use case: %w", err)
	}
	return nil
}

// conditions are q's filters on use cases "u"; arg adds a parameter ($1 is the viewer).
func conditions(q usecase.Query, arg func(any) string) []string {
	where := []string{"u.deleted_at IS NULL"}
	if len(q.Statuses) > 0 {
		where = append(where, "u.status = ANY("+arg(q.Statuses)+")")
	} else if q.Status != "any" {
		where = append(where, "u.status = "+arg(q.Status))
	}
	if q.AuthorID != "" {
		where = append(where, "u.author_id = "+arg(q.AuthorID)+"::uuid")
	}
	if q.OrganizationID != "" {
		where = append(where, "u.organization_id = "+arg(q.OrganizationID)+"::uuid")
	}
	if q.Category != "" {
		where = append(where, "u.category_key = lower("+arg(q.Category)+")")
	}
	if q.Industry != "" {
		where = append(where, "u.industry_key = lower("+arg(q.Industry)+")")
	}
	if q.Verified {
		where = append(where, "u.verified_at IS NOT NULL")
	}
	if q.Featured {
		where = append(where, "u.featured_at IS NOT NULL")
	}
	if q.Saved {
		where = append(where, "EXISTS (SELECT 1 FROM use_case_saves s WHERE s.use_case_id = u.id AND s.user_id = nullif($1::text, '')::uuid)")
	}
	if q.Text != "" {
		where = append(where, "u.search @@ "+tsquery(arg(q.Text)))
	}
	if q.Technology != "" {
		where = append(where, technologies+" @> jsonb_build_array(lower("+arg(q.Technology)+"))")
	}
	if q.City != "" {
		where = append(where, "lower(u.city) = lower("+arg(q.City)+")")
	}
	if q.RoiMin != nil {
		where = append(where, "u.roi >= "+arg(*q.RoiMin))
	}
	if q.RoiMax != nil {
		where = append(where, "u.roi <= "+arg(*q.RoiMax))
	}
	if n := q.Near; n != nil {
		// A box around the point through use_cases_location, then the exact great-circle distance.
		lat, lng, r := arg(n.Latitude), arg(n.Longitude), arg(n.RadiusKm)
		dLat := n.RadiusKm / 111.0
		dLng := n.RadiusKm / (111.32 * math.Max(math.Cos(n.Latitude*math.Pi/180), 0.01))
		where = append(where,
			latitude+" BETWEEN "+arg(n.Latitude-dLat)+" AND "+arg(n.Latitude+dLat),
			longitude+" BETWEEN "+arg(n.Longitude-dLng)+" AND "+arg(n.Longitude+dLng),
			"2 * 6371 * asin(least(1, sqrt(power(sin(radians("+latitude+" - "+lat+") / 2), 2) + cos(radians("+lat+")) * cos(radians("+
				latitude+")) * power(sin(radians("+longitude+" - "+lng+") / 2), 2)))) <= "+r)
	}
	return where
}

// Expressions of use_cases "u" that the migrations index: its coordinates (use_cases_location)
// and its tags with its technology components' names, lower-cased (the stored tech_keys, 00033,
// under use_cases_technologies).
const (
	latitude     = "((u.document->'location'->>'latitude')::float8)"
	longitude    = "((u.document->'location'->>'longitude')::float8)"
	technologies = "u.tech_keys"
)

// ts_headline marks matches with these private-use characters and escapes nothing; marked
// escapes the rest and turns them into the snippet's only markup.
const (
	markOpen  = "\uE000"
	markClose = "\uE001"
)

func marked(s string) string {
	return strings.NewReplacer(markOpen, "<mark>", markClose, "</mark>").Replace(html.EscapeString(s))
}

// tsquery is the search of the text in parameter t, in English and in normalised Arabic.
func tsquery(t string) string {
	return "(websearch_to_tsquery('english', " + t + ") || websearch_to_tsquery('arabic', forum_normalize(" + t + ")))"
}

// cursorField is get(after), or nil without a cursor (then unused).
func cursorField(after *usecase.Cursor, get func(*usecase.Cursor) any) any {
	if after == nil {
		return nil
	}
	return get(after)
}

// Facets counts the published use cases q finds per category (q's category aside) and per
// industry (q's industry aside), and ranks the companies that published most. A text search
// counts the matches List would list: its searchCandidates most recently published. Counts of the whole
// library (no filter) come from memory when younger than facetsFresh; organizations are joined
// for the companies only.
func (s *Store) Facets(ctx context.Context, viewer string, q usecase.Query, top int) (usecase.Facets, error) {
	f := usecase.Facets{Categories: []usecase.Facet{}, Industries: []usecase.Facet{}, TopCompanies: []usecase.Facet{}}
	count := func(col string, q usecase.Query, into *[]usecase.Facet) error {
		q.Sort = ""
		whole := reflect.DeepEqual(q, usecase.Query{Status: usecase.StatusPublished})
		now := time.Now()
		if whole {
			if cached, ok := s.facets.get(col, now); ok {
				*into = cached
				return nil
			}
		}
		args := []any{viewer}
		arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
		where := conditions(q, arg)
		if q.Text != "" {
			where = candidates(where) // the matches the library lists for the search
		}
		join := ""
		if strings.HasPrefix(col, "o.") {
			join = " JOIN organizations o ON o.id = u.organization_id"
		}
		// Without parallel workers: the counts read an index of some thousands of entries, and
		// on busy cores starting the workers took longer than the scan (70 of 95 ms).
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `WITH viewer AS (SELECT $1::text) SELECT `+col+`, count(*) FROM use_cases u`+join+`
				WHERE `+strings.Join(where, " AND ")+` AND `+col+` <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50`, args...)
			if err != nil {
				return err
			}
			*into, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (usecase.Facet, error) {
				var x usecase.Facet
				return x, row.Scan(&x.Value, &x.Count)
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("counting use cases by %s: %w", col, err)
		}
		if whole {
			s.facets.put(col, now, *into)
		}
		return nil
	}
	byCategory, byIndustry := q, q
	byCategory.Category, byIndustry.Industry = "", ""
	if err := count("u.category", byCategory, &f.Categories); err != nil {
		return f, err
	}
	if err := count("u.industry", byIndustry, &f.Industries); err != nil {
		return f, err
	}
	all := usecase.Query{Status: usecase.StatusPublished}
	if err := count("o.name", all, &f.TopCompanies); err != nil {
		return f, err
	}
	if len(f.TopCompanies) > top {
		f.TopCompanies = f.TopCompanies[:top]
	}
	return f, nil
}

// React records or removes a like or a save and returns the count.
func (s *Store) React(ctx context.Context, kind, id, userID string, on bool, at time.Time) (int, error) {
	table, col := "use_case_likes", "like_count"
	if kind == "save" {
		table, col = "use_case_saves", "save_count"
	}
	var n int
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var (
			tag pgconn.CommandTag
			err error
		)
		if on {
			tag, err = tx.Exec(ctx, `INSERT INTO `+table+` (use_case_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, userID, at)
		} else {
			tag, err = tx.Exec(ctx, `DELETE FROM `+table+` WHERE use_case_id = $1 AND user_id = $2`, id, userID)
		}
		if err != nil {
			return fmt.Errorf("recording a %s: %w", kind, err)
		}
		delta := 0
		if tag.RowsAffected() == 1 {
			delta = 1
			if !on {
				delta = -1
			}
		}
		ev := usecase.Reacted{UseCaseID: id, Kind: kind, By: userID, On: on}
		err = tx.QueryRow(ctx, `UPDATE use_cases SET `+col+` = `+col+` + $2 WHERE id = $1 AND deleted_at IS NULL
			RETURNING `+col+`, author_id`, id, delta).Scan(&n, &ev.AuthorID)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return fmt.Errorf("counting a %s: %w", kind, err)
		}
		if delta == 0 {
			return nil
		}
		return outbox.AddEvents(ctx, tx, ev)
	})
	return n, err
}

// AddViews adds counted views to use cases (deleted or unknown ones are skipped).
func (s *Store) AddViews(ctx context.Context, views map[string]int) error {
	ids, counts := make([]string, 0, len(views)), make([]int32, 0, len(views))
	for id, n := range views {
		ids, counts = append(ids, id), append(counts, int32(n))
	}
	if _, err := s.pool.Exec(ctx, `UPDATE use_cases u SET view_count = u.view_count + v.n
		FROM unnest($1::text[]::uuid[], $2::int[]) v(id, n) WHERE u.id = v.id AND u.deleted_at IS NULL`, ids, counts); err != nil {
		return fmt.Errorf("counting views: %w", err)
	}
	return nil
}

// AddDownload counts one download of a use case (migration 00019's download_count).
func (s *Store) AddDownload(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE use_cases SET download_count = download_count + 1 WHERE id = $1 AND deleted_at IS NULL`, id); err != nil {
		return fmt.Errorf("counting a download: %w", err)
	}
	return nil
}

// Points lists published use cases located in b, newest first, as the map's points: only the
// fields a point shows (benefits are the first three quantitative metrics with an improvement,
// "metric: improvement").
func (s *Store) Points(ctx context.Context, b usecase.Box, limit int) (usecase.MapPoints, error) {
	// Each point is a narrow row of its own, its whole GeoJSON feature written by triggers
	// (migrations 00031 and 00040) for the published, live, located use cases only, so a box of
	// 10,000 points reads few pages and no document. The features go out as PostgreSQL wrote
	// them, their bytes appended as read (10,000 points decoded and encoded again cost twice the
	// query). 10,000 points are some 7 MB, so the sort gets the work_mem for it in its own
	// read-only transaction (at the default 4 MB it went to disk).
	var m usecase.MapPoints
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '32MB'`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT feature FROM use_case_map_points
			WHERE latitude BETWEEN $1 AND $2 AND longitude BETWEEN $3 AND $4
			ORDER BY published_at DESC, use_case_id DESC LIMIT $5`, b.MinLat, b.MaxLat, b.MinLng, b.MaxLng, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if m.Count > 0 {
				buf.WriteByte(',')
			}
			m.Count++
			buf.Write(rows.RawValues()[0])
		}
		return rows.Err()
	})
	if err != nil {
		return usecase.MapPoints{}, fmt.Errorf("mapping use cases: %w", err)
	}
	buf.WriteString(`]}`)
	m.GeoJSON = buf.Bytes()
	return m, nil
}

// PublicStats counts what the landing page shows.
func (s *Store) PublicStats(ctx context.Context) (usecase.PublicStats, error) {
	var st usecase.PublicStats
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM organizations WHERE is_active),
		count(DISTINCT organization_id), count(*), avg(roi)::float8
		FROM use_cases WHERE status = 'published' AND deleted_at IS NULL`).Scan(
		&st.Organizations, &st.ContributingCompanies, &st.PublishedUseCases, &st.AverageRoi)
	if err != nil {
		return st, fmt.Errorf("counting the platform: %w", err)
	}
	return st, nil
}
