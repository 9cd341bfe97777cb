package forumapp

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/rest"
)

// Forum is what the REST layer needs from the forum service.
type Forum interface {
	Categories(ctx context.Context) ([]forum.Category, error)
	Stats(ctx context.Context) (forum.Stats, error)
	MentionCandidates(ctx context.Context, p identity.Principal, prefix string) ([]forum.Candidate, error)
	CreateTopic(ctx context.Context, p identity.Principal, in forum.NewTopic) (forum.Topic, error)
	Topics(ctx context.Context, p identity.Principal, q forum.Query, limit int, cursor string) (page.Page[forum.Topic], error)
	Topic(ctx context.Context, p identity.Principal, id string) (forum.Topic, error)
	UpdateTopic(ctx context.Context, p identity.Principal, id string, up forum.TopicUpdate) (forum.Topic, error)
	DeleteTopic(ctx context.Context, p identity.Principal, id string) error
	Replies(ctx context.Context, p identity.Principal, topicID, parentID string, limit int, cursor string) (page.Page[forum.Reply], error)
	Reply(ctx context.Context, p identity.Principal, topicID string, in forum.NewReply) (forum.Reply, error)
	EditReply(ctx context.Context, p identity.Principal, id, content string) (forum.Reply, error)
	DeleteReply(ctx context.Context, p identity.Principal, id string) error
	Like(ctx context.Context, p identity.Principal, targetType, id string, on bool) (int, error)
	Bookmark(ctx context.Context, p identity.Principal, topicID string, on bool) error
	MarkBestAnswer(ctx context.Context, p identity.Principal, topicID, replyID string) (forum.Topic, error)
	Search(ctx context.Context, p identity.Principal, text string, q forum.Query, limit int, cursor string) (page.Page[forum.Hit], error)
}

type routes struct{ f Forum }

func mountREST(rt *rest.Router, f Forum) {
	r := &routes{f: f}
	api := rt.API
	read := rt.Require()
	post := rt.Require(identity.PermContentPublish)

	api.GET("/forum/categories", read, r.categories)
	api.GET("/forum/stats", read, r.stats)
	api.GET("/forum/mentions", read, r.mentions)
	api.GET("/forum/topics", read, r.topics)
	api.GET("/forum/search", read, r.search)
	api.POST("/forum/topics", post, rt.Retryable(), r.createTopic)
	api.GET("/forum/topics/:id", read, r.topic)
	api.PATCH("/forum/topics/:id", post, r.updateTopic)
	api.DELETE("/forum/topics/:id", read, r.deleteTopic)
	api.GET("/forum/topics/:id/replies", read, r.replies)
	api.POST("/forum/topics/:id/replies", post, rt.Retryable(), r.reply)
	api.PATCH("/forum/replies/:id", post, r.editReply)
	api.DELETE("/forum/replies/:id", read, r.deleteReply)
	api.PUT("/forum/topics/:id/like", read, r.like("topic", true))
	api.DELETE("/forum/topics/:id/like", read, r.like("topic", false))
	api.PUT("/forum/replies/:id/like", read, r.like("post", true))
	api.DELETE("/forum/replies/:id/like", read, r.like("post", false))
	api.PUT("/forum/topics/:id/bookmark", read, r.bookmark(true))
	api.DELETE("/forum/topics/:id/bookmark", read, r.bookmark(false))
	api.PUT("/forum/topics/:id/best-answer", read, r.bestAnswer)
}

func (r *routes) categories(c *gin.Context) {
	cats, err := r.f.Categories(c.Request.Context())
	rest.Respond(c, gin.H{"items": cats}, err)
}

func (r *routes) stats(c *gin.Context) {
	st, err := r.f.Stats(c.Request.Context())
	rest.Respond(c, st, err)
}

func (r *routes) mentions(c *gin.Context) {
	found, err := r.f.MentionCandidates(c.Request.Context(), rest.Principal(c), c.Query("q"))
	rest.Respond(c, gin.H{"items": found}, err)
}

