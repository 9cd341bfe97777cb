// Package activitydb is the activity feed's PostgreSQL store: it records entries from the other
// areas' events (reading what the events do not carry, such as the category and the actor's
// organization, from their tables in the subscriber's transaction) and reads feeds with
// visibility decided at read time.
package activitydb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/activity"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store is the activity store on a pool; writes join the caller's unit of work (postgres.On).
type Store struct{ pool *pgxpool.Pool }

// New returns the store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ activity.Store = (*Store)(nil)

// The entry as shown, with its actor; visible is the read-time rule: the actor is not removed
// and their profile is visible to the viewer ($1 the viewer, $2 the viewer's organization), and
// the topic, reply or use case it is about is still shown (not deleted, hidden or unpublished).
const (
	columns = `a.id, a.kind, a.actor_id, u.first_name || ' ' || u.last_name, u.avatar_url, a.content, a.created_at,
       a.category, a.topic_id, a.post_id, a.use_case_id, a.calendar_event_id, ev.organization_id, a.link,
       u.profile_visibility, a.organization_id, a.owner_id`
	from = ` FROM activity_entries a
  JOIN users u ON u.id = a.actor_id
  LEFT JOIN forum_topics t ON t.id = a.topic_id
  LEFT JOIN forum_posts p ON p.id = a.post_id
  LEFT JOIN use_cases c ON c.id = a.use_case_id
  LEFT JOIN calendar_events ev ON ev.id = a.calendar_event_id
  LEFT JOIN users ow ON ow.id = a.owner_id AND a.kind = 'followed'`
	visible = `
   AND u.deleted_at IS NULL
   AND (u.id = $1 OR u.profile_visibility = 'public' OR (u.profile_visibility = 'organization' AND u.organization_id = $2))
   AND (a.topic_id IS NULL OR (t.deleted_at IS NULL AND t.hidden_by IS NULL))
   AND (a.post_id IS NULL OR (p.deleted_at IS NULL AND p.hidden_by IS NULL))
   AND (a.use_case_id IS NULL OR (c.status = 'published' AND c.deleted_at IS NULL))
   AND (a.calendar_event_id IS NULL OR (ev.deleted_at IS NULL AND (ev.organization_id IS NULL OR ev.organization_id = $2)))
   AND (a.kind <> 'followed' OR (ow.deleted_at IS NULL
        AND (ow.id = $1 OR ow.profile_visibility = 'public' OR (ow.profile_visibility = 'organization' AND ow.organization_id = $2))
        AND EXISTS (SELECT 1 FROM people_follows f WHERE f.follower_id = a.actor_id AND f.followee_id = a.owner_id)))`
)

// feedSQL is a feed's query: $1 the viewer, $2 their organization, $3 the id to read below. Each
// branch walks one index from $3 down and stops at limit. The limit is written into the text
// (at most a hundred and one, one statement per size asked) so that PostgreSQL may keep one
// generic plan per statement: planning a page costs more than reading it (warm, 1.7 ms against
// 0.3 ms for the platform's), and a generic plan with the limit as a parameter assumes a tenth
// of the table and reads the platform's whole feed. The platform and organization statements
// get their generic plan after five custom ones; Feed asks for the me statement's.
func feedSQL(scope string, limit int) string {
	n := strconv.Itoa(limit)
	page := ` AND a.id < $3` + visible + ` ORDER BY a.id DESC LIMIT ` + n
	switch scope {
	case activity.ScopeMe:
		// About me: what I did, what others did to my content, and what the people I follow did
		// (one walk of the actor index per person followed whose profile I may see: a hidden one's
		// walk would read all their entries to show none). An OR over the columns would read every
		// entry instead.
		return `SELECT * FROM (
  (SELECT ` + columns + from + ` WHERE a.actor_id = $1` + page + `)
  UNION ALL
  (SELECT ` + columns + from + ` WHERE a.owner_id = $1 AND a.actor_id <> $1` + page + `)
  UNION ALL
  (SELECT f.* FROM people_follows pf
     JOIN users fu ON fu.id = pf.followee_id AND fu.deleted_at IS NULL
      AND (fu.profile_visibility = 'public' OR (fu.profile_visibility = 'organization' AND fu.organization_id = $2))
     CROSS JOIN LATERAL (
       SELECT ` + columns + from + ` WHERE a.actor_id = pf.followee_id AND (a.owner_id IS NULL OR a.owner_id <> $1)` + page + `) f
   WHERE pf.follower_id = $1)
) m ORDER BY 1 DESC LIMIT ` + n
	case activity.ScopeOrganization:
		return `SELECT ` + columns + from + ` WHERE a.organization_id = $2` + page
	default:
		return `SELECT ` + columns + from + ` WHERE true` + page
	}
}

