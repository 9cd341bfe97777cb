package calendarapp

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/rest"
)

// Events is what the REST layer needs from the events service.
type Events interface {
	Create(ctx context.Context, p identity.Principal, in calendar.Input, lang string) (calendar.Event, error)
	List(ctx context.Context, p identity.Principal, q calendar.ListQuery, limit int, cursor string) (page.Page[calendar.Event], error)
	Event(ctx context.Context, p identity.Principal, id string) (calendar.Event, error)
	Update(ctx context.Context, p identity.Principal, id string, up calendar.Update, lang string) (calendar.Event, error)
	Delete(ctx context.Context, p identity.Principal, id string) error
	Attend(ctx context.Context, p identity.Principal, id string, on bool, lang string) (calendar.Attendance, error)
}

type routes struct {
	ev     Events
	domain string
	md     *markdown.Renderer
}

func mountREST(rt *rest.Router, ev Events, domain string) {
	r := &routes{ev: ev, domain: domain, md: markdown.New()}
	api := rt.API
	read := rt.Require()
	api.GET("/events", read, r.list)
	// Who may create which event is the service's decision (scope → permission).
	api.POST("/events", read, rt.Retryable(), r.create)
	// GET /events/{id}.ics is this route too: the router cannot tell a suffix from the id.
	api.GET("/events/:id", read, r.event)
	api.PATCH("/events/:id", read, r.update)
	api.DELETE("/events/:id", read, r.delete)
	api.PUT("/events/:id/attendance", read, r.attend(true))
	api.DELETE("/events/:id/attendance", read, r.attend(false))
}

func lang(c *gin.Context) string { return c.GetHeader("Accept-Language") }

func (r *routes) list(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.ev.List(c.Request.Context(), rest.Principal(c), calendar.ListQuery{From: c.Query("from"), To: c.Query("to")},
		limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) create(c *gin.Context) {
	var in calendar.Input
	if !rest.BindJSON(c, &in) {
		return
	}
	e, err := r.ev.Create(c.Request.Context(), rest.Principal(c), in, lang(c))
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/events/"+e.ID)
	c.JSON(http.StatusCreated, e)
}

func (r *routes) event(c *gin.Context) {
	id, isICS := strings.CutSuffix(c.Param("id"), ".ics")
	e, err := r.ev.Event(c.Request.Context(), rest.Principal(c), id)
	if err != nil || !isICS {
		rest.Respond(c, e, err)
		return
	}
	_, text, err := r.md.Render(e.Description)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	l := c.Query("lang")
	if l == "" {
		l = lang(c)
	}
	c.Header("Content-Disposition", `attachment; filename="event-`+e.ID+`.ics"`)
	c.Data(http.StatusOK, "text/calendar; charset=utf-8",
		[]byte(calendar.ICS(e, text, l, r.domain, time.Now())))
}

func (r *routes) update(c *gin.Context) {
	var up calendar.Update
	if !rest.BindJSON(c, &up) {
		return
	}
	e, err := r.ev.Update(c.Request.Context(), rest.Principal(c), c.Param("id"), up, lang(c))
	rest.Respond(c, e, err)
}

func (r *routes) delete(c *gin.Context) {
	rest.NoContent(c, r.ev.Delete(c.Request.Context(), rest.Principal(c), c.Param("id")))
}

func (r *routes) attend(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, err := r.ev.Attend(c.Request.Context(), rest.Principal(c), c.Param("id"), on, lang(c))
		rest.Respond(c, a, err)
	}
}
