// Package calendardb is the PostgreSQL store of the events area.
package calendardb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements calendar.Store.
type Store struct{ pool *pgxpool.Pool }

// New returns the store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ calendar.Store = (*Store)(nil)

var errNoEvent = errs.E(errs.NotFound, "no such event")

// columns are an event's columns; $1 is the viewer.
const columns = `e.id, e.organization_id, e.created_by, e.title, e.title_ar, e.description, e.description_html,
	e.starts_at, e.ends_at, e.time_zone, e.online_url, e.location, e.capacity, e.attendee_count, e.created_at, e.updated_at,
	EXISTS (SELECT 1 FROM calendar_attendees a WHERE a.event_id = e.id AND a.user_id = $1::uuid)`

// seen is who may see an event: $2 the viewer's organization, $3 whether they see all.
const seen = `e.deleted_at IS NULL AND (e.organization_id IS NULL OR e.organization_id = $2::uuid OR $3::bool)`

func scan(row pgx.Row) (calendar.Event, error) {
	var e calendar.Event
	err := row.Scan(&e.ID, &e.OrganizationID, &e.CreatedBy, &e.Title, &e.TitleAr, &e.Description, &e.DescriptionHTML,
		&e.StartsAt, &e.EndsAt, &e.TimeZone, &e.OnlineURL, &e.Location, &e.Capacity, &e.AttendeesCount, &e.CreatedAt,
		&e.UpdatedAt, &e.AttendingByMe)
	e.Scope = calendar.ScopePlatform
	if e.OrganizationID != nil {
		e.Scope = calendar.ScopeOrganization
	}
	e.StartsAt, e.EndsAt, e.CreatedAt, e.UpdatedAt = e.StartsAt.UTC(), e.EndsAt.UTC(), e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, err
}

// Create stores e and records calendar.EventCreated with it.
func (s *Store) Create(ctx context.Context, e calendar.Event) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_events (id, organization_id, created_by, title, title_ar, description,
			description_html, starts_at, ends_at, time_zone, online_url, location, capacity, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
			e.ID, e.OrganizationID, e.CreatedBy, e.Title, e.TitleAr, e.Description, e.DescriptionHTML, e.StartsAt, e.EndsAt,
			e.TimeZone, e.OnlineURL, e.Location, e.Capacity, e.CreatedAt); err != nil {
			return fmt.Errorf("storing event: %w", err)
		}
		ev := calendar.EventCreated{EventID: e.ID, Scope: e.Scope, CreatedBy: e.CreatedBy, Title: e.Title, TitleAr: e.TitleAr,
			StartsAt: e.StartsAt, EndsAt: e.EndsAt, TimeZone: e.TimeZone}
		if e.OrganizationID != nil {
			ev.OrganizationID = *e.OrganizationID
		}
		return outbox.AddEvents(ctx, tx, ev)
	})
}

// Get reads a live event v may see.
func (s *Store) Get(ctx context.Context, v calendar.Viewer, id string) (calendar.Event, error) {
	e, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM calendar_events e WHERE e.id = $4::uuid AND `+seen,
		v.UserID, nullable(v.OrganizationID), v.All, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return calendar.Event{}, errNoEvent
	}
	return e, err
}

// nullable makes an empty organization id NULL (a principal without one sees platform events).
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// List reads the live events v may see that end after from and start before to, by start.
func (s *Store) List(ctx context.Context, v calendar.Viewer, from, to time.Time, limit int, after *calendar.Cursor) ([]calendar.Event, error) {
	args := []any{v.UserID, nullable(v.OrganizationID), v.All, from, to, limit}
	keyset := ""
	if after != nil {
		args = append(args, after.At, after.ID)
		keyset = " AND (e.starts_at, e.id) > ($7, $8::uuid)"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM calendar_events e
		WHERE `+seen+` AND e.ends_at > $4 AND e.starts_at < $5`+keyset+`
		ORDER BY e.starts_at, e.id LIMIT $6`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (calendar.Event, error) { return scan(row) })
}

