// Package dashboardapp is the dashboard area: a durable subscriber turns the other areas' events
// into counters per user, organization and day (domain/dashboard), GET /api/v1/dashboard reads
// them through a Redis cache that the same events invalidate, and `p2p stats rebuild` recounts
// them from the areas' tables.
package dashboardapp

import (
	"context"
	_ "embed"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/dashboard"
	"github.com/p2psandbox/hub/domain/dashboard/dashboarddb"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/rest"
)

//go:embed openapi.yaml
var openAPI []byte

// SubscriberName is the durable subscriber's name (its cursor in domain_event_cursors).
const SubscriberName = "dashboard"

// CacheTTL bounds what no event invalidates in a cached dashboard: the month's ranking moved by
// other people's activity, and use case views.
const CacheTTL = 5 * time.Minute

// Area is the dashboard area.
type Area struct{}

// New returns the dashboard area.
func New() *Area { return &Area{} }

// Name is "dashboard".
func (*Area) Name() string { return "dashboard" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register subscribes the counters and mounts GET /dashboard.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := dashboarddb.New(h.Pool, SubscriberName)
	c := newCache(h.Redis, h.Config.Redis.Prefix, CacheTTL, h.Log)
	Subscribe(h.Events, store, c)
	if h.REST != nil {
		svc := dashboard.NewService(store, c, nil)
		h.REST.API.GET("/dashboard", h.REST.Require(), func(ctx *gin.Context) {
			d, err := svc.Get(ctx.Request.Context(), rest.Principal(ctx), ctx.Query("period"))
			rest.Respond(ctx, d, err)
		})
	}
	return nil
}

// Rebuild recounts every counter from the areas' tables (`p2p stats rebuild`).
func Rebuild(ctx context.Context, pool *pgxpool.Pool, rdb goredis.UniversalClient, prefix string, log *slog.Logger) (dashboard.RebuildReport, error) {
	svc := dashboard.NewService(dashboarddb.New(pool, SubscriberName), newCache(rdb, prefix, CacheTTL, log), nil)
	return svc.Rebuild(ctx)
}

