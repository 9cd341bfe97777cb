// Package activityapp is the activity area. The activity feed: what happened across the areas,
// for me, my organization and the platform (domain/activity): a durable subscriber of the other
// areas' events writes the entries, GET /api/v1/activity reads them, and each new entry is pushed
// live as activity:new to the rooms that may see it.
package activityapp

import (
	"context"
	_ "embed"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/activity"
	"github.com/p2psandbox/hub/domain/activity/activitydb"
	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/rest"
)

//go:embed openapi.yaml
var openAPI []byte

// SubscriberName is the durable subscriber's name (its cursor in domain_event_cursors).
const SubscriberName = "activity"

// EventNew is the socket event of a new entry.
const EventNew = "activity:new"

// KindActivity is the room kind of the platform-wide feed; its only room is activity:platform.
const (
	KindActivity = "activity"
	PlatformRoom = "platform"
)

// Area is the activity area.
type Area struct{}

// New returns the activity area.
func New() *Area { return &Area{} }

// Name is "activity".
func (*Area) Name() string { return "activity" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register subscribes the recorder, mounts the feed and the platform room's rule.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := activitydb.New(h.Pool)
	Subscribe(h.Events, store, h.Sockets)
	if h.REST != nil {
		svc := activity.NewService(store)
		h.REST.API.GET("/activity", h.REST.Require(), func(c *gin.Context) {
			limit, ok := rest.QueryInt(c, "limit")
			if !ok {
				return
			}
			pg, err := svc.Feed(c.Request.Context(), rest.Principal(c), c.Query("scope"), limit, c.Query("cursor"))
			rest.Respond(c, pg, err)
		})
	}
	if h.Hub != nil {
		// Every signed-in user may follow the platform's public feed; what is pushed there is only
		// what everyone may see (public profiles).
		h.Hub.AllowJoin(KindActivity, realtime.JoinFunc(func(_ context.Context, _ identity.Principal, id string) error {
			if id != PlatformRoom {
				return errs.E(errs.NotFound, "no such room")
			}
			return nil
		}))
	}
	return nil
}

// Recorder writes entries in the subscriber's transaction and reads one back for the push.
type Recorder interface {
	TopicPosted(ctx context.Context, eventID int64, at time.Time, topicID string) (int64, error)
	ReplyPosted(ctx context.Context, eventID int64, at time.Time, replyID string) (int64, error)
	BestAnswer(ctx context.Context, eventID int64, at time.Time, replyID, markedBy string) (int64, error)
	UseCasePublished(ctx context.Context, eventID int64, at time.Time, useCaseID string) (int64, error)
	MemberJoined(ctx context.Context, eventID int64, at time.Time, userID string) (int64, error)
	EventCreated(ctx context.Context, eventID int64, at time.Time, calendarEventID string) (int64, error)
	Followed(ctx context.Context, eventID int64, at time.Time, followerID, followeeID string) (int64, error)
	Entry(ctx context.Context, id int64) (activity.Entry, error)
	Followers(ctx context.Context, userID, visibility, organizationID string) ([]string, error)
}

// Subscribe makes rec follow the events that make entries. Tx: an entry commits with the
// cursor, so each event writes once however often it is delivered; the push waits for the commit.
//
// Not followed: a use case verified (the use cases area publishes no event for it).
func Subscribe(bus *events.Bus, rec Recorder, sockets realtime.Sockets) {
	sub := bus.Subscribe(SubscriberName, events.Options{Tx: true})
	each := func(ctx context.Context, record func() (int64, error)) error {
		id, err := record()
		if err != nil || id == 0 {
			return err
		}
		e, err := rec.Entry(ctx, id)
		if err != nil {
			return err
		}
		var followers []string
		if e.EventOrganizationID == "" && e.Kind != activity.KindFollowed {
			if followers, err = rec.Followers(ctx, e.UserID, e.Visibility, e.OrganizationID); err != nil {
				return err
			}
		}
		postgres.AfterCommit(ctx, func(ctx context.Context) { Push(ctx, bus, sockets, e, followers) })
		return nil
	}
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.TopicPosted]) error {
		for _, r := range batch {
			if err := each(ctx, func() (int64, error) { return rec.TopicPosted(ctx, r.ID, r.At, r.Event.TopicID) }); err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.ReplyPosted]) error {
		for _, r := range batch {
			if err := each(ctx, func() (int64, error) { return rec.ReplyPosted(ctx, r.ID, r.At, r.Event.ReplyID) }); err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.BestAnswerMarked]) error {
		for _, r := range batch {
			if err := each(ctx, func() (int64, error) {
				return rec.BestAnswer(ctx, r.ID, r.At, r.Event.ReplyID, r.Event.MarkedBy)
			}); err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[usecase.Reviewed]) error {
		for _, r := range batch {
			if r.Event.Action != "publish" {
				continue
			}
			if err := each(ctx, func() (int64, error) { return rec.UseCasePublished(ctx, r.ID, r.At, r.Event.UseCaseID) }); err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[calendar.EventCreated]) error {
		for _, r := range batch {
			if err := each(ctx, func() (int64, error) { return rec.EventCreated(ctx, r.ID, r.At, r.Event.EventID) }); err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[people.Followed]) error {
		for _, r := range batch {
			if err := each(ctx, func() (int64, error) {
				return rec.Followed(ctx, r.ID, r.At, r.Event.FollowerID, r.Event.FolloweeID)
			}); err != nil {
				return err
			}
		}
		return nil
	})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[identity.MemberJoined]) error {
		for _, r := range batch {
			if err := each(ctx, func() (int64, error) { return rec.MemberJoined(ctx, r.ID, r.At, r.Event.User.ID) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// Push sends a new entry to whoever may see it, by the feed's rule: a private actor's entries
// reach only the actor; an organization-only actor's, the actor, their followers in the
// organization and the organization's room; a public actor's, also the owner of the content, all
// their followers and the platform room. An organization's event goes to its room only; a
// follow, to the follower and the followee only (the followee's profile may not be the
// platform's to see). A socket in two of these rooms hears the entry twice: clients keep entries
// by id.
func Push(ctx context.Context, bus *events.Bus, sockets realtime.Sockets, e activity.Entry, followers []string) {
	if sockets == nil {
		return
	}
	users := []string{e.UserID}
	var rooms []string
	switch {
	case e.Visibility == "private":
	case e.Kind == activity.KindFollowed:
		users = append(users, e.OwnerID)
	case e.EventOrganizationID != "":
		rooms = append(rooms, realtime.KindOrg+":"+e.EventOrganizationID)
	case e.Visibility == "public":
		if e.OwnerID != "" {
			users = append(users, e.OwnerID)
		}
		users = append(users, followers...)
		rooms = append(rooms, realtime.KindOrg+":"+e.OrganizationID, KindActivity+":"+PlatformRoom)
	default: // organization
		users = append(users, followers...)
		rooms = append(rooms, realtime.KindOrg+":"+e.OrganizationID)
	}
	if err := sockets.EmitToUsers(ctx, users, EventNew, e); err != nil {
		bus.Log().WarnContext(ctx, "pushing activity", "entry", e.ID, "err", err)
	}
	for _, room := range rooms {
		if err := sockets.Emit(ctx, room, EventNew, e); err != nil {
			bus.Log().WarnContext(ctx, "pushing activity", "entry", e.ID, "room", room, "err", err)
		}
	}
}
