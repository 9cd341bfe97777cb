// Package peopledb is the PostgreSQL store of the people area.
package peopledb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements people.Store.
type Store struct{ pool *pgxpool.Pool }

// New returns the store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ people.Store = (*Store)(nil)

// visible is identity.CanSeeProfile in SQL for the active users u of organization o, the viewer
// being $1 (user) of $2 (organization). It keeps the partial indexes' predicate (not private,
// active, not deleted) so that the planner may use them.
const visible = `u.deleted_at IS NULL AND u.is_active AND u.profile_visibility <> 'private'
	AND o.is_active AND o.suspended_at IS NULL
	AND (u.profile_visibility = 'public'
		OR (u.profile_visibility = 'organization' AND u.organization_id = $2::uuid)
		OR (u.profile_visibility = 'verified_only' AND (u.organization_id = $2::uuid
			OR EXISTS (SELECT 1 FROM organizations vo WHERE vo.id = $2::uuid AND vo.verified_at IS NOT NULL))))`

// sortName is the directory's order; the same expression as the indexes of migration 00021.
const sortName = `lower(u.first_name || ' ' || u.last_name)`

const columns = `u.id, u.first_name, u.last_name, u.job_title, u.avatar_url, u.city, u.expertise_tags,
	o.id, o.name, o.industry, o.verified_at IS NOT NULL, coalesce(fc.followers, 0),
	EXISTS (SELECT 1 FROM people_follows mf WHERE mf.follower_id = $1::uuid AND mf.followee_id = u.id), ` + sortName

const from = ` FROM users u JOIN organizations o ON o.id = u.organization_id
	LEFT JOIN people_follow_counts fc ON fc.user_id = u.id`

func scan(row pgx.CollectableRow, extra ...any) (people.Person, error) {
	var p people.Person
	dest := append([]any{&p.ID, &p.FirstName, &p.LastName, &p.JobTitle, &p.Avatar, &p.City, &p.ExpertiseTags,
		&p.Organization.ID, &p.Organization.Name, &p.Organization.Industry, &p.Organization.IsVerified,
		&p.FollowersCount, &p.FollowedByMe, &p.SortName}, extra...)
	err := row.Scan(dest...)
	if p.ExpertiseTags == nil {
		p.ExpertiseTags = []string{}
	}
	return p, err
}

// likeEscape makes s a literal inside a LIKE pattern.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Directory lists the people viewer may see (not viewer), by name.
func (s *Store) Directory(ctx context.Context, viewer identity.Principal, q people.Query, limit int, after *people.DirectoryCursor) ([]people.Person, error) {
	sql, args := directorySQL(viewer, q, limit, after)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (people.Person, error) { return scan(row) })
}

