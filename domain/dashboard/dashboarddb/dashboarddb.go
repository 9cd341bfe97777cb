// Package dashboarddb is the dashboard's PostgreSQL store: counters per user or organization
// and day (migration 00029), written by the dashboard's event subscriber in its transaction and
// recounted from the areas' tables by Rebuild; Figures reads a whole dashboard in one statement.
package dashboarddb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/dashboard"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store is the dashboard store on a pool; Apply joins the caller's unit of work.
type Store struct {
	pool       *pgxpool.Pool
	subscriber string
}

// New returns the store; subscriber is the name of the durable subscriber that applies the
// events (Rebuild moves its cursor).
func New(pool *pgxpool.Pool, subscriber string) *Store {
	return &Store{pool: pool, subscriber: subscriber}
}

var _ dashboard.Store = (*Store)(nil)

// applySQL adds one event's change. An event a rebuild already counted is skipped (and
// forgotten); counters are keyed by the user, or by the organization the user belongs to.
const applySQL = `
WITH counted AS (DELETE FROM dashboard_counted WHERE event_id = $1 RETURNING 1),
d AS (SELECT * FROM unnest($2::uuid[], $3::bool[], $4::text[], $5::bigint[]) AS d (user_id, org, metric, n)
      WHERE NOT EXISTS (SELECT 1 FROM counted)),
r AS (SELECT CASE WHEN d.org THEN 'o' ELSE 'u' END AS scope, CASE WHEN d.org THEN u.organization_id ELSE u.id END AS scope_id,
             d.metric, sum(d.n) AS n
      FROM d JOIN users u ON u.id = d.user_id GROUP BY 1, 2, 3),
c AS (INSERT INTO dashboard_counts (scope, scope_id, metric, day, n) SELECT scope, scope_id, metric, $6, n FROM r
      ON CONFLICT (scope, scope_id, metric, day) DO UPDATE SET n = dashboard_counts.n + excluded.n
      RETURNING scope, scope_id),
a AS (SELECT u.organization_id, u.id, count(*)::int AS k FROM unnest($7::uuid[]) AS x (id) JOIN users u ON u.id = x.id
      WHERE NOT EXISTS (SELECT 1 FROM counted) GROUP BY 1, 2),
ad AS (INSERT INTO dashboard_active_days (organization_id, day, user_id, actions) SELECT organization_id, $6, id, k FROM a
       ON CONFLICT (organization_id, day, user_id) DO UPDATE SET actions = dashboard_active_days.actions + excluded.actions),
am AS (INSERT INTO dashboard_month_actions (month, user_id, actions) SELECT date_trunc('month', $6::date)::date, id, k FROM a
       ON CONFLICT (month, user_id) DO UPDATE SET actions = dashboard_month_actions.actions + excluded.actions)
SELECT scope::text, scope_id::text FROM c UNION SELECT 'o', organization_id::text FROM a UNION SELECT 'u', id::text FROM a`

