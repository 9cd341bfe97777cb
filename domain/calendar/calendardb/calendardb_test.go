package calendardb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/calendar/calendardb"
	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// reminders records what the service scheduled.
type reminders struct {
	mu  sync.Mutex
	got []time.Time
}

func (r *reminders) ScheduleReminder(_ context.Context, _ string, startsAt, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, startsAt)
	return nil
}

type world struct {
	svc   *calendar.Service
	rem   *reminders
	now   time.Time
	admin identity.Principal
	mod   identity.Principal
	mates []identity.Principal
	alien identity.Principal
}

func newWorld(t *testing.T, members int) (*world, context.Context) {
	pool, _ := pgtest.New(t)
	w := &world{rem: &reminders{}, now: time.Now().UTC().Truncate(time.Second)}
	w.svc = calendar.NewService(calendar.Deps{Store: calendardb.New(pool), Renderer: markdown.New(), Reminders: w.rem,
		ReminderLead: time.Hour, Now: func() time.Time { return w.now }})
	org := identitytest.NewOrg(t, pool)
	w.admin = org.Owner
	w.mates = org.Members(t, pool, members)
	other := identitytest.NewOrg(t, pool)
	w.alien = other.Owner
	w.mod = other.Member(t, pool)
	w.mod.Roles = append(w.mod.Roles, identity.RoleModerator)
	return w, context.Background()
}

func (w *world) input(scope string) calendar.Input {
	capacity := 10
	return calendar.Input{Scope: scope, Title: "Predictive maintenance, line 3", TitleAr: "الصيانة التنبؤية، الخط 3",
		Description: "Bring **questions**; <script>alert(1)</script>", StartsAt: w.now.Add(48 * time.Hour).Format(time.RFC3339),
		EndsAt: w.now.Add(50 * time.Hour).Format(time.RFC3339), TimeZone: "Asia/Riyadh", Location: "Riyadh, Hall B; floor 2",
		OnlineURL: "https://meet.example/abc", Capacity: &capacity}
}

func TestRulesAndVisibility(t *testing.T) {
	w, ctx := newWorld(t, 1)
	member := w.mates[0]

	_, err := w.svc.Create(ctx, member, w.input(calendar.ScopeOrganization), "")
	assert.Equal(t, errs.Forbidden, errs.CodeOf(err), "members do not create organization events")
	_, err = w.svc.Create(ctx, w.admin, w.input(calendar.ScopePlatform), "")
	assert.Equal(t, errs.Forbidden, errs.CodeOf(err), "organization admins do not create platform events")

	e, err := w.svc.Create(ctx, w.admin, w.input(calendar.ScopeOrganization), "")
	require.NoError(t, err)
	assert.NotContains(t, e.DescriptionHTML, "<script")
	assert.Contains(t, e.DescriptionHTML, "<strong>questions</strong>")
	assert.Equal(t, []time.Time{e.StartsAt}, w.rem.got)
	p, err := w.svc.Create(ctx, w.mod, w.input(calendar.ScopePlatform), "")
	require.NoError(t, err)

	_, err = w.svc.Event(ctx, w.alien, e.ID)
	assert.Equal(t, errs.NotFound, errs.CodeOf(err), "another organization's event is not found")
	_, err = w.svc.Attend(ctx, w.alien, e.ID, true, "")
	assert.Equal(t, errs.NotFound, errs.CodeOf(err))
	pg, err := w.svc.List(ctx, w.alien, calendar.ListQuery{}, 10, "")
	require.NoError(t, err)
	require.Len(t, pg.Items, 1)
	assert.Equal(t, p.ID, pg.Items[0].ID)
	pg, err = w.svc.List(ctx, member, calendar.ListQuery{}, 1, "")
	require.NoError(t, err)
	require.NotNil(t, pg.NextCursor)
	pg2, err := w.svc.List(ctx, member, calendar.ListQuery{}, 1, *pg.NextCursor)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{e.ID, p.ID}, []string{pg.Items[0].ID, pg2.Items[0].ID})

	_, err = w.svc.Update(ctx, member, e.ID, calendar.Update{}, "")
	assert.Equal(t, errs.Forbidden, errs.CodeOf(err))
	title := "Moderated title"
	u, err := w.svc.Update(ctx, w.mod, e.ID, calendar.Update{Title: &title}, "")
	require.NoError(t, err)
	assert.Equal(t, title, u.Title)
	assert.Len(t, w.rem.got, 2, "a title change schedules nothing")

	bad := func(mut func(*calendar.Input), field string) {
		t.Helper()
		in := w.input(calendar.ScopeOrganization)
		mut(&in)
		_, err := w.svc.Create(ctx, w.admin, in, "ar")
		e, ok := errs.As(err)
		require.True(t, ok, field)
		require.Equal(t, errs.Validation, e.Code, field)
		require.NotEmpty(t, e.Fields)
		assert.Equal(t, field, e.Fields[0].Field)
	}
	bad(func(in *calendar.Input) { in.TimeZone = "Mars/Olympus" }, "timeZone")
	bad(func(in *calendar.Input) { in.TimeZone = "Local" }, "timeZone")
	bad(func(in *calendar.Input) { in.TimeZone = "../../etc/passwd" }, "timeZone")
	bad(func(in *calendar.Input) { in.EndsAt = in.StartsAt }, "endsAt")
	bad(func(in *calendar.Input) { in.StartsAt = w.now.Add(-time.Hour).Format(time.RFC3339) }, "startsAt")
	bad(func(in *calendar.Input) { in.StartsAt = "tomorrow" }, "startsAt")
	bad(func(in *calendar.Input) { in.OnlineURL = "javascript:alert(1)" }, "onlineUrl")
	bad(func(in *calendar.Input) { in.OnlineURL, in.Location = "", "" }, "location")
	bad(func(in *calendar.Input) { z := 0; in.Capacity = &z }, "capacity")
	bad(func(in *calendar.Input) { in.Scope = "galaxy" }, "scope")

	// A local time is read in the event's zone.
	in := w.input(calendar.ScopeOrganization)
	day := w.now.Add(72 * time.Hour).In(time.FixedZone("AST", 3*3600)).Format("2006-01-02")
	in.StartsAt, in.EndsAt = day+"T18:00", day+"T20:30"
	local, err := w.svc.Create(ctx, w.admin, in, "")
	require.NoError(t, err)
	assert.Equal(t, 15, local.StartsAt.Hour(), "18:00 in Riyadh is 15:00 UTC")

	require.NoError(t, w.svc.Delete(ctx, w.admin, e.ID))
	_, err = w.svc.Event(ctx, w.admin, e.ID)
	assert.Equal(t, errs.NotFound, errs.CodeOf(err))
}

