package notify_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// published records the events the service states, as a listener of the bus would hear them.
type published struct {
	mu  sync.Mutex
	got []event.Event
}

func (p *published) Publish(_ context.Context, evs ...event.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, evs...)
}

// of returns the events of type T about user (their aggregate), in order.
func of[T event.Event](p *published, user string) []T {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []T
	for _, e := range p.got {
		if t, ok := e.(T); ok && e.AggregateID() == user {
			out = append(out, t)
		}
	}
	return out
}

// arrived returns the notifications announced to user, in order.
func (p *published) arrived(user string) []notify.Notification {
	var out []notify.Notification
	for _, e := range of[notify.Arrived](p, user) {
		out = append(out, e.Notification)
	}
	return out
}

// counts returns the unread counts announced to user, in order.
func (p *published) counts(user string) []notify.Unread {
	var out []notify.Unread
	for _, e := range of[notify.UnreadChanged](p, user) {
		out = append(out, e.Unread)
	}
	return out
}

// schedules records the digests the service asks for.
type schedules struct {
	mu  sync.Mutex
	got map[string][]string // recipient → windows
}

func (s *schedules) ScheduleDigest(_ context.Context, recipientID, window string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string][]string{}
	}
	s.got[recipientID] = append(s.got[recipientID], window)
	return nil
}

func (s *schedules) of(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got[user]...)
}

// clock advances a millisecond at every reading, so that events are ordered and distinct.
type clock struct{ ms atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli())
	return c
}

func (c *clock) Now() time.Time { return time.UnixMilli(c.ms.Add(1)).UTC() }

func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// online says who is online.
type online struct{ users sync.Map }

func (o *online) Online(_ context.Context, userID string) (bool, error) {
	_, ok := o.users.Load(userID)
	return ok, nil
}

// mailed is one digest the service queued.
type mailed struct {
	id, template, lang, to string
	data                   map[string]string
	items                  []map[string]string
}

// outbox records the mails the service queues.
type outbox struct {
	mu  sync.Mutex
	got []mailed
}

func (o *outbox) TemplateOnce(_ context.Context, id, template, lang, to string, data map[string]string, items []map[string]string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, mailed{id, template, lang, to, data, items})
	return nil
}

func (o *outbox) all() []mailed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]mailed(nil), o.got...)
}

type fixture struct {
	pool      *pgxpool.Pool
	svc       *notify.Service
	events    *published
	schedules *schedules
	accounts  *identity.Service
	clock     *clock
	online    *online
	outbox    *outbox
}

// newFixture makes a service on a database of its own.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, _ := pgtest.New(t)
	f := &fixture{pool: pool, events: &published{}, schedules: &schedules{}, clock: newClock(), online: &online{},
		outbox: &outbox{}, accounts: identity.NewService(identity.Deps{Store: identitydb.New(pool)})}
	f.svc = notify.NewService(notify.Deps{
		Store: notifydb.New(pool), Events: f.events, Scheduler: f.schedules,
		Presence: f.online, Accounts: f.accounts, Mailer: f.outbox,
		Config: notify.Config{EmailDelay: time.Minute, WebsiteURL: "http://app.example"},
		Now:    f.clock.Now,
	})
	return f
}

// user signs someone up (with an organization of their own) and returns their id.
func (f *fixture) user(t *testing.T, first string) string {
	t.Helper()
	return identitytest.NewOrg(t, f.pool, identitytest.Named(first, "Tester")).Owner.UserID
}

func (f *fixture) notify(t *testing.T, e notify.Event) {
	t.Helper()
	if e.TargetType == "" {
		e.TargetType, e.TargetID = "post", uuid.NewString()
	}
	if e.Type == "" {
		e.Type = notify.TypeReply
	}
	require.NoError(t, f.svc.Notify(context.Background(), e))
}

func (f *fixture) list(t *testing.T, user string, unread bool, limit int, cursor string) notify.List {
	t.Helper()
	l, err := f.svc.List(context.Background(), user, unread, limit, cursor)
	require.NoError(t, err)
	return l
}

func (f *fixture) unread(t *testing.T, user string) int {
	t.Helper()
	u, err := f.svc.UnreadCount(context.Background(), user)
	require.NoError(t, err)
	return u.Unread
}
