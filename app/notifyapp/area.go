// Package notifyapp is the notifications area: the notify service (domain/notify) behind REST,
// the durable subscriber that turns other areas' events into notifications, and the digest
// mails the worker sends.
package notifyapp

import (
	"context"
	_ "embed"
	"time"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/workers"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the notifications area.
type Area struct{}

// New returns the notifications area.
func New() *Area { return &Area{} }

// Name is "notify".
func (*Area) Name() string { return "notify" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// SubscriberName is the durable subscriber's name (its cursor in domain_event_cursors).
const SubscriberName = "notify"

// Register builds the service, subscribes it to the events that notify people, bridges its own
// events to the sockets and mounts its routes and the digest task.
func (*Area) Register(_ context.Context, h *area.Host) error {
	svc := notify.NewService(notify.Deps{
		Store:     notifydb.New(h.Pool),
		Events:    afterCommit{h.Events},
		Scheduler: DigestQueue{Client: h.Tasks, Queue: h.Queue},
		Presence:  realtime.NewOnline(h.Redis, h.Config.Redis.Prefix),
		Accounts:  h.Identity,
		Mailer:    workers.MailQueue{Client: h.Tasks, Queue: h.Queue},
		Config:    notify.Config{EmailDelay: h.Config.Notify.EmailDelay, WebsiteURL: h.Config.App.WebsiteDomain},
		Log:       h.Log.With("component", "notify"),
	})
	Bridge(h.Events, h.Sockets)
	// notify.gather is the coalescing window: long enough to fold a burst of a lively
	// conversation into one write, short enough that the badge still feels live.
	Subscribe(h.Events, svc, h.Config.Notify.Gather)
	if h.REST != nil {
		mountREST(h.REST, svc)
	}
	if h.Worker != nil {
		h.Worker.Handle(TypeNotifyDigest, NotifyDigest{Digests: svc})
	}
	return nil
}

// Notifier is what the subscriber needs from the notify service.
type Notifier interface {
	Notify(ctx context.Context, e notify.Event) error
	NotifyMany(ctx context.Context, events []notify.Event) error
	MarkTargetRead(ctx context.Context, recipientID, targetType, targetID string) error
}

// Subscribe makes svc follow the events that notify people. The durable subscriber writes in
// the transaction that moves its cursor, so each event notifies exactly once however often it is
// delivered; a conversation read is followed live, since a missed one only leaves a badge that
// the next read clears.
func Subscribe(bus *events.Bus, svc Notifier, gather time.Duration) {
	// One batch holds a whole gathering window (2,000 messages/s × 100 ms = 200 events) and its
	// notifications fold in one statement; short windows keep each burst of work small, which is
	// what the send latency's tail follows at 2,000/s (docs/perf.md).
	sub := bus.Subscribe(SubscriberName, events.Options{Tx: true, Gather: gather, Batch: 2000})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[messaging.MessageSent]) error {
		return svc.NotifyMany(ctx, MessageNotifications(batch))
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[identity.InvitationUsed]) error {
		for _, r := range batch {
			inv, m := r.Event.Invitation, r.Event.Member
			err := svc.Notify(ctx, notify.Event{
				Type: notify.TypeInvitationAccepted, RecipientID: inv.InvitedBy, ActorID: m.ID,
				TargetType: "user", TargetID: m.ID,
				Data: map[string]any{"title": m.FirstName + " " + m.LastName, "email": m.Email, "role": m.Role},
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.TopicPosted]) error {
		return svc.NotifyMany(ctx, TopicNotifications(batch))
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.ReplyPosted]) error {
		return svc.NotifyMany(ctx, ReplyNotifications(batch))
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.BestAnswerMarked]) error {
		var out []notify.Event
		for _, r := range batch {
			e := r.Event
			out = append(out, notify.Event{
				Type: notify.TypeBestAnswer, RecipientID: e.ReplyAuthorID, ActorID: e.MarkedBy,
				TargetType: "forum_topic", TargetID: e.TopicID, Data: map[string]any{"title": e.TopicTitle, "replyId": e.ReplyID},
			})
		}
		return svc.NotifyMany(ctx, out)
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.PostHidden]) error {
		return svc.NotifyMany(ctx, HiddenNotifications(batch))
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[usecase.Reviewed]) error {
		return svc.NotifyMany(ctx, ReviewNotifications(batch))
	})
	subscribeCalendar(sub, svc)
	events.Listen(bus, func(ctx context.Context, e messaging.ConversationRead) {
		if err := svc.MarkTargetRead(ctx, e.UserID, "conversation", e.ConversationID); err != nil {
			bus.Log().WarnContext(ctx, "clearing message notifications", "user", e.UserID, "err", err)
		}
	})
}