// TestCapacityUnderConcurrency: 50 people join an event of 10 at once: exactly 10 attend, the
// other 40 are told it is full (in Arabic when they ask so), and joining twice counts once.
func TestCapacityUnderConcurrency(t *testing.T) {
	w, ctx := newWorld(t, 50)
	e, err := w.svc.Create(ctx, w.admin, w.input(calendar.ScopeOrganization), "")
	require.NoError(t, err)

	var wg sync.WaitGroup
	results := make([]error, len(w.mates))
	for i, m := range w.mates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = w.svc.Attend(ctx, m, e.ID, true, "ar")
		}()
	}
	wg.Wait()
	var ok, full int
	for _, err := range results {
		switch errs.CodeOf(err) {
		case errs.Internal:
			require.NoError(t, err)
			ok++
		case errs.Conflict:
			full++
			assert.Contains(t, err.Error(), "مكتملة")
		}
	}
	assert.Equal(t, 10, ok)
	assert.Equal(t, 40, full)
	got, err := w.svc.Event(ctx, w.admin, e.ID)
	require.NoError(t, err)
	assert.Equal(t, 10, got.AttendeesCount)

	// Leaving frees a seat; leaving twice and joining twice change nothing more.
	var in identity.Principal
	for i, err := range results {
		if err == nil {
			in = w.mates[i]
			break
		}
	}
	a, err := w.svc.Attend(ctx, in, e.ID, true, "")
	require.NoError(t, err)
	assert.Equal(t, calendar.Attendance{AttendeesCount: 10, AttendingByMe: true}, a)
	for range 2 {
		a, err = w.svc.Attend(ctx, in, e.ID, false, "")
		require.NoError(t, err)
		assert.Equal(t, calendar.Attendance{AttendeesCount: 9}, a)
	}
}

