package realtime

import (
	"context"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/realtime/sio"
)

// Messaging events (client → server). Their answers come in the ack; the stored effects reach
// every participant's sockets as the server events of the messaging service (message:new,
// message:read, …; docs/realtime.md).
const (
	EventMessageSend      = "message:send"
	EventMessageRead      = "message:read"
	EventMessageDelivered = "message:delivered"
	EventMessageEdit      = "message:edit"
	EventMessageDelete    = "message:delete"
)

// Messaging is what the hub needs from the messaging service.
type Messaging interface {
	Send(ctx context.Context, p identity.Principal, req messaging.SendRequest) (messaging.Message, bool, error)
	MarkRead(ctx context.Context, p identity.Principal, conversationID string, seq int64) (messaging.ReadState, error)
	MarkDelivered(ctx context.Context, p identity.Principal, conversationID string, seq int64) (messaging.ReadState, error)
	Edit(ctx context.Context, p identity.Principal, conversationID, messageID, content string) (messaging.Message, error)
	Delete(ctx context.Context, p identity.Principal, conversationID, messageID string) (messaging.Message, error)
}

type seqPayload struct {
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
}

type messageRef struct {
	ConversationID string `json:"conversationId"`
	MessageID      string `json:"messageId"`
	Content        string `json:"content"`
}

// messagingRoutes are the handlers of the messaging events.
func messagingRoutes(m Messaging) map[string]handler {
	return map[string]handler{
		EventMessageSend: func(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
			var req messaging.SendRequest
			if err := decode(args, &req); err != nil {
				return nil, err
			}
			// The sending socket has the message in its ack; message:new goes to everyone else.
			msg, created, err := m.Send(withOrigin(ctx, c.ID()), st.p, req)
			if err != nil {
				return nil, err
			}
			return map[string]any{"message": msg, "created": created}, nil
		},
		EventMessageRead: func(ctx context.Context, _ *sio.Conn, st *connState, args []any) (any, error) {
			var p seqPayload
			if err := decode(args, &p); err != nil {
				return nil, err
			}
			return m.MarkRead(ctx, st.p, p.ConversationID, p.Seq)
		},
		EventMessageDelivered: func(ctx context.Context, _ *sio.Conn, st *connState, args []any) (any, error) {
			var p seqPayload
			if err := decode(args, &p); err != nil {
				return nil, err
			}
			return m.MarkDelivered(ctx, st.p, p.ConversationID, p.Seq)
		},
		EventMessageEdit: func(ctx context.Context, _ *sio.Conn, st *connState, args []any) (any, error) {
			var p messageRef
			if err := decode(args, &p); err != nil {
				return nil, err
			}
			return m.Edit(ctx, st.p, p.ConversationID, p.MessageID, p.Content)
		},
		EventMessageDelete: func(ctx context.Context, _ *sio.Conn, st *connState, args []any) (any, error) {
			var p messageRef
			if err := decode(args, &p); err != nil {
				return nil, err
			}
			return m.Delete(ctx, st.p, p.ConversationID, p.MessageID)
		},
	}
}
