package notifyapp

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/rest"
)

// Notifications is what the REST layer needs from the notify service.
type Notifications interface {
	List(ctx context.Context, userID string, unreadOnly bool, limit int, cursor string) (notify.List, error)
	UnreadCount(ctx context.Context, userID string) (notify.Unread, error)
	MarkRead(ctx context.Context, userID, id string) (notify.Unread, error)
	MarkAllRead(ctx context.Context, userID string) (notify.Unread, error)
	Preferences(ctx context.Context, userID string) (notify.Preferences, error)
	SetPreferences(ctx context.Context, userID string, in map[string]notify.PreferenceUpdate) (notify.Preferences, error)
}

type notificationRoutes struct {
	n Notifications
}

// mountREST serves the signed-in user's own notifications: every route is about the
// caller, so a session is the only requirement, and another user's notification is not found.
func mountREST(rt *rest.Router, n Notifications) {
	r := &notificationRoutes{n: n}
	g := rt.API.Group("/notifications", rt.Require())
	g.GET("", r.list)
	g.GET("/unread-count", r.unreadCount)
	g.POST("/read-all", r.readAll)
	g.POST("/:id/read", r.read)
	g.GET("/preferences", r.preferences)
	g.PUT("/preferences", r.setPreferences)
}

// list serves ?unread=true|false&limit=&cursor=.
func (r *notificationRoutes) list(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	var unread bool
	switch c.Query("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "unread", Message: "must be true or false"}))
		return
	}
	l, err := r.n.List(c.Request.Context(), rest.Principal(c).UserID, unread, limit, c.Query("cursor"))
	rest.Respond(c, l, err)
}

func (r *notificationRoutes) unreadCount(c *gin.Context) {
	r.answerCount(c, func(ctx context.Context, userID string) (notify.Unread, error) { return r.n.UnreadCount(ctx, userID) })
}

func (r *notificationRoutes) read(c *gin.Context) {
	r.answerCount(c, func(ctx context.Context, userID string) (notify.Unread, error) {
		return r.n.MarkRead(ctx, userID, c.Param("id"))
	})
}

func (r *notificationRoutes) readAll(c *gin.Context) {
	r.answerCount(c, r.n.MarkAllRead)
}

// answerCount answers with the unread count fn leaves.
func (r *notificationRoutes) answerCount(c *gin.Context, fn func(ctx context.Context, userID string) (notify.Unread, error)) {
	u, err := fn(c.Request.Context(), rest.Principal(c).UserID)
	rest.Respond(c, u, err)
}

func (r *notificationRoutes) preferences(c *gin.Context) {
	p, err := r.n.Preferences(c.Request.Context(), rest.Principal(c).UserID)
	rest.Respond(c, p, err)
}

func (r *notificationRoutes) setPreferences(c *gin.Context) {
	var in map[string]notify.PreferenceUpdate
	if !rest.BindJSON(c, &in) {
		return
	}
	p, err := r.n.SetPreferences(c.Request.Context(), rest.Principal(c).UserID, in)
	rest.Respond(c, p, err)
}