func (r *routes) topics(c *gin.Context) {
	limit, q, ok := listQuery(c)
	if !ok {
		return
	}
	q.Sort = c.Query("sort")
	pg, err := r.f.Topics(c.Request.Context(), rest.Principal(c), q, limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) search(c *gin.Context) {
	limit, q, ok := listQuery(c)
	if !ok {
		return
	}
	pg, err := r.f.Search(c.Request.Context(), rest.Principal(c), c.Query("q"), q, limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

// listQuery reads the filters the topic list and the search share; false when it answered.
func listQuery(c *gin.Context) (int, forum.Query, bool) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return 0, forum.Query{}, false
	}
	bookmarked, ok := rest.QueryBool(c, "bookmarked")
	if !ok {
		return 0, forum.Query{}, false
	}
	q := forum.Query{Category: c.Query("category"), Tag: c.Query("tag"), AuthorID: c.Query("authorId"), Bookmarked: bookmarked}
	if _, set := c.GetQuery("answered"); set {
		answered, ok := rest.QueryBool(c, "answered")
		if !ok {
			return 0, forum.Query{}, false
		}
		q.Answered = &answered
	}
	return limit, q, true
}

func (r *routes) createTopic(c *gin.Context) {
	var in forum.NewTopic
	if !rest.BindJSON(c, &in) {
		return
	}
	t, err := r.f.CreateTopic(c.Request.Context(), rest.Principal(c), in)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/forum/topics/"+t.ID)
	c.JSON(http.StatusCreated, t)
}

func (r *routes) topic(c *gin.Context) {
	t, err := r.f.Topic(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, t, err)
}

func (r *routes) updateTopic(c *gin.Context) {
	var up forum.TopicUpdate
	if !rest.BindJSON(c, &up) {
		return
	}
	t, err := r.f.UpdateTopic(c.Request.Context(), rest.Principal(c), c.Param("id"), up)
	rest.Respond(c, t, err)
}

func (r *routes) deleteTopic(c *gin.Context) {
	noContent(c, r.f.DeleteTopic(c.Request.Context(), rest.Principal(c), c.Param("id")))
}

func (r *routes) replies(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.f.Replies(c.Request.Context(), rest.Principal(c), c.Param("id"), c.Query("parentId"), limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) reply(c *gin.Context) {
	var in forum.NewReply
	if !rest.BindJSON(c, &in) {
		return
	}
	reply, err := r.f.Reply(c.Request.Context(), rest.Principal(c), c.Param("id"), in)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, reply)
}

func (r *routes) editReply(c *gin.Context) {
	var in struct {
		Content string `json:"content"`
	}
	if !rest.BindJSON(c, &in) {
		return
	}
	reply, err := r.f.EditReply(c.Request.Context(), rest.Principal(c), c.Param("id"), in.Content)
	rest.Respond(c, reply, err)
}

func (r *routes) deleteReply(c *gin.Context) {
	noContent(c, r.f.DeleteReply(c.Request.Context(), rest.Principal(c), c.Param("id")))
}

func (r *routes) like(targetType string, on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		n, err := r.f.Like(c.Request.Context(), rest.Principal(c), targetType, c.Param("id"), on)
		rest.Respond(c, gin.H{"likes": n, "likedByMe": on}, err)
	}
}

func (r *routes) bookmark(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		err := r.f.Bookmark(c.Request.Context(), rest.Principal(c), c.Param("id"), on)
		rest.Respond(c, gin.H{"bookmarkedByMe": on}, err)
	}
}

func (r *routes) bestAnswer(c *gin.Context) {
	var in struct {
		ReplyID string `json:"replyId"`
	}
	if !rest.BindJSON(c, &in) {
		return
	}
	t, err := r.f.MarkBestAnswer(c.Request.Context(), rest.Principal(c), c.Param("id"), in.ReplyID)
	rest.Respond(c, t, err)
}

func noContent(c *gin.Context, err error) {
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