// Feed reads a page of a feed, newest first.
func (s *Store) Feed(ctx context.Context, q activity.Query) ([]activity.Entry, error) {
	if q.Limit < 1 || q.Limit > 101 {
		return nil, fmt.Errorf("activitydb: feed: a page of %d", q.Limit)
	}
	after := q.After
	if after <= 0 {
		after = math.MaxInt64
	}
	sql := feedSQL(q.Scope, q.Limit)
	read := func(db postgres.DB) ([]activity.Entry, error) {
		rows, err := db.Query(ctx, sql, q.Viewer, q.OrganizationID, after)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, scanEntry)
	}
	if q.Scope != activity.ScopeMe || postgres.InTx(ctx) {
		entries, err := read(postgres.On(ctx, s.pool))
		if err != nil {
			return nil, fmt.Errorf("activitydb: feed: %w", err)
		}
		return entries, nil
	}
	// The me feed's generic plan is the custom plans' shape (one index walk per branch) but is
	// costed a little higher, so PostgreSQL would plan every page (4 ms warm, more than the page
	// takes to read); a read-only transaction asks for the generic plan, made once per
	// connection.
	var entries []activity.Entry
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		var err error
		entries, err = read(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("activitydb: feed: %w", err)
	}
	return entries, nil
}

// Entry reads one entry just recorded, for the live push (whom it may reach is the caller's rule).
func (s *Store) Entry(ctx context.Context, id int64) (activity.Entry, error) {
	rows, err := postgres.On(ctx, s.pool).Query(ctx, `SELECT `+columns+from+` WHERE a.id = $1`, id)
	if err != nil {
		return activity.Entry{}, fmt.Errorf("activitydb: entry: %w", err)
	}
	return pgx.CollectExactlyOneRow(rows, scanEntry)
}

func scanEntry(row pgx.CollectableRow) (activity.Entry, error) {
	var (
		e                      activity.Entry
		id                     int64
		topic, post, useCase   *string
		event, eventOrg, owner *string
		at                     time.Time
	)
	if err := row.Scan(&id, &e.Kind, &e.UserID, &e.User, &e.UserAvatar, &e.Content, &at, &e.Category,
		&topic, &post, &useCase, &event, &eventOrg, &e.Link, &e.Visibility, &e.OrganizationID, &owner); err != nil {
		return e, err
	}
	e.ID, e.Time = strconv.FormatInt(id, 10), at.UTC()
	if owner != nil {
		e.OwnerID = *owner
	}
	switch {
	case topic != nil:
		e.TargetType, e.TargetID = "forum_topic", *topic
	case useCase != nil:
		e.TargetType, e.TargetID = "use_case", *useCase
	case event != nil:
		e.TargetType, e.TargetID = "event", *event
		if eventOrg != nil {
			e.EventOrganizationID = *eventOrg
		}
	case e.Kind == activity.KindFollowed && e.OwnerID != "":
		e.TargetType, e.TargetID = "user", e.OwnerID
	default:
		e.TargetType, e.TargetID = "user", e.UserID
	}
	e.Describe()
	return e, nil
}

// The recorders: each writes the entry of one event from the tables it is about, in the caller's
// transaction, and answers the entry's id (0 when there is none: a redelivered event, or content
// gone before the event was followed).
const insert = `INSERT INTO activity_entries (event_id, kind, actor_id, organization_id, owner_id, topic_id, post_id, use_case_id, calendar_event_id, content, category, link, created_at) `

// TopicPosted records a question asked or a discussion started.
func (s *Store) TopicPosted(ctx context.Context, eventID int64, at time.Time, topicID string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, CASE t.kind WHEN 'question' THEN 'question_asked' ELSE 'topic_posted' END, t.author_id, u.organization_id, NULL,
       t.id, NULL, NULL, NULL, t.title, cat.name_en, '/forum/topics/' || t.id, $2
  FROM forum_topics t JOIN users u ON u.id = t.author_id JOIN forum_categories cat ON cat.id = t.category_id
 WHERE t.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, topicID)
}

