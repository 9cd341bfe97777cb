package usecaseapp

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/rest"
)

// UseCases is what the REST layer needs from the use cases service.
type UseCases interface {
	Create(ctx context.Context, p identity.Principal, patch map[string]any) (usecase.UseCase, error)
	Get(ctx context.Context, p identity.Principal, id string) (usecase.UseCase, error)
	View(ctx context.Context, p identity.Principal, id string) (usecase.UseCase, error)
	Update(ctx context.Context, p identity.Principal, id string, version int, patch map[string]any) (usecase.UseCase, error)
	Delete(ctx context.Context, p identity.Principal, id string, version int) error
	Validate(ctx context.Context, p identity.Principal, id string, step int, lang string) (usecase.UseCase, error)
	Submit(ctx context.Context, p identity.Principal, id string, version int, lang string) (usecase.UseCase, error)
	Mine(ctx context.Context, p identity.Principal, status string, limit int, cursor string) (page.Page[usecase.Summary], error)
	Library(ctx context.Context, p identity.Principal, q usecase.Query, limit int, cursor string) (page.Page[usecase.Summary], error)
	Related(ctx context.Context, p identity.Principal, id string) ([]usecase.Summary, error)
	Facets(ctx context.Context, p identity.Principal, q usecase.Query) (usecase.Facets, error)
	Verify(ctx context.Context, p identity.Principal, id string, on bool) (usecase.UseCase, error)
	Feature(ctx context.Context, p identity.Principal, id string, on bool) (usecase.UseCase, error)
	React(ctx context.Context, p identity.Principal, kind, id string, on bool) (int, error)
	Queue(ctx context.Context, p identity.Principal, status string, limit int, cursor string) (page.Page[usecase.Summary], error)
	Decide(ctx context.Context, p identity.Principal, id string, d usecase.Decision) (usecase.UseCase, error)
	Claim(ctx context.Context, p identity.Principal, id, lang string) (usecase.UseCase, error)
	Release(ctx context.Context, p identity.Principal, id, lang string) (usecase.UseCase, error)
	Archive(ctx context.Context, p identity.Principal, id, reason, lang string) (usecase.UseCase, error)
	Restore(ctx context.Context, p identity.Principal, id, reason, lang string) (usecase.UseCase, error)
	History(ctx context.Context, p identity.Principal, id, lang string) ([]usecase.Entry, error)
	Contact(ctx context.Context, p identity.Principal, id, message string) (usecase.Conversation, error)
}

type routes struct{ u UseCases }

func mountREST(rt *rest.Router, u UseCases) {
	r := &routes{u: u}
	api := rt.API
	read := rt.Require()
	write := rt.Require(identity.PermContentPublish)
	review := rt.Require(identity.PermUseCasesReview)

	api.GET("/use-cases", read, r.library)
	api.POST("/use-cases", write, rt.Retryable(), r.create)
	api.GET("/use-cases/mine", read, r.mine)
	api.GET("/use-cases/facets", read, r.facets)
	api.GET("/use-cases/:id", read, r.get)
	api.GET("/use-cases/:id/related", read, r.related)
	api.POST("/use-cases/:id/contact", read, rt.Retryable(), r.contact)
	api.PATCH("/use-cases/:id", write, r.update)
	api.DELETE("/use-cases/:id", read, r.remove)
	api.POST("/use-cases/:id/validate", read, r.validate)
	api.POST("/use-cases/:id/submit", write, r.submit)
	api.POST("/use-cases/:id/archive", read, r.shelve(r.u.Archive))
	api.POST("/use-cases/:id/restore", read, r.shelve(r.u.Restore))
	api.GET("/use-cases/:id/history", read, r.history)
	api.PUT("/use-cases/:id/like", read, r.react("like", true))
	api.DELETE("/use-cases/:id/like", read, r.react("like", false))
	api.PUT("/use-cases/:id/save", read, r.react("save", true))
	api.DELETE("/use-cases/:id/save", read, r.react("save", false))
	api.GET("/moderation/use-cases", review, r.queue)
	api.POST("/moderation/use-cases/:id/decision", review, r.decide)
	api.POST("/moderation/use-cases/:id/claim", review, r.claim(r.u.Claim))
	api.DELETE("/moderation/use-cases/:id/claim", review, r.claim(r.u.Release))
	api.PUT("/moderation/use-cases/:id/verification", review, r.mark(r.u.Verify, true))
	api.DELETE("/moderation/use-cases/:id/verification", review, r.mark(r.u.Verify, false))
	api.PUT("/moderation/use-cases/:id/featured", review, r.mark(r.u.Feature, true))
	api.DELETE("/moderation/use-cases/:id/featured", review, r.mark(r.u.Feature, false))
}

