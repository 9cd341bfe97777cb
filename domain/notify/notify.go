// Package notify tells users what happened to them: it stores notifications, keeps their read
// state and unread count, states both as events (Arrived, UnreadChanged) for whoever shows them
// live, honours each user's preferences per type and channel, and mails the notifications a user
// left unread while away, batched into one digest per recipient and window.
//
// Other areas produce notifications through Service.Notify; they never write the tables.
package notify

import (
	"context"
	"time"

	"github.com/p2psandbox/hub/domain/identity"
)

// Notification types. Later areas add theirs here, with their default channels in defaults.
const (
	TypeMessage            = "message"             // a new private message (grouped per conversation)
	TypeMention            = "mention"             // someone mentioned the user
	TypeReply              = "reply"               // a reply to the user's post
	TypeBestAnswer         = "best_answer"         // the user's answer was chosen as the best
	TypeInvitationAccepted = "invitation_accepted" // someone the user invited joined
	TypeUseCaseReviewed    = "use_case_reviewed"   // a moderator reviewed the user's use case
	TypePostHidden         = "post_hidden"         // a moderator hid the user's forum post, saying why
	TypeExportReady        = "export_ready"        // an export the user asked for is ready to download
	TypeEventReminder      = "event_reminder"      // an event the user attends starts soon
)

// Channels says where notifications of one type reach the user.
type Channels struct {
	InApp bool `json:"inApp"`
	Email bool `json:"email"`
}

// defaults are the channels of a user who chose nothing. Everything shows in the app; email is
// on for what someone is waiting on the user for, off for the news that an invitee joined (the
// inviter sees it in the app; it needs no answer).
var defaults = map[string]Channels{
	TypeMessage:            {InApp: true, Email: true},
	TypeMention:            {InApp: true, Email: true},
	TypeReply:              {InApp: true, Email: true},
	TypeBestAnswer:         {InApp: true, Email: true},
	TypeInvitationAccepted: {InApp: true, Email: false},
	TypeUseCaseReviewed:    {InApp: true, Email: true},
	TypePostHidden:         {InApp: true, Email: true},
	// The user is usually still on the page that asked for it; the link expires anyway.
	TypeExportReady: {InApp: true, Email: false},
	// A reminder is worth a mail: the user may not open the app before the event starts.
	TypeEventReminder: {InApp: true, Email: true},
}

// Types lists every notification type, in the order the preferences show them.
var Types = []string{TypeMessage, TypeMention, TypeReply, TypeBestAnswer, TypeInvitationAccepted, TypeUseCaseReviewed,
	TypePostHidden, TypeExportReady, TypeEventReminder}

// Known reports whether t is a notification type.
func Known(t string) bool {
	_, ok := defaults[t]
	return ok
}

// Preferences are a user's channels per type (every type, defaults filled in).
type Preferences map[string]Channels

// PreferenceUpdate sets the channels of one type; both are required.
type PreferenceUpdate struct {
	InApp *bool `json:"inApp"`
	Email *bool `json:"email"`
}

// Event is something that happened to a user, as the producing area describes it.
type Event struct {
	Type        string
	RecipientID string
	// ActorID is who caused it (empty for the system, such as a moderator decision shown
	// anonymously). An event whose actor is the recipient is dropped.
	ActorID string
	// TargetType and TargetID name what it is about ("conversation", "post", "use_case",
	// "user", …); MarkTargetRead reads the notifications of one target.
	TargetType string
	TargetID   string
	// Data is shown with the notification and in the digest mail. By convention "title" names the
	// target and "preview" quotes it; string values are cut to MaxDataText characters.
	Data map[string]any
	// GroupKey folds repeats: while an unread notification of the recipient with this key
	// exists, the event updates it instead of adding one ("conversation:<id>").
	GroupKey string
	// Count is how many occurrences the event stands for (a burst folded by its producer);
	// 0 means one.
	Count int
}

// MaxDataText is how many characters of a string in Event.Data are kept.
const MaxDataText = 280

// maxDataBytes bounds an event's data once encoded: notifications are summaries, not copies.
const maxDataBytes = 8 << 10

// Actor is who caused a notification, as the list shows them.
type Actor struct {
	ID        string  `json:"id"`
	FirstName string  `json:"firstName"`
	LastName  string  `json:"lastName"`
	Avatar    *string `json:"avatar"`
}