// TestReminder runs the reminder the task would: once per start, with the attendees; nothing
// for a moved start's old task, a started event or a deleted one.
func TestReminder(t *testing.T) {
	pool, _ := pgtest.New(t)
	w := &world{rem: &reminders{}, now: time.Now().UTC().Truncate(time.Second)}
	w.svc = calendar.NewService(calendar.Deps{Store: calendardb.New(pool), Renderer: markdown.New(), Reminders: w.rem,
		ReminderLead: time.Hour, Now: func() time.Time { return w.now }})
	org := identitytest.NewOrg(t, pool)
	w.admin, w.mates = org.Owner, org.Members(t, pool, 2)
	ctx := context.Background()

	e, err := w.svc.Create(ctx, w.admin, w.input(calendar.ScopeOrganization), "")
	require.NoError(t, err)
	for _, m := range w.mates {
		_, err := w.svc.Attend(ctx, m, e.ID, true, "")
		require.NoError(t, err)
	}
	moved := w.now.Add(96 * time.Hour).Format(time.RFC3339)
	movedEnd := w.now.Add(97 * time.Hour).Format(time.RFC3339)
	u, err := w.svc.Update(ctx, w.admin, e.ID, calendar.Update{StartsAt: &moved, EndsAt: &movedEnd}, "")
	require.NoError(t, err)
	assert.Equal(t, []time.Time{e.StartsAt, u.StartsAt}, w.rem.got, "the moved start is scheduled anew")

	sent, err := w.svc.Remind(ctx, e.ID, e.StartsAt)
	require.NoError(t, err)
	assert.False(t, sent, "the old start's task does nothing")
	for i, want := range []bool{true, false} {
		sent, err = w.svc.Remind(ctx, e.ID, u.StartsAt)
		require.NoError(t, err)
		assert.Equal(t, want, sent, "run %d", i)
	}
	var payloads [][]byte
	rows, err := pool.Query(ctx, `SELECT payload FROM domain_events WHERE name = 'calendar.reminder_due'`)
	require.NoError(t, err)
	for rows.Next() {
		var b []byte
		require.NoError(t, rows.Scan(&b))
		payloads = append(payloads, b)
	}
	require.NoError(t, rows.Err())
	require.Len(t, payloads, 1)
	var due calendar.ReminderDue
	require.NoError(t, json.Unmarshal(payloads[0], &due))
	assert.ElementsMatch(t, identitytest.IDs(w.mates), due.AttendeeIDs)
	assert.True(t, due.StartsAt.Equal(u.StartsAt))

	// Deleted, or already started: nothing.
	d, err := w.svc.Create(ctx, w.admin, w.input(calendar.ScopeOrganization), "")
	require.NoError(t, err)
	require.NoError(t, w.svc.Delete(ctx, w.admin, d.ID))
	sent, err = w.svc.Remind(ctx, d.ID, d.StartsAt)
	require.NoError(t, err)
	assert.False(t, sent)
	s, err := w.svc.Create(ctx, w.admin, w.input(calendar.ScopeOrganization), "")
	require.NoError(t, err)
	w.now = s.StartsAt.Add(time.Minute)
	sent, err = w.svc.Remind(ctx, s.ID, s.StartsAt)
	require.NoError(t, err)
	assert.False(t, sent)
	_, err = w.svc.Attend(ctx, w.mates[0], s.ID, true, "")
	assert.NoError(t, err, "an event under way may still be joined")
	w.now = s.EndsAt
	_, err = w.svc.Attend(ctx, w.mates[1], s.ID, true, "")
	assert.Equal(t, errs.Conflict, errs.CodeOf(err), "an event that is over may not")
}

// TestICS: the file follows RFC 5545's rules (CRLF, lines of at most 75 octets, UTF-8 never split,
// TEXT escaped) and parses back to the event.
func TestICS(t *testing.T) {
	start := time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)
	e := calendar.Event{ID: "0193a6c0-0000-7000-8000-000000000001", Title: "Line 3; PLC, SCADA \\ and more",
		TitleAr: strings.Repeat("الصيانة التنبؤية ", 8), StartsAt: start, EndsAt: start.Add(2 * time.Hour),
		TimeZone: "Asia/Riyadh", Location: "Hall B, Riyadh", OnlineURL: "https://meet.example/abc",
		CreatedAt: start.Add(-48 * time.Hour), UpdatedAt: start.Add(-24 * time.Hour)}
	out := calendar.ICS(e, "first line\r\nsecond\x00 line", "ar", "hub.example", start.Add(-time.Hour))

	assert.True(t, strings.HasSuffix(out, "\r\n"))
	assert.NotContains(t, strings.ReplaceAll(out, "\r\n", ""), "\n", "every line ends with CRLF")
	assert.NotContains(t, out, "\x00")
	for _, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		assert.LessOrEqual(t, len(line), 75, line)
		assert.True(t, strings.ToValidUTF8(line, "?") == line, "a fold split a UTF-8 sequence: %q", line)
	}
	for _, want := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + calendar.ProdID, "METHOD:PUBLISH",
		"UID:" + e.ID + "@hub.example", "DTSTAMP:20261210T140000Z", "DTSTART:20261210T150000Z", "DTEND:20261210T170000Z",
		"LOCATION:Hall B\\, Riyadh", "END:VEVENT", "END:VCALENDAR"} {
		assert.Contains(t, out, want)
	}

	cal, err := ics.ParseCalendar(bytes.NewReader([]byte(out)))
	require.NoError(t, err)
	events := cal.Events()
	require.Len(t, events, 1)
	ev := events[0]
	assert.Equal(t, e.ID+"@hub.example", ev.Id())
	st, err := ev.GetStartAt()
	require.NoError(t, err)
	assert.True(t, st.Equal(start))
	en, err := ev.GetEndAt()
	require.NoError(t, err)
	assert.True(t, en.Equal(e.EndsAt))
	assert.Equal(t, strings.TrimSpace(e.TitleAr), strings.TrimSpace(ics.FromText(ev.GetProperty(ics.ComponentPropertySummary).Value)))
	desc := ics.FromText(ev.GetProperty(ics.ComponentPropertyDescription).Value)
	assert.Contains(t, desc, e.Title)
	assert.Contains(t, desc, "first line\nsecond line")
}
