// Package calendar is the events area: platform events (created by the platform's moderators,
// seen by everyone) and organization events (created by an organization's admins, seen by its
// members only), attendance with an optional capacity, a reminder to attendees before the start,
// and the event as an iCalendar file (RFC 5545).
package calendar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
)

// Scopes: who an event is for.
const (
	ScopePlatform     = "platform"     // every signed-in user; created by moderators
	ScopeOrganization = "organization" // the creator's organization; created by its admins
)

// Event is an event as a viewer sees it.
type Event struct {
	ID              string    `json:"id"`
	Scope           string    `json:"scope"`
	OrganizationID  *string   `json:"organizationId"`
	CreatedBy       string    `json:"createdBy"`
	Title           string    `json:"title"`
	TitleAr         string    `json:"titleAr"`
	Description     string    `json:"description"`
	DescriptionHTML string    `json:"descriptionHtml"`
	StartsAt        time.Time `json:"startsAt"`
	EndsAt          time.Time `json:"endsAt"`
	TimeZone        string    `json:"timeZone"`
	OnlineURL       string    `json:"onlineUrl"`
	Location        string    `json:"location"`
	Capacity        *int      `json:"capacity"`
	AttendeesCount  int       `json:"attendeesCount"`
	AttendingByMe   bool      `json:"attendingByMe"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// Input is an event as a client writes it. Times are RFC 3339 instants, or local times
// ("2026-12-10T18:00") read in TimeZone.
type Input struct {
	Scope       string `json:"scope"`
	Title       string `json:"title"`
	TitleAr     string `json:"titleAr"`
	Description string `json:"description"`
	StartsAt    string `json:"startsAt"`
	EndsAt      string `json:"endsAt"`
	TimeZone    string `json:"timeZone"`
	OnlineURL   string `json:"onlineUrl"`
	Location    string `json:"location"`
	Capacity    *int   `json:"capacity"`
}

// Update changes some of an event's fields; Capacity set to null removes the limit.
type Update struct {
	Title       *string     `json:"title"`
	TitleAr     *string     `json:"titleAr"`
	Description *string     `json:"description"`
	StartsAt    *string     `json:"startsAt"`
	EndsAt      *string     `json:"endsAt"`
	TimeZone    *string     `json:"timeZone"`
	OnlineURL   *string     `json:"onlineUrl"`
	Location    *string     `json:"location"`
	Capacity    OptionalInt `json:"capacity"`
}

// OptionalInt tells a JSON null (Set, Value nil) from an absent member (not Set).
type OptionalInt struct {
	Set   bool
	Value *int
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *OptionalInt) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v int
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

// Attendance is an event's attendance as the caller sees it.
type Attendance struct {
	AttendeesCount int  `json:"attendeesCount"`
	AttendingByMe  bool `json:"attendingByMe"`
}

// Cursor is the list's keyset: start, then id.
type Cursor struct {
	At time.Time `json:"t"`
	ID string    `json:"i"`
}

// Viewer is who reads: their organization, and whether they see every organization's events
// (moderators).
type Viewer struct {
	UserID         string
	OrganizationID string
	All            bool
}

// Store keeps events and attendance.
type Store interface {
	// Create stores e and records EventCreated.
	Create(ctx context.Context, e Event) error
	// Get reads a live event with v's attendance; errs.NotFound if none.
	Get(ctx context.Context, v Viewer, id string) (Event, error)
	// List reads the live events v may see that end after from and start before to, by start.
	List(ctx context.Context, v Viewer, from, to time.Time, limit int, after *Cursor) ([]Event, error)
	// Update stores e's changes (not its attendance).
	Update(ctx context.Context, e Event) error
	// Delete marks the event deleted and records EventDeleted.
	Delete(ctx context.Context, id string, at time.Time) error
	// Join adds userID under the capacity, atomically (ErrFull, ErrOver, errs.NotFound).
	Join(ctx context.Context, id, userID string, now time.Time) (Attendance, error)
	// Leave removes userID's attendance.
	Leave(ctx context.Context, id, userID string) (Attendance, error)
	// Remind records ReminderDue for the event if it still starts at startsAt, has not started
	// and was not reminded for that start; false when there was nothing to do.
	Remind(ctx context.Context, id string, startsAt, now time.Time) (bool, error)
}

// Store errors the service turns into answers in the caller's language.
var (
	ErrFull = errors.New("the event is full")
	ErrOver = errors.New("the event is over")
)

// Reminders schedules the reminder of an event's start.
type Reminders interface {
	ScheduleReminder(ctx context.Context, eventID string, startsAt, at time.Time) error
}

// Renderer renders an event's Markdown description to sanitized HTML (platform/markdown).
type Renderer interface {
	Render(src string) (htmlOut, text string, err error)
}

// Deps are the service's parts.
type Deps struct {
	Store     Store
	Renderer  Renderer
	Reminders Reminders
	// ReminderLead is how long before the start attendees are reminded.
	ReminderLead time.Duration
	Log          *slog.Logger
	Now          func() time.Time
}

// Service is the events area's rules.
type Service struct{ d Deps }

// NewService returns the service.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

func viewer(p identity.Principal) Viewer {
	return Viewer{UserID: p.UserID, OrganizationID: p.OrganizationID, All: p.Can(identity.PermEventsModerate)}
}

// Limits of an event's fields.
const (
	minTitle, maxTitle = 3, 200
	maxDescription     = 20_000
	maxLocation        = 300
	maxURL             = 2_000
	maxCapacity        = 100_000
	maxDuration        = 31 * 24 * time.Hour
	maxRange           = 366 * 24 * time.Hour
)

// Create adds an event: platform events need events:moderate, organization events
// events:manage (the organization's admins).
func (s *Service) Create(ctx context.Context, p identity.Principal, in Input, lang string) (Event, error) {
	m := msg(lang)
	switch in.Scope {
	case ScopePlatform:
		if err := p.Require(identity.PermEventsModerate); err != nil {
			return Event{}, err
		}
	case ScopeOrganization:
		if err := p.Require(identity.PermEventsManage); err != nil {
			return Event{}, err
		}
	default:
		return Event{}, errs.Fields(errs.FieldError{Field: "scope", Message: m.oneOf(ScopePlatform, ScopeOrganization)})
	}
	now := s.d.Now().UTC().Truncate(time.Microsecond)
	e := Event{ID: uuid.Must(uuid.NewV7()).String(), Scope: in.Scope, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	if in.Scope == ScopeOrganization {
		org := p.OrganizationID
		e.OrganizationID = &org
	}
	if err := s.apply(&e, in, m, now, true); err != nil {
		return Event{}, err
	}
	if err := s.d.Store.Create(ctx, e); err != nil {
		return Event{}, fmt.Errorf("storing event: %w", err)
	}
	s.schedule(ctx, e)
	return e, nil
}

// apply validates in and sets it on e. A start must be in the future when it is set.
func (s *Service) apply(e *Event, in Input, m messages, now time.Time, startChanged bool) error {
	var fe []errs.FieldError
	bad := func(field, message string) { fe = append(fe, errs.FieldError{Field: field, Message: message}) }
	e.Title, e.TitleAr = strings.TrimSpace(in.Title), strings.TrimSpace(in.TitleAr)
	for field, v := range map[string]string{"title": e.Title, "titleAr": e.TitleAr} {
		if n := utf8.RuneCountInString(v); n < minTitle || n > maxTitle {
			bad(field, m.between(minTitle, maxTitle))
		}
	}
	e.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(e.Description) > maxDescription {
		bad("description", m.atMost(maxDescription))
	}
	e.TimeZone = strings.TrimSpace(in.TimeZone)
	loc, err := Location(e.TimeZone)
	if err != nil {
		bad("timeZone", m.timeZone())
		loc = nil
	}
	if loc != nil {
		start, errS := parseTime(in.StartsAt, loc)
		end, errE := parseTime(in.EndsAt, loc)
		if errS != nil {
			bad("startsAt", m.time())
		}
		if errE != nil {
			bad("endsAt", m.time())
		}
		if errS == nil && errE == nil {
			switch {
			case !end.After(start):
				bad("endsAt", m.endAfterStart())
			case end.Sub(start) > maxDuration:
				bad("endsAt", m.tooLong())
			case startChanged && !start.After(now):
				bad("startsAt", m.future())
			}
			e.StartsAt, e.EndsAt = start.UTC(), end.UTC()
		}
	}
	e.OnlineURL, e.Location = strings.TrimSpace(in.OnlineURL), strings.TrimSpace(in.Location)
	if e.OnlineURL != "" {
		u, err := url.Parse(e.OnlineURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(e.OnlineURL) > maxURL {
			bad("onlineUrl", m.url())
		}
	}
	if utf8.RuneCountInString(e.Location) > maxLocation {
		bad("location", m.atMost(maxLocation))
	}
	if e.OnlineURL == "" && e.Location == "" {
		bad("location", m.place())
	}
	if in.Capacity != nil && (*in.Capacity < 1 || *in.Capacity > maxCapacity) {
		bad("capacity", m.capacity())
	}
	if in.Capacity != nil && *in.Capacity < e.AttendeesCount {
		bad("capacity", m.belowAttendees(e.AttendeesCount))
	}
	e.Capacity = in.Capacity
	if len(fe) > 0 {
		return &errs.Error{Code: errs.Validation, Message: m.invalid(), Fields: fe}
	}
	html, _, err := s.d.Renderer.Render(e.Description)
	if err != nil {
		return fmt.Errorf("rendering the description: %w", err)
	}
	e.DescriptionHTML = html
	return nil
}

// Location loads an IANA time zone by name; "Local" and the empty name are refused, since they
// mean the server's zone, not the organizer's.
func Location(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.ContainsAny(name, "\x00\\") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("time zone %q is not an IANA name", name)
	}
	return time.LoadLocation(name)
}

// parseTime reads an RFC 3339 instant, or a local time in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor a local time", s)
}

// schedule asks for the reminder of e's start. The event stands if scheduling fails: the
// failure is logged, as a missed reminder is worth less than a refused event.
func (s *Service) schedule(ctx context.Context, e Event) {
	if s.d.Reminders == nil {
		return
	}
	at := e.StartsAt.Add(-s.d.ReminderLead)
	if now := s.d.Now(); at.Before(now) {
		at = now
	}
	if err := s.d.Reminders.ScheduleReminder(ctx, e.ID, e.StartsAt, at); err != nil {
		s.d.Log.ErrorContext(ctx, "scheduling an event reminder", "event", e.ID, "err", err)
	}
}

// Event reads one event p may see; others answer NotFound.
func (s *Service) Event(ctx context.Context, p identity.Principal, id string) (Event, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Event{}, errNoEvent
	}
	e, err := s.d.Store.Get(ctx, viewer(p), id)
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

var errNoEvent = errs.E(errs.NotFound, "no such event")

// ListQuery is the list's window: events that end after From (default now) and start before To
// (default none).
type ListQuery struct {
	From, To string
}

// List lists the events p may see in the window, by start.
func (s *Service) List(ctx context.Context, p identity.Principal, q ListQuery, limit int, cursor string) (page.Page[Event], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Event]{}, err
	}
	from, to := s.d.Now().UTC(), time.Time{}
	var fe []errs.FieldError
	if q.From != "" {
		if from, err = time.Parse(time.RFC3339, q.From); err != nil {
			fe = append(fe, errs.FieldError{Field: "from", Message: "must be an RFC 3339 time"})
		}
	}
	if q.To != "" {
		if to, err = time.Parse(time.RFC3339, q.To); err != nil {
			fe = append(fe, errs.FieldError{Field: "to", Message: "must be an RFC 3339 time"})
		} else if !to.After(from) || to.Sub(from) > maxRange {
			fe = append(fe, errs.FieldError{Field: "to", Message: "must be after from, within a year"})
		}
	}
	if len(fe) > 0 {
		return page.Page[Event]{}, errs.Fields(fe...)
	}
	if to.IsZero() {
		to = from.Add(100 * 365 * 24 * time.Hour)
	}
	var after *Cursor
	if cursor != "" {
		after = &Cursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[Event]{}, err
		}
	}
	list, err := s.d.Store.List(ctx, viewer(p), from, to, limit+1, after)
	if err != nil {
		return page.Page[Event]{}, fmt.Errorf("listing events: %w", err)
	}
	return page.Build(list, limit, func(e Event) any { return Cursor{At: e.StartsAt, ID: e.ID} }), nil
}

// editable reads an event p may change: its creator's, or any for moderators.
func (s *Service) editable(ctx context.Context, p identity.Principal, id string) (Event, error) {
	e, err := s.Event(ctx, p, id)
	if err != nil {
		return Event{}, err
	}
	if e.CreatedBy != p.UserID && !p.Can(identity.PermEventsModerate) {
		return Event{}, errs.E(errs.Forbidden, "only the event's creator or a moderator may change it")
	}
	return e, nil
}

// Update changes an event; a moved start reschedules the reminder (the old task finds the start
// changed and stops).
func (s *Service) Update(ctx context.Context, p identity.Principal, id string, up Update, lang string) (Event, error) {
	e, err := s.editable(ctx, p, id)
	if err != nil {
		return Event{}, err
	}
	in := Input{Scope: e.Scope, Title: e.Title, TitleAr: e.TitleAr, Description: e.Description,
		StartsAt: e.StartsAt.Format(time.RFC3339Nano), EndsAt: e.EndsAt.Format(time.RFC3339Nano), TimeZone: e.TimeZone,
		OnlineURL: e.OnlineURL, Location: e.Location, Capacity: e.Capacity}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Title, up.Title)
	set(&in.TitleAr, up.TitleAr)
	set(&in.Description, up.Description)
	set(&in.StartsAt, up.StartsAt)
	set(&in.EndsAt, up.EndsAt)
	set(&in.TimeZone, up.TimeZone)
	set(&in.OnlineURL, up.OnlineURL)
	set(&in.Location, up.Location)
	if up.Capacity.Set {
		in.Capacity = up.Capacity.Value
	}
	before := e.StartsAt
	now := s.d.Now().UTC().Truncate(time.Microsecond)
	if err := s.apply(&e, in, msg(lang), now, up.StartsAt != nil || up.TimeZone != nil); err != nil {
		return Event{}, err
	}
	// A start that did not move need not be in the future (an event under way may be edited).
	e.UpdatedAt = now
	if err := s.d.Store.Update(ctx, e); err != nil {
		return Event{}, err
	}
	if !e.StartsAt.Equal(before) {
		s.schedule(ctx, e)
	}
	return s.Event(ctx, p, id)
}

// Delete removes an event; its pending reminder finds it gone and stops.
func (s *Service) Delete(ctx context.Context, p identity.Principal, id string) error {
	if _, err := s.editable(ctx, p, id); err != nil {
		return err
	}
	return s.d.Store.Delete(ctx, id, s.d.Now().UTC())
}

// Attend makes p attend (on) or stop attending; both are idempotent. A full event answers
// Conflict, as does one that is over.
func (s *Service) Attend(ctx context.Context, p identity.Principal, id string, on bool, lang string) (Attendance, error) {
	if _, err := s.Event(ctx, p, id); err != nil {
		return Attendance{}, err
	}
	if !on {
		return s.d.Store.Leave(ctx, id, p.UserID)
	}
	a, err := s.d.Store.Join(ctx, id, p.UserID, s.d.Now().UTC())
	switch {
	case errors.Is(err, ErrFull):
		return Attendance{}, errs.E(errs.Conflict, "%s", msg(lang).full())
	case errors.Is(err, ErrOver):
		return Attendance{}, errs.E(errs.Conflict, "%s", msg(lang).over())
	}
	return a, err
}

// Remind is the reminder task: it records the reminder of the event's start for the attendees,
// once, unless the event moved, was deleted or has started.
func (s *Service) Remind(ctx context.Context, id string, startsAt time.Time) (bool, error) {
	sent, err := s.d.Store.Remind(ctx, id, startsAt, s.d.Now().UTC())
	if err != nil {
		return false, fmt.Errorf("reminding of event %s: %w", id, err)
	}
	return sent, nil
}
