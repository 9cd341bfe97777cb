package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
)

// Config tunes the service.
type Config struct {
	// EmailDelay is how long a notification must stay unread, with its recipient not online,
	// before the digest mails it (config notify.email_delay).
	EmailDelay time.Duration
	// WebsiteURL is where the React app runs; the digest links to its notifications page.
	WebsiteURL string
}

// Deps are the service's collaborators. A process that only reads and writes notifications
// (serve) needs Store, Events and Scheduler; the one that sends digests (the worker) also needs
// Presence, Accounts and Mailer.
type Deps struct {
	Store Store
	// Events hears what changed (Arrived, UnreadChanged); nil tells no one. The service publishes
	// right after the store call, which may still be inside the caller's transaction: Notify runs
	// in the durable subscriber's, whose writes commit with its cursor. So the Publisher must hold
	// what it is given until that transaction commits and drop it if it rolls back (notifyapp's
	// defers to postgres.AfterCommit); outside a transaction, that is at once.
	Events    event.Publisher
	Scheduler Scheduler
	Presence  Presence
	Accounts  Accounts
	Mailer    Mailer
	Config    Config
	Log       *slog.Logger
	Now       func() time.Time
}

// Service holds the notification rules.
type Service struct {
	d Deps
	// prefs caches preferences for prefsTTL, so a busy conversation does not read them for every
	// message; a change on this node clears its entry, other nodes see it within prefsTTL.
	prefs *expirable.LRU[string, Preferences]
	// scheduled remembers the digests this node already scheduled (recipient and window): the
	// task id makes another attempt harmless, but not free.
	scheduled *expirable.LRU[string, struct{}]
}

const prefsTTL = 30 * time.Second

// NewService returns a service on d.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Events == nil {
		d.Events = event.Discard{}
	}
	if d.Config.EmailDelay <= 0 {
		d.Config.EmailDelay = 10 * time.Minute
	}
	return &Service{
		d:         d,
		prefs:     expirable.NewLRU[string, Preferences](50_000, nil, prefsTTL),
		scheduled: expirable.NewLRU[string, struct{}](50_000, nil, 2*d.Config.EmailDelay),
	}
}

func (s *Service) now() time.Time { return s.d.Now().UTC() }

// Notify stores e for its recipient as their preferences allow and, when it shows in the app,
// announces it (Arrived, and UnreadChanged when the count changed). Nothing is stored when the
// recipient turned both channels of the type off, or caused the event themselves. With email on,
// the digest of the current window is scheduled.
//
// Only storing can fail Notify: a schedule that fails is logged, because the notification is
// already stored (the next event schedules again); what listeners do with an event is theirs.
func (s *Service) Notify(ctx context.Context, e Event) error { return s.NotifyMany(ctx, []Event{e}) }