// ReviewNotifications tell submitters what a moderator decided of their use case: published,
// changes requested (with the comments) or rejected (with the reason).
func ReviewNotifications(batch []events.Recorded[usecase.Reviewed]) []notify.Event {
	var out []notify.Event
	for _, r := range batch {
		e := r.Event
		data := map[string]any{"title": e.Title, "outcome": e.Action, "status": e.Status, "preview": e.Status}
		if e.Comments != "" {
			data["comments"], data["preview"] = e.Comments, e.Comments
		}
		out = append(out, notify.Event{Type: notify.TypeUseCaseReviewed, RecipientID: e.AuthorID, ActorID: e.ReviewerID,
			TargetType: "use_case", TargetID: e.UseCaseID, Data: data})
	}
	return out
}

// HiddenNotifications tell authors that a moderator hid their post, and why (not a moderator
// who hid their own).
func HiddenNotifications(batch []events.Recorded[forum.PostHidden]) []notify.Event {
	var out []notify.Event
	for _, r := range batch {
		e := r.Event
		if e.AuthorID == e.By {
			continue
		}
		data := map[string]any{"title": e.TopicTitle, "preview": e.Reason, "reason": e.Reason, "postType": e.TargetType}
		if e.TargetType == "reply" {
			data["replyId"] = e.ID
		}
		out = append(out, notify.Event{Type: notify.TypePostHidden, RecipientID: e.AuthorID, ActorID: e.By,
			TargetType: "forum_topic", TargetID: e.TopicID, Data: data})
	}
	return out
}

// TopicNotifications tells the people a new topic mentions.
func TopicNotifications(batch []events.Recorded[forum.TopicPosted]) []notify.Event {
	var out []notify.Event
	for _, r := range batch {
		e := r.Event
		out = append(out, mentions(e.Mentioned, map[string]bool{e.AuthorID: true}, e.AuthorID, e.TopicID, e.Title, e.Excerpt, "")...)
	}
	return out
}

// mentions are the mention notifications of a post for the users not yet told (and marks them
// told).
func mentions(users []string, told map[string]bool, author, topicID, title, excerpt, replyID string) []notify.Event {
	var out []notify.Event
	for _, to := range users {
		if told[to] {
			continue
		}
		told[to] = true
		data := map[string]any{"title": title, "preview": excerpt}
		if replyID != "" {
			data["replyId"] = replyID
		}
		out = append(out, notify.Event{Type: notify.TypeMention, RecipientID: to, ActorID: author,
			TargetType: "forum_topic", TargetID: topicID, Data: data})
	}
	return out
}

