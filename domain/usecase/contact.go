package usecase

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// Messenger opens direct conversations (domain/messaging behind it).
type Messenger interface {
	// Direct opens the principal's direct conversation with userID (the existing one if they
	// already talk) and sends message into it when it is not empty. unreachable: the other
	// person takes no new conversation from p (unknown, inactive, their allowMessagesFrom).
	Direct(ctx context.Context, p identity.Principal, userID, message string) (c Conversation, unreachable bool, err error)
}

// Conversation is the conversation "Contact" opened.
type Conversation struct {
	ID      string `json:"conversationId"`
	Created bool   `json:"created"`
}

// MaxContactMessage bounds the first message (messaging's own limit is larger).
const MaxContactMessage = 4000

// Contact opens a direct conversation between p and the publisher of a published use case (the
// detail page's "Contact {contactPerson}"), with p's first message when given. Contact details
// are for signed-in people with a confirmed address, so an unconfirmed p is refused.
func (s *Service) Contact(ctx context.Context, p identity.Principal, id, message string) (Conversation, error) {
	if s.messenger == nil {
		return Conversation{}, errs.E(errs.Unavailable, "messaging is not available on this server")
	}
	if !p.EmailVerified {
		return Conversation{}, errs.E(errs.Forbidden, "confirm your email address before contacting a publisher; the link is in the mail we sent you")
	}
	message = strings.TrimSpace(message)
	if n := utf8.RuneCountInString(message); n > MaxContactMessage {
		return Conversation{}, errs.Fields(errs.FieldError{Field: "message", Message: "must be at most 4000 characters"})
	}
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return Conversation{}, err
	}
	if u.Status != StatusPublished {
		return Conversation{}, errs.E(errs.Conflict, "only a published use case's publisher is contacted this way")
	}
	if u.AuthorID == p.UserID {
		return Conversation{}, errs.E(errs.Conflict, "this is your own use case")
	}
	c, unreachable, err := s.messenger.Direct(ctx, p, u.AuthorID, message)
	if unreachable {
		return Conversation{}, errs.E(errs.Conflict, "the publisher does not take messages from you at the moment")
	}
	return c, err
}