// Update stores e's fields. A capacity below the attendance (a join that raced the change)
// answers Conflict through the table's check.
func (s *Store) Update(ctx context.Context, e calendar.Event) error {
	tag, err := s.pool.Exec(ctx, `UPDATE calendar_events SET title = $2, title_ar = $3, description = $4,
		description_html = $5, starts_at = $6, ends_at = $7, time_zone = $8, online_url = $9, location = $10,
		capacity = $11, updated_at = $12 WHERE id = $1 AND deleted_at IS NULL`,
		e.ID, e.Title, e.TitleAr, e.Description, e.DescriptionHTML, e.StartsAt, e.EndsAt, e.TimeZone, e.OnlineURL,
		e.Location, e.Capacity, e.UpdatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" {
		return errs.E(errs.Conflict, "the capacity is below the people now attending")
	}
	if err != nil {
		return fmt.Errorf("updating event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errNoEvent
	}
	return nil
}

// Delete marks the event deleted and records calendar.EventDeleted.
func (s *Store) Delete(ctx context.Context, id string, at time.Time) error {
	return postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE calendar_events SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL`, id, at)
		if err != nil {
			return fmt.Errorf("deleting event: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errNoEvent
		}
		return outbox.AddEvents(ctx, tx, calendar.EventDeleted{EventID: id, At: at})
	})
}

// Join adds userID to the event. The event's row is locked for the check and the count, so
// joins that race see each other's counts: a capacity of 10 admits exactly 10.
func (s *Store) Join(ctx context.Context, id, userID string, now time.Time) (calendar.Attendance, error) {
	var a calendar.Attendance
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var capacity *int
		var count int
		var ends time.Time
		err := tx.QueryRow(ctx, `SELECT capacity, attendee_count, ends_at FROM calendar_events
			WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).Scan(&capacity, &count, &ends)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoEvent
		}
		if err != nil {
			return fmt.Errorf("locking event: %w", err)
		}
		var already bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM calendar_attendees WHERE event_id = $1 AND user_id = $2)`,
			id, userID).Scan(&already); err != nil {
			return fmt.Errorf("reading attendance: %w", err)
		}
		a = calendar.Attendance{AttendeesCount: count, AttendingByMe: true}
		switch {
		case already:
			return nil
		case !ends.After(now):
			return calendar.ErrOver
		case capacity != nil && count >= *capacity:
			return calendar.ErrFull
		}
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_attendees (event_id, user_id, created_at) VALUES ($1, $2, $3)`,
			id, userID, now); err != nil {
			return fmt.Errorf("adding attendee: %w", err)
		}
		if err := tx.QueryRow(ctx, `UPDATE calendar_events SET attendee_count = attendee_count + 1 WHERE id = $1
			RETURNING attendee_count`, id).Scan(&a.AttendeesCount); err != nil {
			return fmt.Errorf("counting attendee: %w", err)
		}
		return nil
	})
	return a, err
}

// Leave removes userID's attendance, if any.
func (s *Store) Leave(ctx context.Context, id, userID string) (calendar.Attendance, error) {
	var a calendar.Attendance
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT attendee_count FROM calendar_events WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
			id).Scan(&a.AttendeesCount)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoEvent
		}
		if err != nil {
			return fmt.Errorf("locking event: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM calendar_attendees WHERE event_id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return fmt.Errorf("removing attendee: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return tx.QueryRow(ctx, `UPDATE calendar_events SET attendee_count = attendee_count - 1 WHERE id = $1
			RETURNING attendee_count`, id).Scan(&a.AttendeesCount)
	})
	return a, err
}

// Remind records calendar.ReminderDue once per start: the event's row is locked, and the start
// it reminded for is kept with it.
func (s *Store) Remind(ctx context.Context, id string, startsAt, now time.Time) (bool, error) {
	sent := false
	err := postgres.Unit(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		var e calendar.ReminderDue
		var reminded *time.Time
		err := tx.QueryRow(ctx, `SELECT id, title, title_ar, starts_at, time_zone, online_url, location, reminded_for
			FROM calendar_events WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).
			Scan(&e.EventID, &e.Title, &e.TitleAr, &e.StartsAt, &e.TimeZone, &e.OnlineURL, &e.Location, &reminded)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted: nothing to remind of
		}
		if err != nil {
			return fmt.Errorf("locking event: %w", err)
		}
		if !e.StartsAt.Equal(startsAt) || !e.StartsAt.After(now) || (reminded != nil && reminded.Equal(e.StartsAt)) {
			return nil // moved (its own task reminds), started, or reminded already
		}
		rows, err := tx.Query(ctx, `SELECT user_id::text FROM calendar_attendees WHERE event_id = $1 ORDER BY user_id`, id)
		if err != nil {
			return fmt.Errorf("reading attendees: %w", err)
		}
		if e.AttendeeIDs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("reading attendees: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE calendar_events SET reminded_for = starts_at WHERE id = $1`, id); err != nil {
			return fmt.Errorf("marking the reminder: %w", err)
		}
		sent = true
		if len(e.AttendeeIDs) == 0 {
			return nil
		}
		e.StartsAt = e.StartsAt.UTC()
		return outbox.AddEvents(ctx, tx, e)
	})
	return sent, err
}
