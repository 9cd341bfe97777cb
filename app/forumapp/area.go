// Package forumapp is the forum area: platform-wide topics, threaded replies, likes, bookmarks
// and best answers (domain/forum) behind REST.
package forumapp

import (
	"context"
	_ "embed"
	"time"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/app/mediaapp"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/platform/viewcount"
	"github.com/p2psandbox/hub/realtime"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the forum area.
type Area struct{}

// New returns the forum area.
func New() *Area { return &Area{} }

// Name is "forum".
func (*Area) Name() string { return "forum" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// NewStore is the forum's store: with the host's ForumBodies (MongoDB), what posts say lives
// there and the rest in PostgreSQL (forumdb.WithBodies).
func NewStore(h *area.Host) *forumdb.Store {
	if h.ForumBodies != nil {
		return forumdb.WithBodies(h.Pool, h.ForumBodies, h.Log.With("component", "forum-bodies"))
	}
	return forumdb.New(h.Pool)
}

// Register builds the forum service and mounts its routes.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := NewStore(h)
	files := mediaapp.NewService(h, mediadb.New(h.Pool))
	forgetFiles(h.Events, files)
	deps := forum.Deps{Store: store, Renderer: forum.Markdown{MD: markdown.New()}, Events: h.Events, People: h.Identity,
		Files:  attachments{files},
		Limits: postLimit{ratelimit.New(h.Redis, h.Config.Redis.Prefix), h.Config.Forum.PostsPerMinute}}
	if h.REST != nil {
		// Views are counted where topics are read, and flushed from there.
		v := viewcount.New(h.Redis, h.Config.Redis.Prefix, "forum", h.Log)
		deps.Views = v
		h.OnClose(v.Start(viewFlush, store.AddViews))
	}
	svc := forum.NewService(deps)
	if h.REST != nil {
		mountREST(h.REST, svc)
		mountModeration(h.REST, svc)
	}
	if h.Hub != nil {
		// Any signed-in user may follow a topic that exists.
		h.Hub.AllowJoin(realtime.KindTopic, realtime.JoinFunc(func(ctx context.Context, p identity.Principal, id string) error {
			_, err := svc.Topic(ctx, p, id)
			return err
		}))
		// And the list of new topics: all of them, or one category's.
		h.Hub.AllowJoin(KindForum, realtime.JoinFunc(func(ctx context.Context, _ identity.Principal, id string) error {
			if id == AllCategories {
				return nil
			}
			_, err := store.Category(ctx, id)
			return err
		}))
	}
	bridge(h.Events, h.Sockets)
	return nil
}

// viewFlush is how often counted views reach the topics.
const viewFlush = 2 * time.Second

// postLimit limits posts per user across every node.
type postLimit struct {
	l   *ratelimit.Limiter
	per int
}

func (p postLimit) Post(ctx context.Context, userID string) (time.Duration, error) {
	return p.l.Hit(ctx, "forum:post:"+userID, ratelimit.Policy{Events: p.per, Per: time.Minute})
}

// KindForum is the kind of the rooms of the topic lists: "forum:all" hears every new topic,
// "forum:<category slug>" one category's.
const (
	KindForum     = "forum"
	AllCategories = "all"
)

// Socket events to a topic's room, and to the lists' rooms (docs/realtime.md).
const (
	EventTopicNew     = "forum:topic:new"
	EventPostNew      = "post:new"
	EventPostUpdated  = "post:updated"
	EventPostDeleted  = "post:deleted"
	EventTopicUpdated = "topic:updated"
)

// bridge pushes the forum's live changes to the rooms of their topics, best effort: a client
// that missed one refetches the topic.
func bridge(bus *events.Bus, sockets realtime.Sockets) {
	emit := func(ctx context.Context, topicID, name string, payload any) {
		if err := sockets.Emit(ctx, realtime.TopicRoom(topicID), name, payload); err != nil {
			bus.Log().WarnContext(ctx, "pushing a forum change", "topic", topicID, "event", name, "err", err)
		}
	}
	events.Listen(bus, func(ctx context.Context, e forum.PostChanged) {
		name := map[string]string{forum.PostNew: EventPostNew, forum.PostUpdated: EventPostUpdated,
			forum.PostDeleted: EventPostDeleted}[e.Change]
		payload := map[string]any{"reply": e.Reply}
		if e.Topic != nil {
			payload["topic"] = e.Topic
		}
		emit(ctx, e.Reply.TopicID, name, payload)
	})
	events.Listen(bus, func(ctx context.Context, e forum.TopicCreated) {
		for _, list := range []string{AllCategories, e.Topic.CategoryID} {
			room := KindForum + ":" + list
			if err := sockets.Emit(ctx, room, EventTopicNew, map[string]any{"topic": e.Topic}); err != nil {
				bus.Log().WarnContext(ctx, "pushing a new topic", "room", room, "err", err)
			}
		}
	})
	events.Listen(bus, func(ctx context.Context, e forum.TopicChanged) {
		emit(ctx, e.Topic.ID, EventTopicUpdated, map[string]any{"topic": e.Topic, "deleted": e.Deleted})
	})
}
