// Package messagingapp is the messaging area: conversations and messages (domain/messaging)
// behind REST and socket events, conversation rooms, and the bridge that turns the service's
// domain events into the socket events of docs/realtime.md.
package messagingapp

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/realtime"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the messaging area.
type Area struct{}

// New returns the messaging area.
func New() *Area { return &Area{} }

// Name is "messaging".
func (*Area) Name() string { return "messaging" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register builds the service, mounts its routes and socket events where they are served, and
// bridges its events to the sockets of the people they concern.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := messagingdb.New(h.Pool)
	for _, c := range store.Collectors() {
		if err := h.Metrics.Register(c); err != nil {
			return fmt.Errorf("registering the messaging metrics: %w", err)
		}
	}
	svc := messaging.NewService(messaging.Deps{
		Store:     store,
		Directory: h.Identity,
		Events:    h.Events,
		Files:     h.Blobs,
		Log:       h.Log.With("component", "messaging"),
	})
	bridge(h.Events, h.Sockets, h.Hub)
	if h.REST != nil {
		mountREST(h.REST, svc)
	}
	if h.Hub != nil {
		mountSocket(h.Hub, svc)
	}
	return nil
}

// Socket events (server → client), docs/realtime.md.
const (
	EventMessageNew          = "message:new"
	EventMessageUpdated      = "message:updated"
	EventMessageDeleted      = "message:deleted"
	EventMessageRead         = "message:read"
	EventMessageDelivered    = "message:delivered"
	EventConversationNew     = "conversation:new"
	EventConversationUpdated = "conversation:updated"
	EventConversationRemoved = "conversation:removed"
	EventUnread              = "conversation:unread"
)

// bridge pushes every messaging event to the user rooms of those it concerns, and takes removed
// members out of the conversation's room (hub is nil where no sockets are served). A push is best
// effort: the change is stored, and a client that missed it catches up from the API.
func bridge(bus *events.Bus, sockets realtime.Sockets, hub *realtime.Hub) {
	push := func(ctx context.Context, users []string, name string, payload any) {
		if len(users) == 0 {
			return
		}
		if err := sockets.EmitToUsers(ctx, users, name, payload); err != nil {
			bus.Log().WarnContext(ctx, "pushing a messaging event", "event", name, "err", err)
		}
	}
	events.Listen(bus, func(ctx context.Context, e messaging.MessageSent) {
		push(ctx, e.Audience(), EventMessageNew, map[string]any{"message": e.Message})
	})
	events.Listen(bus, func(ctx context.Context, e messaging.MessageEdited) {
		push(ctx, e.Audience, EventMessageUpdated, map[string]any{"message": e.Message})
	})
	events.Listen(bus, func(ctx context.Context, e messaging.MessageDeleted) {
		push(ctx, e.Audience, EventMessageDeleted, map[string]any{"message": e.Message})
	})
	events.Listen(bus, func(ctx context.Context, e messaging.ReadStateChanged) {
		name := EventMessageRead
		if e.Delivered {
			name = EventMessageDelivered
		}
		push(ctx, e.Audience, name, e.State)
	})
	events.Listen(bus, func(ctx context.Context, e messaging.UnreadChanged) {
		push(ctx, []string{e.UserID}, EventUnread, e.Unread)
	})
	events.Listen(bus, func(ctx context.Context, e messaging.ConversationStarted) {
		push(ctx, e.Joined, EventConversationNew, map[string]any{"conversation": e.Conversation})
	})
	events.Listen(bus, func(ctx context.Context, e messaging.ConversationChanged) {
		push(ctx, e.Audience, EventConversationUpdated, map[string]any{"conversation": e.Conversation})
	})
	events.Listen(bus, func(ctx context.Context, e messaging.SettingsChanged) {
		push(ctx, []string{e.UserID}, EventConversationUpdated, map[string]any{"conversation": e.Conversation})
	})
	events.Listen(bus, func(ctx context.Context, e messaging.ParticipantRemoved) {
		push(ctx, []string{e.UserID}, EventConversationRemoved, map[string]any{"conversationId": e.ConversationID})
		// Membership ends access to the room too: no more typing there from any tab.
		if hub != nil {
			if err := hub.LeaveRoom(ctx, []string{e.UserID}, realtime.ConversationRoom(e.ConversationID)); err != nil {
				bus.Log().WarnContext(ctx, "taking a removed member out of the conversation room", "err", err)
			}
		}
	})
}

// Client events (client → server). Their answers come in the ack; the stored effects reach every
// participant's sockets through the bridge.
const (
	EventMessageSend        = "message:send"
	EventMessageMarkRead    = "message:read"
	EventMessageMarkDeliver = "message:delivered"
	EventMessageEdit        = "message:edit"
	EventMessageDelete      = "message:delete"
)

// Sockets is what the socket events need from the service.
type Sockets interface {
	Send(ctx context.Context, p identity.Principal, req messaging.SendRequest) (messaging.Message, bool, error)
	MarkRead(ctx context.Context, p identity.Principal, conversationID string, seq int64) (messaging.ReadState, error)
	MarkDelivered(ctx context.Context, p identity.Principal, conversationID string, seq int64) (messaging.ReadState, error)
	Edit(ctx context.Context, p identity.Principal, conversationID, messageID, content string) (messaging.Message, error)
	Delete(ctx context.Context, p identity.Principal, conversationID, messageID string) (messaging.Message, error)
	realtime.JoinAuthorizer
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

// mountSocket serves the client events and lets participants join their conversations' rooms
// (typing indicators).
func mountSocket(hub *realtime.Hub, m Sockets) {
	hub.AllowJoin(realtime.KindConversation, m)
	hub.Handle(EventMessageSend, func(ctx context.Context, s realtime.Socket, args realtime.Args) (any, error) {
		var req messaging.SendRequest
		if err := args.Decode(&req); err != nil {
			return nil, err
		}
		// The sending socket has the message in its ack; message:new goes to everyone else.
		msg, created, err := m.Send(realtime.WithOrigin(ctx, s.ID()), s.Principal(), req)
		if err != nil {
			return nil, err
		}
		return map[string]any{"message": msg, "created": created}, nil
	}, identity.PermMessagesSend)
	hub.Handle(EventMessageMarkRead, func(ctx context.Context, s realtime.Socket, args realtime.Args) (any, error) {
		var p seqPayload
		if err := args.Decode(&p); err != nil {
			return nil, err
		}
		return m.MarkRead(ctx, s.Principal(), p.ConversationID, p.Seq)
	})
	hub.Handle(EventMessageMarkDeliver, func(ctx context.Context, s realtime.Socket, args realtime.Args) (any, error) {
		var p seqPayload
		if err := args.Decode(&p); err != nil {
			return nil, err
		}
		return m.MarkDelivered(ctx, s.Principal(), p.ConversationID, p.Seq)
	})
	hub.Handle(EventMessageEdit, func(ctx context.Context, s realtime.Socket, args realtime.Args) (any, error) {
		var p messageRef
		if err := args.Decode(&p); err != nil {
			return nil, err
		}
		return m.Edit(ctx, s.Principal(), p.ConversationID, p.MessageID, p.Content)
	}, identity.PermMessagesSend)
	hub.Handle(EventMessageDelete, func(ctx context.Context, s realtime.Socket, args realtime.Args) (any, error) {
		var p messageRef
		if err := args.Decode(&p); err != nil {
			return nil, err
		}
		return m.Delete(ctx, s.Principal(), p.ConversationID, p.MessageID)
	})
}