// Apply adds one event's change on day.
func (s *Store) Apply(ctx context.Context, eventID int64, day time.Time, c dashboard.Change) (dashboard.Touched, error) {
	var t dashboard.Touched
	if len(c.Deltas) == 0 && len(c.Contributed) == 0 {
		return t, nil
	}
	users := make([]string, len(c.Deltas))
	orgs := make([]bool, len(c.Deltas))
	metrics := make([]string, len(c.Deltas))
	ns := make([]int64, len(c.Deltas))
	for i, d := range c.Deltas {
		users[i], orgs[i], metrics[i], ns[i] = d.UserID, d.Organization, d.Metric, d.N
	}
	contributed := c.Contributed
	if contributed == nil {
		contributed = []string{}
	}
	rows, err := postgres.On(ctx, s.pool).Query(ctx, applySQL, eventID, users, orgs, metrics, ns,
		day.UTC().Format(time.DateOnly), contributed)
	if err != nil {
		return t, fmt.Errorf("counting event %d: %w", eventID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var scope, id string
		if err := rows.Scan(&scope, &id); err != nil {
			return t, fmt.Errorf("counting event %d: %w", eventID, err)
		}
		if scope == "u" {
			t.Users = append(t.Users, id)
		} else {
			t.Organizations = append(t.Organizations, id)
		}
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("counting event %d: %w", eventID, err)
	}
	return t, nil
}

// Upcoming lists the next events the user may see, soonest first (calendar_events_upcoming).
func (s *Store) Upcoming(ctx context.Context, userID, orgID string, now time.Time, n int) ([]dashboard.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.id::text, e.title, e.title_ar, e.starts_at, e.location, e.online_url <> '',
		EXISTS (SELECT 1 FROM calendar_attendees a WHERE a.event_id = e.id AND a.user_id = $1)
		FROM calendar_events e
		WHERE e.deleted_at IS NULL AND e.starts_at > $3 AND (e.organization_id IS NULL OR e.organization_id = $2)
		ORDER BY e.starts_at, e.id LIMIT $4`, userID, orgID, now, n)
	if err != nil {
		return nil, fmt.Errorf("listing upcoming events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dashboard.Event, error) {
		var e dashboard.Event
		err := row.Scan(&e.ID, &e.Title, &e.TitleAr, &e.Date, &e.Location, &e.Online, &e.AttendingByMe)
		if e.Location == "" && e.Online {
			e.Location = "Online"
		}
		e.Link = "/events/" + e.ID
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing upcoming events: %w", err)
	}
	if events == nil {
		events = []dashboard.Event{}
	}
	return events, nil
}

// figuresSQL reads a dashboard: $1 the user, $2 their organization, $3 today, $4 the period's
// first day (NULL: all), $5 the month's first day. Every part is an index walk: the user's and
// the organization's counter rows, the organization's active days in the period, the month's
// (month, actions) index and the organization's use cases.
const figuresSQL = `
SELECT
  (SELECT coalesce(jsonb_object_agg(metric, jsonb_build_array(total, week)), '{}') FROM (
     SELECT metric, sum(n) AS total, coalesce(sum(n) FILTER (WHERE day > $3::date - 7), 0) AS week
     FROM dashboard_counts WHERE scope = 'u' AND scope_id = $1 GROUP BY metric) x),
  (SELECT coalesce(jsonb_object_agg(metric, jsonb_build_array(total, period, week)), '{}') FROM (
     SELECT metric, sum(n) AS total, coalesce(sum(n) FILTER (WHERE $4::date IS NULL OR day >= $4::date), 0) AS period,
            coalesce(sum(n) FILTER (WHERE day > $3::date - 7), 0) AS week
     FROM dashboard_counts WHERE scope = 'o' AND scope_id = $2 GROUP BY metric) x),
  (SELECT count(DISTINCT user_id) FROM dashboard_active_days
     WHERE organization_id = $2 AND ($4::date IS NULL OR day >= $4::date)),
  coalesce((SELECT following FROM people_follow_counts WHERE user_id = $1), 0),
  coalesce(m.actions, 0),
  CASE WHEN m.actions IS NULL THEN 0 ELSE
    (SELECT count(*) FROM dashboard_month_actions b WHERE b.month = $5 AND b.actions < m.actions) END,
  (SELECT count(*) FROM dashboard_month_actions b WHERE b.month = $5),
  uc.verified, uc.views, uc.roi
FROM (SELECT 1) one
LEFT JOIN dashboard_month_actions m ON m.month = $5 AND m.user_id = $1
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE verified_at IS NOT NULL) AS verified, coalesce(sum(view_count), 0) AS views,
         round(avg(roi), 1)::float8 AS roi
  FROM use_cases WHERE organization_id = $2 AND status = 'published' AND deleted_at IS NULL) uc`

// Messages counts the user's conversations, unread messages and conversations active today.
func (s *Store) Messages(ctx context.Context, userID string, today time.Time) (dashboard.Messages, error) {
	var m dashboard.Messages
	err := s.pool.QueryRow(ctx, `SELECT count(*),
		coalesce(sum(c.last_seq - p.last_read_seq) FILTER (WHERE NOT p.muted AND NOT p.archived), 0),
		count(*) FILTER (WHERE c.last_message_at >= $2)
		FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
		WHERE p.user_id = $1 AND p.left_at IS NULL`, userID, today).Scan(&m.Conversations, &m.Unread, &m.Today)
	if err != nil {
		return m, fmt.Errorf("counting messages: %w", err)
	}
	return m, nil
}

// Figures reads everything a dashboard shows, in one statement.
func (s *Store) Figures(ctx context.Context, q dashboard.Query) (dashboard.Figures, error) {
	var (
		f         dashboard.Figures
		user, org []byte
		since     *string
	)
	if !q.Since.IsZero() {
		v := q.Since.Format(time.DateOnly)
		since = &v
	}
	err := s.pool.QueryRow(ctx, figuresSQL, q.UserID, q.OrganizationID, q.Today.Format(time.DateOnly), since,
		q.Month.Format(time.DateOnly)).Scan(&user, &org, &f.ActiveMembers, &f.Following, &f.MonthActions, &f.MonthBelow,
		&f.MonthActive, &f.UseCasesVerified, &f.UseCaseViews, &f.AverageROI)
	if err != nil {
		return f, fmt.Errorf("reading the dashboard: %w", err)
	}
	var u map[string][2]int64
	if err := json.Unmarshal(user, &u); err != nil {
		return f, fmt.Errorf("reading the user's counters: %w", err)
	}
	var o map[string][3]int64
	if err := json.Unmarshal(org, &o); err != nil {
		return f, fmt.Errorf("reading the organization's counters: %w", err)
	}
	f.User, f.UserWeek = make(map[string]int64, len(u)), make(map[string]int64, len(u))
	for k, v := range u {
		f.User[k], f.UserWeek[k] = v[0], v[1]
	}
	f.Org, f.OrgPeriod, f.OrgWeek = make(map[string]int64, len(o)), make(map[string]int64, len(o)), make(map[string]int64, len(o))
	for k, v := range o {
		f.Org[k], f.OrgPeriod[k], f.OrgWeek[k] = v[0], v[1], v[2]
	}
	return f, nil
}

// day is a time's UTC date in SQL.
const day = `(%s AT TIME ZONE 'UTC')::date`

func d(col string) string { return fmt.Sprintf(day, col) }

// recountSQL counts, from the areas' tables, what the subscriber adds from events: a change on
// the day it happened, and a removal as minus one on the day of the removal. What the tables
// keep no date for (a best answer's marking) is placed on the topic's last update, and a like,
// save or bookmark taken back is simply absent: totals are exact, the day of such a change may
// differ from the one the events gave it.
var recountSQL = `
INSERT INTO dashboard_counts (scope, scope_id, metric, day, n)
SELECT scope, scope_id, metric, day, sum(n) FROM (
  SELECT 'u' AS scope, author_id AS scope_id, 'questions' AS metric, ` + d("created_at") + ` AS day, 1 AS n
    FROM forum_topics WHERE kind = 'question'
  UNION ALL SELECT 'u', author_id, 'questions', ` + d("deleted_at") + `, -1 FROM forum_topics WHERE kind = 'question' AND deleted_at IS NOT NULL
  UNION ALL SELECT 'u', author_id, 'answers', ` + d("created_at") + `, 1 FROM forum_posts
  UNION ALL SELECT 'u', author_id, 'answers', ` + d("deleted_at") + `, -1 FROM forum_posts WHERE deleted_at IS NOT NULL
  UNION ALL SELECT 'u', user_id, 'saved', ` + d("created_at") + `, 1 FROM forum_bookmarks
  UNION ALL SELECT 'u', user_id, 'saved', ` + d("created_at") + `, 1 FROM use_case_saves
  UNION ALL SELECT 'u', x.author_id, 'reputation', ` + d("l.created_at") + `, $1 FROM forum_likes l
    JOIN forum_topics x ON l.target_type = 'topic' AND x.id = l.target_id
  UNION ALL SELECT 'u', x.author_id, 'reputation', ` + d("l.created_at") + `, $1 FROM forum_likes l
    JOIN forum_posts x ON l.target_type = 'post' AND x.id = l.target_id
  UNION ALL SELECT 'u', c.author_id, 'reputation', ` + d("l.created_at") + `, $1 FROM use_case_likes l
    JOIN use_cases c ON c.id = l.use_case_id
  UNION ALL SELECT 'u', r.author_id, 'reputation', ` + d("t.updated_at") + `, $2 FROM forum_topics t
    JOIN forum_posts r ON r.id = t.best_answer_id
  UNION ALL SELECT 'u', author_id, 'drafts', ` + d("created_at") + `, 1 FROM use_cases
    WHERE status IN ('draft', 'changes_requested') AND deleted_at IS NULL
  UNION ALL SELECT 'o', organization_id, 'members', ` + d("created_at") + `, 1 FROM users
  UNION ALL SELECT 'o', organization_id, 'members', ` + d("deleted_at") + `, -1 FROM users WHERE deleted_at IS NOT NULL
  UNION ALL SELECT 'o', organization_id, 'joined', ` + d("created_at") + `, 1 FROM users
  UNION ALL SELECT 'o', u.organization_id, m.metric, ` + d("t.created_at") + `, 1 FROM forum_topics t
    JOIN users u ON u.id = t.author_id CROSS JOIN (VALUES ('topics'), ('posts')) m (metric)
  UNION ALL SELECT 'o', u.organization_id, m.metric, ` + d("t.deleted_at") + `, -1 FROM forum_topics t
    JOIN users u ON u.id = t.author_id CROSS JOIN (VALUES ('topics'), ('posts')) m (metric) WHERE t.deleted_at IS NOT NULL
  UNION ALL SELECT 'o', u.organization_id, 'posts', ` + d("p.created_at") + `, 1 FROM forum_posts p JOIN users u ON u.id = p.author_id
  UNION ALL SELECT 'o', u.organization_id, 'posts', ` + d("p.deleted_at") + `, -1 FROM forum_posts p JOIN users u ON u.id = p.author_id
    WHERE p.deleted_at IS NOT NULL
  UNION ALL SELECT 'o', u.organization_id, 'submissions', ` + d("f.at") + `, 1 FROM (
      SELECT use_case_id, min(at) AS at FROM use_case_transitions WHERE action = 'submit' GROUP BY use_case_id) f
    JOIN use_cases c ON c.id = f.use_case_id JOIN users u ON u.id = c.author_id
) x GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0`

// contributionsSQL are who posted a topic or reply or submitted a use case, per day; the
// caller groups them.
var contributionsSQL = `
  SELECT author_id AS user_id, ` + d("created_at") + ` AS day FROM forum_topics
  UNION ALL SELECT author_id, ` + d("created_at") + ` FROM forum_posts
  UNION ALL SELECT actor_id, ` + d("at") + ` FROM use_case_transitions WHERE action = 'submit'`

// Rebuild recounts every counter in one repeatable-read transaction and moves the subscriber's
// cursor to its snapshot's horizon (the oldest transaction still running when it began): what
// is logged before that, the recount counted. What is logged after it and was already
// committed when the snapshot was taken, the recount counted too, and Apply skips once
// (dashboard_counted); the rest Apply adds. The cursor's row lock keeps the subscriber out while
// it runs; it fails with a serialization error when the subscriber moved the cursor since the
// snapshot, and is tried again.
func (s *Store) Rebuild(ctx context.Context) (dashboard.RebuildReport, error) {
	var r dashboard.RebuildReport
	for attempt := 0; ; attempt++ {
		var err error
		r, err = s.rebuild(ctx)
		var pgErr *pgconn.PgError
		if err != nil && errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") && attempt < 20 {
			continue
		}
		return r, err
	}
}

func (s *Store) rebuild(ctx context.Context) (dashboard.RebuildReport, error) {
	var r dashboard.RebuildReport
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return r, fmt.Errorf("rebuilding the dashboard: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The first statement takes the snapshot; the lock waits for a delivery in flight.
	var horizon string
	if err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&horizon); err != nil {
		return r, fmt.Errorf("taking the snapshot: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM domain_event_cursors WHERE subscriber = $1 FOR UPDATE`, s.subscriber); err != nil {
		return r, fmt.Errorf("locking the dashboard's cursor: %w", err)
	}
	for _, table := range []string{"dashboard_counts", "dashboard_active_days", "dashboard_month_actions", "dashboard_counted"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table); err != nil {
			return r, fmt.Errorf("emptying %s: %w", table, err)
		}
	}
	tag, err := tx.Exec(ctx, recountSQL, dashboard.ReputationPerLike, dashboard.ReputationPerBestAnswer)
	if err != nil {
		return r, fmt.Errorf("recounting: %w", err)
	}
	r.Counters = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, `INSERT INTO dashboard_active_days (organization_id, day, user_id, actions)
		SELECT u.organization_id, x.day, x.user_id, count(*) FROM (`+contributionsSQL+`) x
		JOIN users u ON u.id = x.user_id GROUP BY 1, 2, 3`); err != nil {
		return r, fmt.Errorf("recounting active days: %w", err)
	}
	r.ActiveDays = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, `INSERT INTO dashboard_month_actions (month, user_id, actions)
		SELECT date_trunc('month', x.day)::date, x.user_id, count(*) FROM (`+contributionsSQL+`) x GROUP BY 1, 2`); err != nil {
		return r, fmt.Errorf("recounting months: %w", err)
	}
	r.MonthRows = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, `INSERT INTO dashboard_counted (event_id)
		SELECT id FROM domain_events WHERE txid >= $1::xid8`, horizon); err != nil {
		return r, fmt.Errorf("remembering counted events: %w", err)
	}
	r.Counted = tag.RowsAffected()
	if _, err := tx.Exec(ctx, `INSERT INTO domain_event_cursors (subscriber, txid, id) VALUES ($1, $2::xid8, 0)
		ON CONFLICT (subscriber) DO UPDATE SET txid = excluded.txid, id = 0, attempts = 0, last_error = NULL, updated_at = now()`,
		s.subscriber, horizon); err != nil {
		return r, fmt.Errorf("moving the dashboard's cursor: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return r, fmt.Errorf("committing the rebuild: %w", err)
	}
	return r, nil
}
