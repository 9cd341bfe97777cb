package identityapp

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/rest"
)

// Identity is what the REST layer needs from the identity service.
type Identity interface {
	Account(ctx context.Context, userID string) (identity.Account, error)
	Touch(ctx context.Context, userID string) error
	UpdateProfile(ctx context.Context, p identity.Principal, up identity.ProfileUpdate) (identity.Account, error)
	PublicProfileOf(ctx context.Context, p identity.Principal, userID string) (identity.PublicProfile, error)

	Members(ctx context.Context, p identity.Principal, q identity.MemberQuery, limit int, cursor string) (identity.MemberList, error)
	UpdateMember(ctx context.Context, p identity.Principal, userID string, up identity.MemberUpdate) (identity.User, error)
	DeleteMember(ctx context.Context, p identity.Principal, userID string) error

	CurrentOrganization(ctx context.Context, p identity.Principal) (identity.Organization, error)
	UpdateOrganization(ctx context.Context, p identity.Principal, up identity.OrganizationUpdate) (identity.Organization, error)
	Stats(ctx context.Context, p identity.Principal) (identity.OrganizationStats, error)
	AuditLog(ctx context.Context, p identity.Principal, limit int, cursor string) (page.Page[identity.AuditEntry], error)

	Invite(ctx context.Context, p identity.Principal, in identity.Invite) (identity.Invitation, error)
	Invitations(ctx context.Context, p identity.Principal, status string, limit int, cursor string) (page.Page[identity.Invitation], error)
	Resend(ctx context.Context, p identity.Principal, id string) (identity.Invitation, error)
	Cancel(ctx context.Context, p identity.Principal, id string) error
	LookupInvitation(ctx context.Context, token string) (identity.InvitationPreview, error)
}

type identityRoutes struct {
	id Identity
}

func mountREST(rt *rest.Router, id Identity) {
	r := &identityRoutes{id: id}
	api, signedIn := rt.API, rt.Require()
	perm := func(p identity.Permission) gin.HandlerFunc { return rt.Require(p) }

	api.GET("/me", signedIn, r.me)
	api.PATCH("/me", signedIn, r.updateMe)
	api.GET("/users/:id", signedIn, r.user)

	org := api.Group("/organizations/current")
	org.GET("", perm(identity.PermOrgRead), r.organization)
	org.PATCH("", perm(identity.PermOrgUpdate), r.updateOrganization)
	org.GET("/stats", perm(identity.PermMembersRead), r.stats)
	org.GET("/audit-log", perm(identity.PermAuditRead), r.auditLog)
	org.GET("/users", perm(identity.PermMembersRead), r.members)
	org.PATCH("/users/:id", perm(identity.PermMembersManage), r.updateMember)
	org.DELETE("/users/:id", perm(identity.PermMembersManage), r.deleteMember)
	org.GET("/invitations", perm(identity.PermInvitationsManage), r.invitations)
	org.POST("/invitations", perm(identity.PermInvitationsManage), rt.Retryable(), r.invite)
	org.POST("/invitations/:id/resend", perm(identity.PermInvitationsManage), rt.Retryable(), r.resend)
	org.DELETE("/invitations/:id", perm(identity.PermInvitationsManage), r.cancel)

	// The invitee has no session yet: the token in the link is the credential.
	api.GET("/invitations/:token", r.lookupInvitation)
}

func (r *identityRoutes) me(c *gin.Context) {
	p := rest.Principal(c)
	acc, err := r.id.Account(c.Request.Context(), p.UserID)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	acc.User.EmailVerified = p.EmailVerified
	c.JSON(http.StatusOK, acc)
}

func (r *identityRoutes) updateMe(c *gin.Context) {
	var up identity.ProfileUpdate
	if !rest.BindJSON(c, &up) {
		return
	}
	acc, err := r.id.UpdateProfile(c.Request.Context(), rest.Principal(c), up)
	rest.Respond(c, acc, err)
}

func (r *identityRoutes) user(c *gin.Context) {
	pp, err := r.id.PublicProfileOf(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, pp, err)
}

func (r *identityRoutes) organization(c *gin.Context) {
	o, err := r.id.CurrentOrganization(c.Request.Context(), rest.Principal(c))
	rest.Respond(c, o, err)
}

func (r *identityRoutes) updateOrganization(c *gin.Context) {
	var up identity.OrganizationUpdate
	if !rest.BindJSON(c, &up) {
		return
	}
	o, err := r.id.UpdateOrganization(c.Request.Context(), rest.Principal(c), up)
	rest.Respond(c, o, err)
}

func (r *identityRoutes) stats(c *gin.Context) {
	st, err := r.id.Stats(c.Request.Context(), rest.Principal(c))
	rest.Respond(c, st, err)
}

func (r *identityRoutes) auditLog(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.id.AuditLog(c.Request.Context(), rest.Principal(c), limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

// members serves the admin's member table: ?search=&role=&status=&sort=name|-name|email|
// createdAt|lastLogin (a leading "-" sorts descending)&limit=&cursor=.
func (r *identityRoutes) members(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	sort, desc := strings.CutPrefix(c.Query("sort"), "-")
	q := identity.MemberQuery{Search: c.Query("search"), Role: c.Query("role"), Status: c.Query("status"), Sort: sort, Desc: desc}
	list, err := r.id.Members(c.Request.Context(), rest.Principal(c), q, limit, c.Query("cursor"))
	rest.Respond(c, list, err)
}

func (r *identityRoutes) updateMember(c *gin.Context) {
	var up identity.MemberUpdate
	if !rest.BindJSON(c, &up) {
		return
	}
	u, err := r.id.UpdateMember(c.Request.Context(), rest.Principal(c), c.Param("id"), up)
	rest.Respond(c, u, err)
}

func (r *identityRoutes) deleteMember(c *gin.Context) {
	if err := r.id.DeleteMember(c.Request.Context(), rest.Principal(c), c.Param("id")); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (r *identityRoutes) invitations(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.id.Invitations(c.Request.Context(), rest.Principal(c), c.Query("status"), limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *identityRoutes) invite(c *gin.Context) {
	var in identity.Invite
	if !rest.BindJSON(c, &in) {
		return
	}
	inv, err := r.id.Invite(c.Request.Context(), rest.Principal(c), in)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/organizations/current/invitations/"+inv.ID)
	c.JSON(http.StatusCreated, inv)
}

func (r *identityRoutes) resend(c *gin.Context) {
	inv, err := r.id.Resend(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, inv, err)
}

func (r *identityRoutes) cancel(c *gin.Context) {
	if err := r.id.Cancel(c.Request.Context(), rest.Principal(c), c.Param("id")); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (r *identityRoutes) lookupInvitation(c *gin.Context) {
	pv, err := r.id.LookupInvitation(c.Request.Context(), c.Param("token"))
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, pv)
}