// Subscribe makes store count the events that move the dashboard's counters. Tx: a change
// commits with the cursor, so each event counts once however often it is delivered; the cache
// is invalidated once it has committed.
func Subscribe(bus *events.Bus, store dashboard.Store, c dashboard.Cache) {
	sub := bus.Subscribe(SubscriberName, events.Options{Tx: true})
	count(sub, store, c, func(e forum.TopicPosted) dashboard.Change {
		ch := dashboard.Change{Contributed: []string{e.AuthorID}, Deltas: []dashboard.Delta{
			org(e.AuthorID, dashboard.Topics, 1), org(e.AuthorID, dashboard.Posts, 1)}}
		if e.Kind == forum.KindQuestion {
			ch.Deltas = append(ch.Deltas, user(e.AuthorID, dashboard.Questions, 1))
		}
		return ch
	})
	count(sub, store, c, func(e forum.ReplyPosted) dashboard.Change {
		return dashboard.Change{Contributed: []string{e.AuthorID}, Deltas: []dashboard.Delta{
			user(e.AuthorID, dashboard.Answers, 1), org(e.AuthorID, dashboard.Posts, 1)}}
	})
	count(sub, store, c, func(e forum.PostRemoved) dashboard.Change {
		var ch dashboard.Change
		if e.TargetType == "topic" {
			ch.Deltas = []dashboard.Delta{org(e.AuthorID, dashboard.Topics, -1), org(e.AuthorID, dashboard.Posts, -1)}
			if e.Kind == forum.KindQuestion {
				ch.Deltas = append(ch.Deltas, user(e.AuthorID, dashboard.Questions, -1))
			}
			return ch
		}
		ch.Deltas = []dashboard.Delta{user(e.AuthorID, dashboard.Answers, -1), org(e.AuthorID, dashboard.Posts, -1)}
		if e.WasBestAnswer {
			ch.Deltas = append(ch.Deltas, user(e.AuthorID, dashboard.Reputation, -dashboard.ReputationPerBestAnswer))
		}
		return ch
	})
	count(sub, store, c, func(e forum.BestAnswerMarked) dashboard.Change {
		ch := dashboard.Change{Deltas: []dashboard.Delta{user(e.ReplyAuthorID, dashboard.Reputation, dashboard.ReputationPerBestAnswer)}}
		if e.PreviousAuthorID != "" {
			ch.Deltas = append(ch.Deltas, user(e.PreviousAuthorID, dashboard.Reputation, -dashboard.ReputationPerBestAnswer))
		}
		return ch
	})
	count(sub, store, c, func(e forum.Liked) dashboard.Change {
		return dashboard.Change{Deltas: []dashboard.Delta{user(e.AuthorID, dashboard.Reputation, sign(e.On)*dashboard.ReputationPerLike)}}
	})
	count(sub, store, c, func(e forum.Bookmarked) dashboard.Change {
		return dashboard.Change{Deltas: []dashboard.Delta{user(e.By, dashboard.Saved, sign(e.On))}}
	})
	count(sub, store, c, func(e usecase.Reacted) dashboard.Change {
		if e.Kind == "save" {
			return dashboard.Change{Deltas: []dashboard.Delta{user(e.By, dashboard.Saved, sign(e.On))}}
		}
		return dashboard.Change{Deltas: []dashboard.Delta{user(e.AuthorID, dashboard.Reputation, sign(e.On)*dashboard.ReputationPerLike)}}
	})
	count(sub, store, c, func(e usecase.Drafted) dashboard.Change {
		return dashboard.Change{Deltas: []dashboard.Delta{user(e.AuthorID, dashboard.Drafts, 1)}}
	})
	count(sub, store, c, func(e usecase.Submitted) dashboard.Change {
		// Submitted from a draft or from changes requested: either way it is no longer a draft.
		ch := dashboard.Change{Contributed: []string{e.AuthorID}, Deltas: []dashboard.Delta{user(e.AuthorID, dashboard.Drafts, -1)}}
		if !e.Resubmitted {
			ch.Deltas = append(ch.Deltas, org(e.AuthorID, dashboard.Submissions, 1))
		}
		return ch
	})
	count(sub, store, c, func(e usecase.Reviewed) dashboard.Change {
		if e.Action != usecase.ActionRequestChanges {
			return dashboard.Change{}
		}
		return dashboard.Change{Deltas: []dashboard.Delta{user(e.AuthorID, dashboard.Drafts, 1)}}
	})
	count(sub, store, c, func(e usecase.Removed) dashboard.Change {
		if e.Status != usecase.StatusDraft && e.Status != usecase.StatusChangesRequested {
			return dashboard.Change{}
		}
		return dashboard.Change{Deltas: []dashboard.Delta{user(e.AuthorID, dashboard.Drafts, -1)}}
	})
	count(sub, store, c, func(e identity.MemberJoined) dashboard.Change {
		return dashboard.Change{Deltas: []dashboard.Delta{org(e.User.ID, dashboard.Members, 1), org(e.User.ID, dashboard.Joined, 1)}}
	})
	count(sub, store, c, func(e identity.AccessChanged) dashboard.Change {
		if !e.Removed {
			return dashboard.Change{}
		}
		return dashboard.Change{Deltas: []dashboard.Delta{org(e.UserID, dashboard.Members, -1)}}
	})
}

// count applies what each event of type T changes, on the day it was logged.
func count[T event.Event](sub *events.Subscriber, store dashboard.Store, c dashboard.Cache, change func(T) dashboard.Change) {
	events.On(sub, func(ctx context.Context, batch []events.Recorded[T]) error {
		var touched dashboard.Touched
		for _, r := range batch {
			t, err := store.Apply(ctx, r.ID, r.At, change(r.Event))
			if err != nil {
				return err
			}
			touched.Users = append(touched.Users, t.Users...)
			touched.Organizations = append(touched.Organizations, t.Organizations...)
		}
		if c != nil {
			postgres.AfterCommit(ctx, func(ctx context.Context) { c.Invalidate(ctx, touched) })
		}
		return nil
	})
}

func user(id, metric string, n int64) dashboard.Delta {
	return dashboard.Delta{UserID: id, Metric: metric, N: n}
}

// org is a change to the counter of the organization user id belongs to.
func org(id, metric string, n int64) dashboard.Delta {
	return dashboard.Delta{UserID: id, Organization: true, Metric: metric, N: n}
}

func sign(on bool) int64 {
	if on {
		return 1
	}
	return -1
}
