package usecaseapp

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/rest"
)

// messenger opens conversations through the messaging service (usecase.Messenger); its events
// reach the sockets through messagingapp's bridge on the shared bus.
type messenger struct{ m *messaging.Service }

func (m messenger) Direct(ctx context.Context, p identity.Principal, userID, message string) (usecase.Conversation, bool, error) {
	c, created, err := m.m.Create(ctx, p, messaging.NewInput{ParticipantIDs: []string{userID}, Kind: messaging.KindDirect})
	if e, ok := errs.As(err); ok && e.Code == errs.Validation {
		return usecase.Conversation{}, true, nil // noUser: unknown, inactive or not taking p's messages
	}
	if err != nil {
		return usecase.Conversation{}, false, err
	}
	if message != "" {
		if _, _, err := m.m.Send(ctx, p, messaging.SendRequest{ConversationID: c.ID, ClientID: "contact-" + ids.New(), Content: message}); err != nil {
			return usecase.Conversation{}, false, err
		}
	}
	return usecase.Conversation{ID: c.ID, Created: created}, false, nil
}

// contact is POST /use-cases/{id}/contact.
func (r *routes) contact(c *gin.Context) {
	var body struct {
		Message string `json:"message"`
	}
	if c.Request.ContentLength != 0 && !rest.BindJSON(c, &body) {
		return
	}
	conv, err := r.u.Contact(c.Request.Context(), rest.Principal(c), c.Param("id"), body.Message)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	status := http.StatusOK
	if conv.Created {
		status = http.StatusCreated
	}
	c.Header("Location", "/api/v1/conversations/"+conv.ID)
	c.JSON(status, conv)
}