// ReplyNotifications tells the people a reply mentions, then the author of the topic and the
// author of the reply replied to: each once per reply (a mention says more than a reply), never
// the replier. Replies to one topic fold into one unread notification per person, as Discourse
// does; mentions do not fold.
func ReplyNotifications(batch []events.Recorded[forum.ReplyPosted]) []notify.Event {
	var out []notify.Event
	for _, r := range batch {
		e := r.Event
		told := map[string]bool{e.AuthorID: true}
		out = append(out, mentions(e.Mentioned, told, e.AuthorID, e.TopicID, e.TopicTitle, e.Excerpt, e.ReplyID)...)
		for _, to := range []string{e.ParentAuthorID, e.TopicAuthorID} {
			if to == "" || told[to] {
				continue
			}
			told[to] = true
			out = append(out, notify.Event{
				Type: notify.TypeReply, RecipientID: to, ActorID: e.AuthorID,
				TargetType: "forum_topic", TargetID: e.TopicID, GroupKey: "forum_topic:" + e.TopicID,
				Data: map[string]any{"title": e.TopicTitle, "preview": e.Excerpt, "replyId": e.ReplyID},
			})
		}
	}
	return out
}

// MessageNotifications folds a batch of sent messages into one notification per recipient and
// conversation, counting the messages and quoting the last: a burst of a lively conversation is
// one badge, not fifty writes. Recipients who muted the conversation get none.
func MessageNotifications(batch []events.Recorded[messaging.MessageSent]) []notify.Event {
	type key struct{ recipient, conversation string }
	index := map[key]int{}
	var out []notify.Event
	for _, r := range batch {
		e := r.Event
		m := e.Message
		muted := map[string]bool{}
		for _, u := range e.Muted {
			muted[u] = true
		}
		data := map[string]any{"preview": messaging.PreviewOf(m)}
		if e.Title != "" {
			data["title"] = e.Title
		}
		for _, rcpt := range e.Recipients {
			if muted[rcpt] || rcpt == m.SenderID {
				continue
			}
			k := key{rcpt, m.ConversationID}
			if i, ok := index[k]; ok {
				out[i].Count++
				out[i].ActorID, out[i].Data = m.SenderID, data
				continue
			}
			index[k] = len(out)
			out = append(out, notify.Event{
				Type: notify.TypeMessage, RecipientID: rcpt, ActorID: m.SenderID,
				TargetType: "conversation", TargetID: m.ConversationID, GroupKey: "conversation:" + m.ConversationID,
				Data: data, Count: 1,
			})
		}
	}
	return out
}

// Socket events (server → client), docs/realtime.md. Their payloads are the frontend's contract:
// the notification exactly as the list shows it, and the count.
const (
	EventNotificationNew   = "notification:new"
	EventNotificationCount = "notification:count"
)

// Bridge pushes the notify service's events to the user rooms of their recipients. A push is
// best effort: the notification is stored, and a client that missed it refetches on reconnect.
func Bridge(bus *events.Bus, sockets realtime.Sockets) {
	push := func(ctx context.Context, userID, name string, payload any) {
		if err := sockets.EmitToUsers(ctx, []string{userID}, name, payload); err != nil {
			bus.Log().WarnContext(ctx, "pushing a notification", "user", userID, "event", name, "err", err)
		}
	}
	arrived := newPusher(foldPushInterval, func(ctx context.Context, n notify.Notification) {
		push(ctx, n.RecipientID, EventNotificationNew, n)
	})
	events.Listen(bus, func(ctx context.Context, e notify.Arrived) { arrived.push(ctx, e.Notification) })
	events.Listen(bus, func(ctx context.Context, e notify.UnreadChanged) {
		push(ctx, e.UserID, EventNotificationCount, e.Unread)
	})
}

// afterCommit publishes the notify service's events once the transaction ctx carries has
// committed, and drops them if it rolls back; without one, at once. The service publishes right
// after each store call, and Notify runs inside the durable subscriber's transaction (Tx: true):
// announced from there, a notification that then rolls back (a later event of the batch fails)
// would be pushed yet unknown to the API, and be pushed again when the batch is retried. Deferring
// here, rather than having the service collect its events for the caller to publish, keeps the
// service free of transactions and every caller (REST, the subscriber, the live listener) alike.
type afterCommit struct{ bus event.Publisher }

func (a afterCommit) Publish(ctx context.Context, evs ...event.Event) {
	postgres.AfterCommit(ctx, func(ctx context.Context) { a.bus.Publish(ctx, evs...) })
}