// NotifyMany is Notify for each of events in order (a delivered batch of them): the repeats of
// groups that have an unread notification fold into it with one statement for all of them.
func (s *Service) NotifyMany(ctx context.Context, events []Event) error {
	var fold, rest []Notification
	seen := map[[2]string]bool{}
	for _, e := range events {
		n, ok, err := s.prepare(ctx, e)
		if err != nil {
			return err
		}
		k := [2]string{n.RecipientID, n.GroupKey}
		switch {
		case !ok:
		case n.GroupKey == "" || seen[k]:
			rest = append(rest, n) // a later event of a group folds after the first
		default:
			seen[k] = true
			fold = append(fold, n)
		}
	}
	if len(fold) > 0 {
		folded, found, err := s.d.Store.Fold(ctx, fold)
		if err != nil {
			return fmt.Errorf("notify: folding %d notifications: %w", len(fold), err)
		}
		for _, f := range folded {
			s.folded(ctx, f)
		}
		// Groups without an unread notification get one, before their later events fold into it.
		for i, n := range fold {
			if !found[i] {
				if err := s.upsert(ctx, n); err != nil {
					return err
				}
			}
		}
	}
	for _, n := range rest {
		if err := s.store(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// prepare checks e and makes its notification; ok is false when there is none to store.
func (s *Service) prepare(ctx context.Context, e Event) (n Notification, ok bool, err error) {
	if err := e.validate(); err != nil {
		return n, false, err
	}
	if e.ActorID == e.RecipientID {
		return n, false, nil
	}
	data, err := trimData(e.Data)
	if err != nil {
		return n, false, fmt.Errorf("notify: %s for %s: %w", e.Type, e.RecipientID, err)
	}
	ch, err := s.channels(ctx, e.RecipientID, e.Type)
	if err != nil {
		return n, false, err
	}
	if !ch.InApp && !ch.Email {
		return n, false, nil
	}
	now := s.now()
	return Notification{
		ID: ids.New(), Type: e.Type, RecipientID: e.RecipientID, ActorID: e.ActorID,
		TargetType: e.TargetType, TargetID: e.TargetID, Data: data, GroupKey: e.GroupKey,
		Count: max(e.Count, 1), InApp: ch.InApp, Email: ch.Email, CreatedAt: now, UpdatedAt: now,
	}, true, nil
}

// store writes n, folding it into its group's unread notification when there is one.
func (s *Service) store(ctx context.Context, n Notification) error {
	if n.GroupKey != "" {
		folded, found, err := s.d.Store.Fold(ctx, []Notification{n})
		if err != nil {
			return fmt.Errorf("notify: folding %s for %s: %w", n.Type, n.RecipientID, err)
		}
		if found[0] {
			s.folded(ctx, folded[0])
			return nil
		}
	}
	return s.upsert(ctx, n)
}

// folded announces a repeat folded into its group's unread notification: the unread count
// stays, so there is no UnreadChanged.
func (s *Service) folded(ctx context.Context, n Notification) {
	if n.InApp {
		s.d.Events.Publish(ctx, Arrived{Notification: n})
	}
	s.scheduleDigest(ctx, n, n.UpdatedAt)
}

// upsert stores n, announces it and schedules the digest.
func (s *Service) upsert(ctx context.Context, n Notification) error {
	stored, u, err := s.d.Store.Upsert(ctx, n)
	if err != nil {
		return fmt.Errorf("notify: storing %s for %s: %w", n.Type, n.RecipientID, err)
	}
	if stored.InApp {
		s.d.Events.Publish(ctx, Arrived{Notification: stored}, UnreadChanged{UserID: stored.RecipientID, Unread: u})
	}
	s.scheduleDigest(ctx, stored, n.UpdatedAt)
	return nil
}

// scheduleDigest schedules the digest of the current window for a notification that may be
// mailed, once per recipient and window on this node.
func (s *Service) scheduleDigest(ctx context.Context, n Notification, now time.Time) {
	if !n.Email || n.EmailedAt != nil || s.d.Scheduler == nil {
		return
	}
	window, at := s.window(now)
	key := n.RecipientID + "|" + window
	if _, done := s.scheduled.Get(key); done {
		return
	}
	if err := s.d.Scheduler.ScheduleDigest(ctx, n.RecipientID, window, at); err != nil {
		s.d.Log.ErrorContext(ctx, "scheduling a notification digest", "user", n.RecipientID, "err", err)
		return
	}
	s.scheduled.Add(key, struct{}{})
}

func (e Event) validate() error {
	switch {
	case !Known(e.Type):
		return fmt.Errorf("notify: unknown notification type %q", e.Type)
	case !ids.Valid(e.RecipientID):
		return fmt.Errorf("notify: recipient %q is not an id", e.RecipientID)
	case e.ActorID != "" && !ids.Valid(e.ActorID):
		return fmt.Errorf("notify: actor %q is not an id", e.ActorID)
	case e.TargetType == "" || e.TargetID == "":
		return fmt.Errorf("notify: %s without a target", e.Type)
	}
	return nil
}

// trimData copies data with long strings cut, and refuses data too large to be a summary.
func trimData(data map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if str, ok := v.(string); ok && utf8.RuneCountInString(str) > MaxDataText {
			r := []rune(str)
			v = string(r[:MaxDataText-1]) + "…"
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if len(b) > maxDataBytes {
		return nil, fmt.Errorf("data of %d bytes exceeds %d", len(b), maxDataBytes)
	}
	return out, nil
}

// window names the digest window that now falls in and when its digest runs. Windows are
// EmailDelay long; a window's digest runs at the end of the next one, when everything created in
// it is at least EmailDelay old. So a notification is mailed between one and two delays after it
// arrived, and a recipient gets at most one digest per window however many events arrive.
func (s *Service) window(now time.Time) (string, time.Time) {
	start := now.Truncate(s.d.Config.EmailDelay)
	return strconv.FormatInt(start.UnixMilli(), 10), start.Add(2 * s.d.Config.EmailDelay)
}

// unreadChanged announces the count after a change that made one.
func (s *Service) unreadChanged(ctx context.Context, userID string, changed bool, u Unread) {
	if changed {
		s.d.Events.Publish(ctx, UnreadChanged{UserID: userID, Unread: u})
	}
}

// List returns the user's notifications, newest activity first, with their unread count.
func (s *Service) List(ctx context.Context, userID string, unreadOnly bool, limit int, cursor string) (List, error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return List{}, err
	}
	q := Query{UnreadOnly: unreadOnly}
	if cursor != "" {
		q.After = &Cursor{}
		if err := page.Decode(cursor, q.After); err != nil {
			return List{}, err
		}
		if !ids.Valid(q.After.ID) {
			return List{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	items, err := s.d.Store.List(ctx, userID, q, limit+1)
	if err != nil {
		return List{}, err
	}
	u, err := s.d.Store.Unread(ctx, userID)
	if err != nil {
		return List{}, err
	}
	p := page.Build(items, limit, func(n Notification) any { return Cursor{n.UpdatedAt, n.ID} })
	return List{Items: p.Items, NextCursor: p.NextCursor, UnreadCount: u.Unread}, nil
}

// UnreadCount returns the user's unread count.
func (s *Service) UnreadCount(ctx context.Context, userID string) (Unread, error) {
	return s.d.Store.Unread(ctx, userID)
}

// MarkRead marks one of the user's notifications read and returns the count. Another user's
// notification is not found.
func (s *Service) MarkRead(ctx context.Context, userID, id string) (Unread, error) {
	if !ids.Valid(id) {
		return Unread{}, errs.E(errs.NotFound, "no such notification")
	}
	changed, u, err := s.d.Store.MarkRead(ctx, userID, id, s.now())
	if err != nil {
		return Unread{}, err
	}
	s.unreadChanged(ctx, userID, changed, u)
	return u, nil
}

// MarkAllRead marks every notification of the user read and returns the count.
func (s *Service) MarkAllRead(ctx context.Context, userID string) (Unread, error) {
	n, u, err := s.d.Store.MarkAllRead(ctx, userID, s.now())
	if err != nil {
		return Unread{}, err
	}
	s.unreadChanged(ctx, userID, n > 0, u)
	return u, nil
}

// MarkTargetRead marks the recipient's notifications about one target read: the area that owns
// the target calls it when the user has seen it (messaging, when a conversation is read).
func (s *Service) MarkTargetRead(ctx context.Context, recipientID, targetType, targetID string) error {
	// Most reads of a conversation find nothing to clear: look before taking the recipient's lock.
	if has, err := s.d.Store.HasUnread(ctx, recipientID, targetType, targetID); err != nil || !has {
		return err
	}
	n, u, err := s.d.Store.MarkTargetRead(ctx, recipientID, targetType, targetID, s.now())
	if err != nil {
		return fmt.Errorf("notify: reading %s %s for %s: %w", targetType, targetID, recipientID, err)
	}
	s.unreadChanged(ctx, recipientID, n > 0, u)
	return nil
}

// Preferences returns the user's channels for every type.
func (s *Service) Preferences(ctx context.Context, userID string) (Preferences, error) {
	stored, err := s.d.Store.Preferences(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make(Preferences, len(defaults))
	for t, ch := range defaults {
		if mine, ok := stored[t]; ok {
			ch = mine
		}
		out[t] = ch
	}
	s.prefs.Add(userID, out)
	return out, nil
}

// channels returns the user's channels of a type, from the cache when it is fresh.
func (s *Service) channels(ctx context.Context, userID, typ string) (Channels, error) {
	prefs, ok := s.prefs.Get(userID)
	if !ok {
		var err error
		if prefs, err = s.Preferences(ctx, userID); err != nil {
			return Channels{}, fmt.Errorf("notify: preferences of %s: %w", userID, err)
		}
	}
	return prefs[typ], nil
}

// SetPreferences sets the channels of the types listed; the others keep theirs. The change
// applies to later events: notifications already stored stay where they are, except that the
// digest mails nothing of a type whose email is off by the time it runs.
func (s *Service) SetPreferences(ctx context.Context, userID string, in map[string]PreferenceUpdate) (Preferences, error) {
	var bad []errs.FieldError
	set := make(map[string]Channels, len(in))
	for t, up := range in {
		if !Known(t) {
			bad = append(bad, errs.FieldError{Field: t, Message: "is not a notification type"})
			continue
		}
		if up.InApp == nil {
			bad = append(bad, errs.FieldError{Field: t + ".inApp", Message: "is required"})
		}
		if up.Email == nil {
			bad = append(bad, errs.FieldError{Field: t + ".email", Message: "is required"})
		}
		if up.InApp != nil && up.Email != nil {
			set[t] = Channels{InApp: *up.InApp, Email: *up.Email}
		}
	}
	if len(bad) > 0 {
		// Map order is random; the answer should not be.
		slices.SortFunc(bad, func(a, b errs.FieldError) int { return cmp.Compare(a.Field, b.Field) })
		return nil, errs.Fields(bad...)
	}
	if len(set) > 0 {
		if err := s.d.Store.SetPreferences(ctx, userID, set, s.now()); err != nil {
			return nil, err
		}
	}
	return s.Preferences(ctx, userID) // refreshes the cache
}

// ErrNoDigestDeps is returned by SendDigest in a process built without Presence, Accounts or
// Mailer.
var ErrNoDigestDeps = errors.New("notify: digests need Presence, Accounts and Mailer")
