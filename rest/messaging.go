package rest

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/platform/auth"
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
	log *slog.Logger
	m   Messaging
}

// AttachmentBodyLimit is the request size of an attachment upload: the file and the multipart
// envelope around it.
const AttachmentBodyLimit = messaging.MaxAttachmentBytes + 64<<10

func mountMessaging(api *gin.RouterGroup, h *authRoutes, d Deps) {
	r := &messagingRoutes{log: d.Log, m: d.Messaging}
	send := h.require(auth.Permission(auth.PermMessagesSend))
	read := h.require()

	api.GET("/conversations", read, r.list)
	api.POST("/conversations", send, d.retryable(), r.create)
	api.GET("/conversations/unread", read, r.unread)
	api.GET("/conversations/:id", read, r.get)
	api.PATCH("/conversations/:id", read, r.update)
	api.POST("/conversations/:id/participants", send, d.retryable(), r.addParticipants)
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
	limit, ok := queryInt(c, r.log, "limit")
	if !ok {
		return
	}
	archived, ok := queryBool(c, r.log, "archived")
	if !ok {
		return
	}
	pg, err := r.m.Conversations(c.Request.Context(), principal(c), archived, limit, c.Query("cursor"))
	respond(c, r.log, pg, err)
}

func (r *messagingRoutes) create(c *gin.Context) {
	var in messaging.NewInput
	if !bindJSON(c, r.log, &in) {
		return
	}
	conv, created, err := r.m.Create(c.Request.Context(), principal(c), in)
	if err != nil {
		Fail(c, r.log, err)
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
	u, err := r.m.UnreadTotal(c.Request.Context(), principal(c))
	respond(c, r.log, u, err)
}

func (r *messagingRoutes) get(c *gin.Context) {
	conv, err := r.m.Conversation(c.Request.Context(), principal(c), c.Param("id"))
	respond(c, r.log, conv, err)
}

func (r *messagingRoutes) update(c *gin.Context) {
	var up messaging.ConversationUpdate
	if !bindJSON(c, r.log, &up) {
		return
	}
	conv, err := r.m.Update(c.Request.Context(), principal(c), c.Param("id"), up)
	respond(c, r.log, conv, err)
}

func (r *messagingRoutes) addParticipants(c *gin.Context) {
	var in struct {
		UserIDs []string `json:"userIds"`
	}
	if !bindJSON(c, r.log, &in) {
		return
	}
	conv, err := r.m.AddParticipants(c.Request.Context(), principal(c), c.Param("id"), in.UserIDs)
	respond(c, r.log, conv, err)
}

func (r *messagingRoutes) removeParticipant(c *gin.Context) {
	if err := r.m.RemoveParticipant(c.Request.Context(), principal(c), c.Param("id"), c.Param("userId")); err != nil {
		Fail(c, r.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// history reads backwards from ?before= (a seq; the newest when absent) or, with ?after=, forwards
// from a seq: what a client that reconnects asks for.
func (r *messagingRoutes) history(c *gin.Context) {
	limit, ok := queryInt(c, r.log, "limit")
	if !ok {
		return
	}
	before, ok := querySeq(c, r.log, "before", 0)
	if !ok {
		return
	}
	after, ok := querySeq(c, r.log, "after", -1)
	if !ok {
		return
	}
	if before > 0 && after >= 0 {
		Fail(c, r.log, errs.Fields(errs.FieldError{Field: "after", Message: "use before or after, not both"}))
		return
	}
	h, err := r.m.History(c.Request.Context(), principal(c), c.Param("id"), before, after, limit)
	respond(c, r.log, h, err)
}

// send stores a message. A retry carries the same clientId, or the same Idempotency-Key, which
// stands for the clientId when the body has none: either way it answers the stored message
// (200) instead of making another (201).
func (r *messagingRoutes) send(c *gin.Context) {
	var req messaging.SendRequest
	if !bindJSON(c, r.log, &req) {
		return
	}
	if req.ConversationID != "" && req.ConversationID != c.Param("id") {
		Fail(c, r.log, errs.Fields(errs.FieldError{Field: "conversationId", Message: "differs from the conversation in the path"}))
		return
	}
	req.ConversationID = c.Param("id")
	if req.ClientID == "" {
		req.ClientID = c.GetHeader("Idempotency-Key")
	}
	msg, created, err := r.m.Send(c.Request.Context(), principal(c), req)
	if err != nil {
		Fail(c, r.log, err)
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
	if !bindJSON(c, r.log, &in) {
		return
	}
	msg, err := r.m.Edit(c.Request.Context(), principal(c), c.Param("id"), c.Param("messageId"), in.Content)
	respond(c, r.log, msg, err)
}

func (r *messagingRoutes) delete(c *gin.Context) {
	msg, err := r.m.Delete(c.Request.Context(), principal(c), c.Param("id"), c.Param("messageId"))
	respond(c, r.log, msg, err)
}

func (r *messagingRoutes) read(c *gin.Context) {
	var in struct {
		Seq int64 `json:"seq"`
	}
	if c.Request.ContentLength != 0 && !bindJSON(c, r.log, &in) {
		return
	}
	st, err := r.m.MarkRead(c.Request.Context(), principal(c), c.Param("id"), in.Seq)
	respond(c, r.log, st, err)
}

// upload streams one file into the conversation's storage; a message then names it.
func (r *messagingRoutes) upload(c *gin.Context) {
	part, err := filePart(c.Request)
	if err != nil {
		Fail(c, r.log, err)
		return
	}
	defer part.Close()
	a, err := r.m.Upload(c.Request.Context(), principal(c), c.Param("id"), part.FileName(), part)
	if err != nil {
		Fail(c, r.log, err)
		return
	}
	c.Header("Location", a.URL)
	c.JSON(http.StatusCreated, a)
}

func (r *messagingRoutes) download(c *gin.Context) {
	a, rc, err := r.m.OpenAttachment(c.Request.Context(), principal(c), c.Param("id"), c.Param("attachmentId"))
	if err != nil {
		Fail(c, r.log, err)
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
		r.log.WarnContext(c.Request.Context(), "sending attachment", "id", a.ID, "err", err)
	}
}

func (r *messagingRoutes) search(c *gin.Context) {
	limit, ok := queryInt(c, r.log, "limit")
	if !ok {
		return
	}
	pg, err := r.m.Search(c.Request.Context(), principal(c), c.Query("q"), c.Query("conversationId"), limit, c.Query("cursor"))
	respond(c, r.log, pg, err)
}

func (r *messagingRoutes) blocked(c *gin.Context) {
	list, err := r.m.Blocked(c.Request.Context(), principal(c))
	respond(c, r.log, gin.H{"items": list}, err)
}

func (r *messagingRoutes) block(c *gin.Context) {
	if err := r.m.Block(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		Fail(c, r.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (r *messagingRoutes) unblock(c *gin.Context) {
	if err := r.m.Unblock(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		Fail(c, r.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// queryBool reads an optional boolean query parameter.
func queryBool(c *gin.Context, log *slog.Logger, name string) (bool, bool) {
	s := c.Query(name)
	if s == "" {
		return false, true
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		Fail(c, log, errs.Fields(errs.FieldError{Field: name, Message: "must be true or false"}))
		return false, false
	}
	return b, true
}

// querySeq reads an optional seq query parameter (a non-negative integer).
func querySeq(c *gin.Context, log *slog.Logger, name string, absent int64) (int64, bool) {
	s := c.Query(name)
	if s == "" {
		return absent, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		Fail(c, log, errs.Fields(errs.FieldError{Field: name, Message: "must be a seq (a non-negative integer)"}))
		return 0, false
	}
	return n, true
}