// Notification is a stored notification. Count is the number of events folded into it.
type Notification struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Actor      *Actor         `json:"actor"`
	TargetType string         `json:"targetType"`
	TargetID   string         `json:"targetId"`
	Data       map[string]any `json:"data"`
	Count      int            `json:"count"`
	ReadAt     *time.Time     `json:"readAt"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`

	RecipientID string     `json:"-"`
	ActorID     string     `json:"-"`
	GroupKey    string     `json:"-"`
	InApp       bool       `json:"-"`
	Email       bool       `json:"-"`
	EmailedAt   *time.Time `json:"-"`
}

// Unread is a user's unread count. Version grows with every change of the user's
// notifications: of two counts, the one with the higher version is the newer.
type Unread struct {
	Unread  int   `json:"unread"`
	Version int64 `json:"version"`
}

// List is a page of notifications with the unread count.
type List struct {
	Items       []Notification `json:"items"`
	NextCursor  *string        `json:"nextCursor"`
	UnreadCount int            `json:"unreadCount"`
}

// Cursor is the keyset of the list (newest activity first).
type Cursor struct {
	UpdatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// Query filters and positions the list.
type Query struct {
	UnreadOnly bool
	After      *Cursor
}

// Store keeps notifications, preferences and each recipient's version. Every method that changes
// a recipient's notifications holds that recipient's lock while it changes them and returns the
// unread count as of its change. The implementation lives in notifydb.
type Store interface {
	// Upsert stores n, or folds it into the recipient's unread notification with the same group
	// key (count + n.Count, n's actor, data, channels and updated_at). It returns the stored
	// notification and the count after the change.
	Upsert(ctx context.Context, n Notification) (Notification, Unread, error)
	// Fold folds each of ns (of distinct recipients and group keys) into its recipient's unread
	// notification with the same group key, if there is one (count + n.Count, n's actor and data),
	// all in one statement: unread counts cannot change, so it takes no lock of the recipients.
	// found[i] tells whether ns[i] was folded; stored holds the folded ones.
	Fold(ctx context.Context, ns []Notification) (stored []Notification, found []bool, err error)
	// HasUnread reports whether the recipient has unread notifications of a target.
	HasUnread(ctx context.Context, recipientID, targetType, targetID string) (bool, error)
	// MarkRead marks one in-app notification of the recipient read; changed is false when it
	// already was. Another user's or an unknown id is errs.NotFound.
	MarkRead(ctx context.Context, recipientID, id string, at time.Time) (changed bool, u Unread, err error)
	// MarkTargetRead marks the recipient's unread notifications of a target read (in-app or
	// not) and returns how many changed.
	MarkTargetRead(ctx context.Context, recipientID, targetType, targetID string, at time.Time) (int, Unread, error)
	// MarkAllRead marks every unread in-app notification of the recipient read.
	MarkAllRead(ctx context.Context, recipientID string, at time.Time) (int, Unread, error)
	Unread(ctx context.Context, recipientID string) (Unread, error)
	// List returns up to limit in-app notifications in q's order after q.After.
	List(ctx context.Context, recipientID string, q Query, limit int) ([]Notification, error)

	// Preferences returns the channels the user chose (types they never set are absent).
	Preferences(ctx context.Context, userID string) (map[string]Channels, error)
	SetPreferences(ctx context.Context, userID string, prefs map[string]Channels, at time.Time) error

	// Digest runs fn on the recipient's notifications that are unread, wanted by email, not yet
	// mailed and created at or before cutoff, oldest first, with their rows locked. The ids fn
	// returns are marked mailed at; the others are marked unwanted by email (their type's email
	// was turned off since). Nothing is marked when fn fails.
	Digest(ctx context.Context, recipientID string, cutoff, at time.Time, fn func(due []Notification) (mailed []string, err error)) error
}

// Scheduler runs SendDigest(recipientID, window) at the given time, once per recipient and
// window however many times it is asked (an asynq task with a task id).
type Scheduler interface {
	ScheduleDigest(ctx context.Context, recipientID, window string, at time.Time) error
}

// Presence tells whether a user has a socket online now.
type Presence interface {
	Online(ctx context.Context, userID string) (bool, error)
}

// Accounts gives the recipient's address, name and language (identity.Service implements it).
type Accounts interface {
	Account(ctx context.Context, userID string) (identity.Account, error)
}

// Mailer queues a templated mail once per id: queuing the same id again while the first is
// known is a no-op, so a digest retried after its mail was queued does not mail twice.
type Mailer interface {
	TemplateOnce(ctx context.Context, id, template, lang, to string, data map[string]string, items []map[string]string) error
}
