package forumapp

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/rest"
)

// Moderation is what the moderators' and revision routes need from the forum service.
type Moderation interface {
	Pin(ctx context.Context, p identity.Principal, topicID string, on bool) (forum.Topic, error)
	Lock(ctx context.Context, p identity.Principal, topicID string, on bool) (forum.Topic, error)
	HideTopic(ctx context.Context, p identity.Principal, topicID, reason string) error
	HideReply(ctx context.Context, p identity.Principal, replyID, reason string) error
	TopicRevisions(ctx context.Context, p identity.Principal, topicID string) ([]forum.Revision, error)
	ReplyRevisions(ctx context.Context, p identity.Principal, replyID string) ([]forum.Revision, error)
	CreateCategory(ctx context.Context, p identity.Principal, in forum.NewCategory) (forum.Category, error)
	UpdateCategory(ctx context.Context, p identity.Principal, id string, up forum.CategoryUpdate) (forum.Category, error)
	DeleteCategory(ctx context.Context, p identity.Principal, id string) error
}

type moderationRoutes struct{ m Moderation }

func mountModeration(rt *rest.Router, m Moderation) {
	r := &moderationRoutes{m: m}
	api, read := rt.API, rt.Require()
	mod := rt.Require(identity.PermForumModerate)

	api.GET("/forum/topics/:id/revisions", read, r.topicRevisions)
	api.GET("/forum/replies/:id/revisions", read, r.replyRevisions)
	api.PUT("/forum/topics/:id/pin", mod, r.flag(m.Pin, true))
	api.DELETE("/forum/topics/:id/pin", mod, r.flag(m.Pin, false))
	api.PUT("/forum/topics/:id/lock", mod, r.flag(m.Lock, true))
	api.DELETE("/forum/topics/:id/lock", mod, r.flag(m.Lock, false))
	api.POST("/forum/topics/:id/hide", mod, r.hide(m.HideTopic))
	api.POST("/forum/replies/:id/hide", mod, r.hide(m.HideReply))
	api.POST("/forum/categories", mod, r.createCategory)
	api.PATCH("/forum/categories/:id", mod, r.updateCategory)
	api.DELETE("/forum/categories/:id", mod, r.deleteCategory)
}

func (r *moderationRoutes) topicRevisions(c *gin.Context) {
	revs, err := r.m.TopicRevisions(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, gin.H{"items": revs}, err)
}

func (r *moderationRoutes) replyRevisions(c *gin.Context) {
	revs, err := r.m.ReplyRevisions(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, gin.H{"items": revs}, err)
}

type flagFunc func(ctx context.Context, p identity.Principal, topicID string, on bool) (forum.Topic, error)

func (r *moderationRoutes) flag(set flagFunc, on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := set(c.Request.Context(), rest.Principal(c), c.Param("id"), on)
		rest.Respond(c, t, err)
	}
}

type hideFunc func(ctx context.Context, p identity.Principal, id, reason string) error

func (r *moderationRoutes) hide(hide hideFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Reason string `json:"reason"`
		}
		if !rest.BindJSON(c, &in) {
			return
		}
		noContent(c, hide(c.Request.Context(), rest.Principal(c), c.Param("id"), in.Reason))
	}
}

func (r *moderationRoutes) createCategory(c *gin.Context) {
	var in forum.NewCategory
	if !rest.BindJSON(c, &in) {
		return
	}
	cat, err := r.m.CreateCategory(c.Request.Context(), rest.Principal(c), in)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, cat)
}

func (r *moderationRoutes) updateCategory(c *gin.Context) {
	var up forum.CategoryUpdate
	if !rest.BindJSON(c, &up) {
		return
	}
	cat, err := r.m.UpdateCategory(c.Request.Context(), rest.Principal(c), c.Param("id"), up)
	rest.Respond(c, cat, err)
}

func (r *moderationRoutes) deleteCategory(c *gin.Context) {
	noContent(c, r.m.DeleteCategory(c.Request.Context(), rest.Principal(c), c.Param("id")))
}