// directorySQL is the directory's query and its arguments.
func directorySQL(viewer identity.Principal, q people.Query, limit int, after *people.DirectoryCursor) (string, []any) {
	args := []any{viewer.UserID, viewer.OrganizationID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{visible, "u.id <> $1::uuid"}
	if q.Q != "" {
		where = append(where, sortName+` LIKE '%' || `+arg(likeEscape.Replace(strings.ToLower(q.Q)))+` || '%'`)
	}
	if len(q.Expertise) > 0 {
		where = append(where, "u.expertise_tags @> "+arg(q.Expertise)+"::text[]")
	}
	if q.Industry != "" {
		where = append(where, "lower(o.industry) = lower("+arg(q.Industry)+")")
	}
	if q.City != "" {
		where = append(where, "lower(u.city) = lower("+arg(q.City)+")")
	}
	if after != nil {
		where = append(where, "("+sortName+", u.id) > ("+arg(after.Name)+", "+arg(after.ID)+"::uuid)")
	}
	sql := "SELECT " + columns + from + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + sortName + ", u.id LIMIT " + arg(limit)
	return sql, args
}

// Visible says whether viewer may see the active user id (themselves included).
func (s *Store) Visible(ctx context.Context, viewer identity.Principal, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users u JOIN organizations o ON o.id = u.organization_id
		WHERE u.id = $3::uuid AND ((u.id = $1::uuid AND u.deleted_at IS NULL AND u.is_active) OR (`+visible+`)))`,
		viewer.UserID, viewer.OrganizationID, id).Scan(&ok)
	return ok, err
}

// Follow records the follow, its counts and people.Followed in one transaction.
func (s *Store) Follow(ctx context.Context, followerID, followeeID string, at time.Time) (bool, error) {
	added := false
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO people_follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, followerID, followeeID, at)
		if err != nil {
			return fmt.Errorf("storing the follow: %w", err)
		}
		if added = tag.RowsAffected() == 1; !added {
			return nil
		}
		if err := count(ctx, tx, followerID, followeeID, 1); err != nil {
			return err
		}
		return outbox.AddEvents(ctx, tx, people.Followed{FollowerID: followerID, FolloweeID: followeeID, At: at})
	})
	return added, err
}

// Unfollow removes the follow, its counts and records people.Unfollowed.
func (s *Store) Unfollow(ctx context.Context, followerID, followeeID string, at time.Time) (bool, error) {
	removed := false
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM people_follows WHERE follower_id = $1 AND followee_id = $2`, followerID, followeeID)
		if err != nil {
			return fmt.Errorf("removing the follow: %w", err)
		}
		if removed = tag.RowsAffected() == 1; !removed {
			return nil
		}
		if err := count(ctx, tx, followerID, followeeID, -1); err != nil {
			return err
		}
		return outbox.AddEvents(ctx, tx, people.Unfollowed{FollowerID: followerID, FolloweeID: followeeID, At: at})
	})
	return removed, err
}

// count moves both counts by d, in a fixed order of rows so that two follows never deadlock.
func count(ctx context.Context, tx pgx.Tx, followerID, followeeID string, d int) error {
	_, err := tx.Exec(ctx, `INSERT INTO people_follow_counts AS c (user_id, followers, following)
		SELECT id, CASE WHEN id = $2::uuid THEN greatest($3::int, 0) ELSE 0 END,
		           CASE WHEN id = $1::uuid THEN greatest($3::int, 0) ELSE 0 END
		FROM unnest(ARRAY[$1::uuid, $2::uuid]) AS id ORDER BY id
		ON CONFLICT (user_id) DO UPDATE SET
			followers = c.followers + CASE WHEN c.user_id = $2::uuid THEN $3::int ELSE 0 END,
			following = c.following + CASE WHEN c.user_id = $1::uuid THEN $3::int ELSE 0 END`,
		followerID, followeeID, d)
	if err != nil {
		return fmt.Errorf("counting the follow: %w", err)
	}
	return nil
}

// Follows lists one side of id's follows that viewer may see, newest first.
func (s *Store) Follows(ctx context.Context, viewer identity.Principal, id string, followers bool, limit int, after *people.FollowCursor) ([]people.Person, error) {
	mine, other := "f.followee_id", "f.follower_id"
	if !followers {
		mine, other = other, mine
	}
	args := []any{viewer.UserID, viewer.OrganizationID, id, limit}
	keyset := ""
	if after != nil {
		args = append(args, after.At, after.ID)
		keyset = " AND (f.created_at, " + other + ") < ($5, $6::uuid)"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+columns+`, f.created_at FROM people_follows f
		JOIN users u ON u.id = `+other+` JOIN organizations o ON o.id = u.organization_id
		LEFT JOIN people_follow_counts fc ON fc.user_id = u.id
		WHERE `+mine+` = $3::uuid AND ((u.id = $1::uuid AND u.is_active AND u.deleted_at IS NULL) OR (`+visible+`))`+keyset+`
		ORDER BY f.created_at DESC, `+other+` DESC LIMIT $4`, args...)
	if err != nil {
		return nil, fmt.Errorf("follows: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (people.Person, error) {
		var at time.Time
		p, err := scan(row, &at)
		p.FollowedAt = &at
		return p, err
	})
}

// Counts reads id's follow counts.
func (s *Store) Counts(ctx context.Context, id string) (people.Counts, error) {
	var c people.Counts
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(followers), 0), coalesce(max(following), 0)
		FROM people_follow_counts WHERE user_id = $1::uuid`, id).Scan(&c.Followers, &c.Following)
	return c, err
}
