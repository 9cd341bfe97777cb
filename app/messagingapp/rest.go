package messagingapp

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/rest"
)

// Messaging is what the REST layer needs from the messaging service.
type Messaging interface {
	Create(ctx context.Context, p identity.Principal, in messaging.NewInput) (messaging.Conversation, bool, error)
	Conversations(ctx context.Context, p identity.Principal, archived bool, limit int, cursor string) (page.Page[messaging.Conversation], error)
	Conversation(ctx context.Context, p identity.Principal, id string) (messaging.Conversation, error)
	Update(ctx context.Context, p identity.Principal, id string, up messaging.ConversationUpdate) (messaging.Conversation, error)
	AddParticipants(ctx context.Context, p identity.Principal, id string, userIDs []string) (messaging.Conversation, error)
	RemoveParticipant(ctx context.Context, p identity.Principal, id, userID string) error
	Send(ctx context.Context, p identity.Principal, req messaging.SendRequest) (messaging.Message, bool, error)
	History(ctx context.Context, p identity.Principal, id string, before, after int64, limit int) (messaging.HistoryPage, error)
	Edit(ctx context.Context, p identity.Principal, conversationID, messageID, content string) (messaging.Message, error)
	Delete(ctx context.Context, p identity.Principal, conversationID, messageID string) (messaging.Message, error)
	MarkRead(ctx context.Context, p identity.Principal, id string, seq int64) (messaging.ReadState, error)
	UnreadTotal(ctx context.Context, p identity.Principal) (messaging.Unread, error)
	Search(ctx context.Context, p identity.Principal, text, conversationID string, limit int, cursor string) (page.Page[messaging.SearchHit], error)
	Block(ctx context.Context, p identity.Principal, userID string) error
	Unblock(ctx context.Context, p identity.Principal, userID string) error
	Blocked(ctx context.Context, p identity.Principal) ([]identity.Card, error)
	Upload(ctx context.Context, p identity.Principal, conversationID, name string, r io.Reader) (messaging.Attachment, error)
	OpenAttachment(ctx context.Context, p identity.Principal, conversationID, id string) (messaging.Attachment, io.ReadCloser, error)
}

type messagingRoutes struct {
	m Messaging
}

// AttachmentBodyLimit is the request size of an attachment upload: the file and the multipart
// envelope around it.
const AttachmentBodyLimit = messaging.MaxAttachmentBytes + 64<<10

func mountREST(rt *rest.Router, m Messaging) {
	r := &messagingRoutes{m: m}
	api := rt.API
	send := rt.Require(identity.PermMessagesSend)
	read := rt.Require()
	rt.LimitBody("/api/v1/conversations/:id/attachments", AttachmentBodyLimit)

	api.GET("/conversations", read, r.list)
	api.POST("/conversations", send, rt.Retryable(), r.create)
	api.GET("/conversations/unread", read, r.unread)
	api.GET("/conversations/:id", read, r.get)
	api.PATCH("/conversations/:id", read, r.update)
	api.POST("/conversations/:id/participants", send, rt.Retryable(), r.addParticipants)
	api.DELETE("/conversations/:id/participants/:userId", read, r.removeParticipant)
	api.GET("/conversations/:id/messages", read, r.history)
	api.POST("/conversations/:id/messages", send, r.send)
	api.PATCH("/conversations/:id/messages/:messageId", send, r.edit)
	api.DELETE("/conversations/:id/messages/:messageId", read, r.delete)
	api.POST("/conversations/:id/read", read, r.read)
	api.POST("/conversations/:id/attachments", send, r.upload)
	api.GET("/conversations/:id/attachments/:attachmentId", read, r.download)
	api.GET("/messages/search", read, r.search)
	api.GET("/me/blocks", read, r.blocked)
	api.PUT("/users/:id/block", read, r.block)
	api.DELETE("/users/:id/block", read, r.unblock)
}