// ReplyPosted records an answer to a question or a reply to a discussion, about the topic's
// author's content.
func (s *Store) ReplyPosted(ctx context.Context, eventID int64, at time.Time, replyID string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, CASE t.kind WHEN 'question' THEN 'answer_posted' ELSE 'reply_posted' END, p.author_id, u.organization_id,
       NULLIF(t.author_id, p.author_id), t.id, p.id, NULL, NULL, t.title, cat.name_en, '/forum/topics/' || t.id || '#reply-' || p.id, $2
  FROM forum_posts p JOIN forum_topics t ON t.id = p.topic_id JOIN users u ON u.id = p.author_id
  JOIN forum_categories cat ON cat.id = t.category_id
 WHERE p.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, replyID)
}

// BestAnswer records a best answer chosen by markedBy, about the answer's author's content.
func (s *Store) BestAnswer(ctx context.Context, eventID int64, at time.Time, replyID, markedBy string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, 'best_answer', u.id, u.organization_id, NULLIF(p.author_id, u.id), t.id, p.id, NULL, NULL, t.title, cat.name_en,
       '/forum/topics/' || t.id || '#reply-' || p.id, $2
  FROM forum_posts p JOIN forum_topics t ON t.id = p.topic_id JOIN users u ON u.id = $4
  JOIN forum_categories cat ON cat.id = t.category_id
 WHERE p.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, replyID, markedBy)
}

// UseCasePublished records a use case published, as its author's.
func (s *Store) UseCasePublished(ctx context.Context, eventID int64, at time.Time, useCaseID string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, 'use_case_published', c.author_id, c.organization_id, NULL, NULL, NULL, c.id, NULL, c.title, c.category,
       '/use-cases/' || c.id, $2
  FROM use_cases c WHERE c.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, useCaseID)
}

// MemberJoined records a member joining their organization.
func (s *Store) MemberJoined(ctx context.Context, eventID int64, at time.Time, userID string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, 'member_joined', u.id, u.organization_id, NULL, NULL, NULL, NULL, NULL, o.name, '', '/people/' || u.id, $2
  FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, userID)
}

// EventCreated records an event created, as its creator's.
func (s *Store) EventCreated(ctx context.Context, eventID int64, at time.Time, calendarEventID string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, 'event_created', ev.created_by, u.organization_id, NULL, NULL, NULL, NULL, ev.id, ev.title, '', '/events/' || ev.id, $2
  FROM calendar_events ev JOIN users u ON u.id = ev.created_by WHERE ev.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, calendarEventID)
}

// Followed records someone following someone, about the followee.
func (s *Store) Followed(ctx context.Context, eventID int64, at time.Time, followerID, followeeID string) (int64, error) {
	return s.record(ctx, insert+`
SELECT $1, 'followed', u.id, u.organization_id, f.id, NULL, NULL, NULL, NULL, f.first_name || ' ' || f.last_name, '', '/people/' || f.id, $2
  FROM users u JOIN users f ON f.id = $4 WHERE u.id = $3
ON CONFLICT (event_id) DO NOTHING RETURNING id`, eventID, at, followerID, followeeID)
}

// Followers are the followers of userID who may see an entry of theirs live: all of them when
// the profile is public, those of organizationID when it is visible to the organization only.
func (s *Store) Followers(ctx context.Context, userID, visibility, organizationID string) ([]string, error) {
	if visibility != "public" && visibility != "organization" {
		return nil, nil
	}
	rows, err := postgres.On(ctx, s.pool).Query(ctx, `SELECT f.follower_id::text FROM people_follows f JOIN users u ON u.id = f.follower_id
 WHERE f.followee_id = $1 AND u.deleted_at IS NULL AND ($2 = 'public' OR u.organization_id = $3)`, userID, visibility, organizationID)
	if err != nil {
		return nil, fmt.Errorf("activitydb: followers: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (s *Store) record(ctx context.Context, sql string, args ...any) (int64, error) {
	var id int64
	err := postgres.On(ctx, s.pool).QueryRow(ctx, sql, args...).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("activitydb: recording: %w", err)
	}
	return id, nil
}