// lang is the language of validation messages: Arabic when the client asks for it first.
func lang(c *gin.Context) string { return c.GetHeader("Accept-Language") }

// version reads If-Match: a version the use case answered in its ETag ("3", W/"3" or 3); 0
// when absent or "*". False when it answered.
func version(c *gin.Context) (int, bool) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return 0, true
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "If-Match", Message: "must be the version of the use case's ETag"}))
		return 0, false
	}
	return v, true
}

// answer sends a use case with its version as the ETag.
func answer(c *gin.Context, status int, u usecase.UseCase, err error) {
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("ETag", `"`+strconv.Itoa(u.Version)+`"`)
	c.JSON(status, u)
}

func (r *routes) create(c *gin.Context) {
	var patch map[string]any
	if !rest.BindJSON(c, &patch) {
		return
	}
	u, err := r.u.Create(c.Request.Context(), rest.Principal(c), patch)
	if err == nil {
		c.Header("Location", "/api/v1/use-cases/"+u.ID)
	}
	answer(c, http.StatusCreated, u, err)
}

func (r *routes) get(c *gin.Context) {
	u, err := r.u.View(c.Request.Context(), rest.Principal(c), c.Param("id"))
	answer(c, http.StatusOK, u, err)
}

func (r *routes) update(c *gin.Context) {
	v, ok := version(c)
	if !ok {
		return
	}
	var patch map[string]any
	if !rest.BindJSON(c, &patch) {
		return
	}
	u, err := r.u.Update(c.Request.Context(), rest.Principal(c), c.Param("id"), v, patch)
	answer(c, http.StatusOK, u, err)
}

func (r *routes) remove(c *gin.Context) {
	v, ok := version(c)
	if !ok {
		return
	}
	if err := r.u.Delete(c.Request.Context(), rest.Principal(c), c.Param("id"), v); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (r *routes) validate(c *gin.Context) {
	step, ok := rest.QueryInt(c, "step")
	if !ok {
		return
	}
	u, err := r.u.Validate(c.Request.Context(), rest.Principal(c), c.Param("id"), step, lang(c))
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"valid": true, "step": step, "version": u.Version})
}

func (r *routes) submit(c *gin.Context) {
	v, ok := version(c)
	if !ok {
		return
	}
	u, err := r.u.Submit(c.Request.Context(), rest.Principal(c), c.Param("id"), v, lang(c))
	answer(c, http.StatusOK, u, err)
}

