package identityapp

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/rest"
)

// Moderation is what the platform moderators' routes need from the identity service.
type Moderation interface {
	Organizations(ctx context.Context, p identity.Principal, q identity.OrganizationQuery, limit int, cursor string) (page.Page[identity.OrganizationSummary], error)
	VerifyOrganization(ctx context.Context, p identity.Principal, orgID string, on bool) (identity.Organization, error)
	SuspendOrganization(ctx context.Context, p identity.Principal, orgID, reason string) (identity.Organization, error)
	ReinstateOrganization(ctx context.Context, p identity.Principal, orgID string) (identity.Organization, error)
	SetModerator(ctx context.Context, p identity.Principal, userID string, on bool) (identity.User, error)
}

type moderationRoutes struct{ m Moderation }

// mountModeration mounts /moderation: the platform's moderators at work across organizations.
func mountModeration(rt *rest.Router, m Moderation) {
	r := &moderationRoutes{m: m}
	orgs := rt.Require(identity.PermOrganizationsModerate)
	g := rt.API.Group("/moderation", orgs)
	g.GET("/organizations", r.organizations)
	g.PUT("/organizations/:id/verification", r.verify(true))
	g.DELETE("/organizations/:id/verification", r.verify(false))
	g.PUT("/organizations/:id/suspension", r.suspend)
	g.DELETE("/organizations/:id/suspension", r.reinstate)
	g.PUT("/moderators/:id", r.moderator(true))
	g.DELETE("/moderators/:id", r.moderator(false))
}

func (r *moderationRoutes) organizations(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	q := identity.OrganizationQuery{Name: c.Query("q"), Status: c.Query("status")}
	list, err := r.m.Organizations(c.Request.Context(), rest.Principal(c), q, limit, c.Query("cursor"))
	rest.Respond(c, list, err)
}

func (r *moderationRoutes) verify(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, err := r.m.VerifyOrganization(c.Request.Context(), rest.Principal(c), c.Param("id"), on)
		rest.Respond(c, o, err)
	}
}

func (r *moderationRoutes) suspend(c *gin.Context) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !rest.BindJSON(c, &in) {
		return
	}
	o, err := r.m.SuspendOrganization(c.Request.Context(), rest.Principal(c), c.Param("id"), in.Reason)
	rest.Respond(c, o, err)
}

func (r *moderationRoutes) reinstate(c *gin.Context) {
	o, err := r.m.ReinstateOrganization(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, o, err)
}

func (r *moderationRoutes) moderator(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := r.m.SetModerator(c.Request.Context(), rest.Principal(c), c.Param("id"), on)
		if err != nil {
			rest.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": u.ID, "platformRole": u.PlatformRole})
	}
}