func (r *messagingRoutes) list(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	archived, ok := rest.QueryBool(c, "archived")
	if !ok {
		return
	}
	pg, err := r.m.Conversations(c.Request.Context(), rest.Principal(c), archived, limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *messagingRoutes) create(c *gin.Context) {
	var in messaging.NewInput
	if !rest.BindJSON(c, &in) {
		return
	}
	conv, created, err := r.m.Create(c.Request.Context(), rest.Principal(c), in)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/conversations/"+conv.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, conv)
}

func (r *messagingRoutes) unread(c *gin.Context) {
	u, err := r.m.UnreadTotal(c.Request.Context(), rest.Principal(c))
	rest.Respond(c, u, err)
}

func (r *messagingRoutes) get(c *gin.Context) {
	conv, err := r.m.Conversation(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, conv, err)
}

func (r *messagingRoutes) update(c *gin.Context) {
	var up messaging.ConversationUpdate
	if !rest.BindJSON(c, &up) {
		return
	}
	conv, err := r.m.Update(c.Request.Context(), rest.Principal(c), c.Param("id"), up)
	rest.Respond(c, conv, err)
}

func (r *messagingRoutes) addParticipants(c *gin.Context) {
	var in struct {
		UserIDs []string `json:"userIds"`
	}
	if !rest.BindJSON(c, &in) {
		return
	}
	conv, err := r.m.AddParticipants(c.Request.Context(), rest.Principal(c), c.Param("id"), in.UserIDs)
	rest.Respond(c, conv, err)
}

func (r *messagingRoutes) removeParticipant(c *gin.Context) {
	if err := r.m.RemoveParticipant(c.Request.Context(), rest.Principal(c), c.Param("id"), c.Param("userId")); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// history reads backwards from ?before= (a seq; the newest when absent) or, with ?after=, forwards
// from a seq: what a client that reconnects asks for.
func (r *messagingRoutes) history(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	before, ok := querySeq(c, "before", 0)
	if !ok {
		return
	}
	after, ok := querySeq(c, "after", -1)
	if !ok {
		return
	}
	if before > 0 && after >= 0 {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "after", Message: "use before or after, not both"}))
		return
	}
	h, err := r.m.History(c.Request.Context(), rest.Principal(c), c.Param("id"), before, after, limit)
	rest.Respond(c, h, err)
}

// send stores a message. A retry carries the same clientId, or the same Idempotency-Key, which
// stands for the clientId when the body has none: either way it answers the stored message
// (200) instead of making another (201).
func (r *messagingRoutes) send(c *gin.Context) {
	var req messaging.SendRequest
	if !rest.BindJSON(c, &req) {
		return
	}
	if req.ConversationID != "" && req.ConversationID != c.Param("id") {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "conversationId", Message: "differs from the conversation in the path"}))
		return
	}
	req.ConversationID = c.Param("id")
	if req.ClientID == "" {
		req.ClientID = c.GetHeader("Idempotency-Key")
	}
	msg, created, err := r.m.Send(c.Request.Context(), rest.Principal(c), req)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, msg)
}

func (r *messagingRoutes) edit(c *gin.Context) {
	var in struct {
		Content string `json:"content"`
	}
	if !rest.BindJSON(c, &in) {
		return
	}
	msg, err := r.m.Edit(c.Request.Context(), rest.Principal(c), c.Param("id"), c.Param("messageId"), in.Content)
	rest.Respond(c, msg, err)
}

func (r *messagingRoutes) delete(c *gin.Context) {
	msg, err := r.m.Delete(c.Request.Context(), rest.Principal(c), c.Param("id"), c.Param("messageId"))
	rest.Respond(c, msg, err)
}

func (r *messagingRoutes) read(c *gin.Context) {
	var in struct {
		Seq int64 `json:"seq"`
	}
	if c.Request.ContentLength != 0 && !rest.BindJSON(c, &in) {
		return
	}
	st, err := r.m.MarkRead(c.Request.Context(), rest.Principal(c), c.Param("id"), in.Seq)
	rest.Respond(c, st, err)
}

// upload streams one file into the conversation's storage; a message then names it.
func (r *messagingRoutes) upload(c *gin.Context) {
	part, err := rest.FilePart(c.Request)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	defer part.Close()
	a, err := r.m.Upload(c.Request.Context(), rest.Principal(c), c.Param("id"), part.FileName(), part)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", a.URL)
	c.JSON(http.StatusCreated, a)
}

func (r *messagingRoutes) download(c *gin.Context) {
	a, rc, err := r.m.OpenAttachment(c.Request.Context(), rest.Principal(c), c.Param("id"), c.Param("attachmentId"))
	if err != nil {
		rest.Fail(c, err)
		return
	}
	defer rc.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	h.Set("Cache-Control", "private, max-age=3600")
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		rest.LogOf(c).WarnContext(c.Request.Context(), "sending attachment", "id", a.ID, "err", err)
	}
}

func (r *messagingRoutes) search(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	pg, err := r.m.Search(c.Request.Context(), rest.Principal(c), c.Query("q"), c.Query("conversationId"), limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *messagingRoutes) blocked(c *gin.Context) {
	list, err := r.m.Blocked(c.Request.Context(), rest.Principal(c))
	rest.Respond(c, gin.H{"items": list}, err)
}

func (r *messagingRoutes) block(c *gin.Context) {
	if err := r.m.Block(c.Request.Context(), rest.Principal(c), c.Param("id")); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (r *messagingRoutes) unblock(c *gin.Context) {
	if err := r.m.Unblock(c.Request.Context(), rest.Principal(c), c.Param("id")); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// querySeq reads an optional seq query parameter (a non-negative integer).
func querySeq(c *gin.Context, name string, absent int64) (int64, bool) {
	s := c.Query(name)
	if s == "" {
		return absent, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: name, Message: "must be a seq (a non-negative integer)"}))
		return 0, false
	}
	return n, true
}