func (r *routes) mine(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.u.Mine(c.Request.Context(), rest.Principal(c), c.Query("status"), limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) library(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	q, ok := libraryQuery(c)
	if !ok {
		return
	}
	pg, err := r.u.Library(c.Request.Context(), rest.Principal(c), q, limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) facets(c *gin.Context) {
	q, ok := libraryQuery(c)
	if !ok {
		return
	}
	f, err := r.u.Facets(c.Request.Context(), rest.Principal(c), q)
	rest.Respond(c, f, err)
}

// libraryQuery reads the library's filters, which its list and its facets share; false when it
// answered.
func libraryQuery(c *gin.Context) (usecase.Query, bool) {
	q := usecase.Query{Category: c.Query("category"), Industry: c.Query("industry"), OrganizationID: c.Query("organizationId"),
		Text: c.Query("q"), Sort: c.Query("sort"), Technology: c.Query("tech"), City: c.Query("city")}
	for name, v := range map[string]*bool{"saved": &q.Saved, "verified": &q.Verified, "featured": &q.Featured} {
		var ok bool
		if *v, ok = rest.QueryBool(c, name); !ok {
			return q, false
		}
	}
	for name, v := range map[string]**float64{"roiMin": &q.RoiMin, "roiMax": &q.RoiMax} {
		var ok bool
		if *v, ok = queryFloat(c, name); !ok {
			return q, false
		}
	}
	near, ok := point(c)
	if !ok {
		return q, false
	}
	radius, ok := queryFloat(c, "radiusKm")
	switch {
	case !ok:
		return q, false
	case near != nil:
		q.Near = &usecase.Near{Latitude: near.Latitude, Longitude: near.Longitude, RadiusKm: defaultRadiusKm}
		if radius != nil {
			q.Near.RadiusKm = *radius
		}
	case radius != nil:
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "radiusKm", Message: "needs near"}))
		return q, false
	}
	return q, true
}

// defaultRadiusKm is "near me" without a radius: the city and its industrial areas.
const defaultRadiusKm = 50

// queryFloat reads an optional finite number; a malformed one answers 422 and false.
func queryFloat(c *gin.Context, name string) (*float64, bool) {
	raw, set := c.GetQuery(name)
	if !set {
		return nil, true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: name, Message: "must be a number"}))
		return nil, false
	}
	return &f, true
}

func (r *routes) mark(set func(ctx context.Context, p identity.Principal, id string, on bool) (usecase.UseCase, error), on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := set(c.Request.Context(), rest.Principal(c), c.Param("id"), on)
		answer(c, http.StatusOK, u, err)
	}
}

func (r *routes) related(c *gin.Context) {
	items, err := r.u.Related(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, gin.H{"items": items}, err)
}

func (r *routes) react(kind string, on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		n, err := r.u.React(c.Request.Context(), rest.Principal(c), kind, c.Param("id"), on)
		if kind == "like" {
			rest.Respond(c, gin.H{"likes": n, "likedByMe": on}, err)
			return
		}
		rest.Respond(c, gin.H{"saves": n, "savedByMe": on}, err)
	}
}

func (r *routes) queue(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.u.Queue(c.Request.Context(), rest.Principal(c), c.Query("status"), limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) decide(c *gin.Context) {
	var d usecase.Decision
	if !rest.BindJSON(c, &d) {
		return
	}
	d.Lang = lang(c)
	u, err := r.u.Decide(c.Request.Context(), rest.Principal(c), c.Param("id"), d)
	answer(c, http.StatusOK, u, err)
}

func (r *routes) claim(fn func(ctx context.Context, p identity.Principal, id, lang string) (usecase.UseCase, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := fn(c.Request.Context(), rest.Principal(c), c.Param("id"), lang(c))
		answer(c, http.StatusOK, u, err)
	}
}

// shelf is the optional body of archive and restore.
type shelf struct {
	Reason string `json:"reason"`
}

func (r *routes) shelve(fn func(ctx context.Context, p identity.Principal, id, reason, lang string) (usecase.UseCase, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body shelf
		if c.Request.ContentLength != 0 && !rest.BindJSON(c, &body) {
			return
		}
		u, err := fn(c.Request.Context(), rest.Principal(c), c.Param("id"), body.Reason, lang(c))
		answer(c, http.StatusOK, u, err)
	}
}

func (r *routes) history(c *gin.Context) {
	items, err := r.u.History(c.Request.Context(), rest.Principal(c), c.Param("id"), lang(c))
	rest.Respond(c, gin.H{"items": items}, err)
}
