package messaging

// What happens in conversations. The realtime bridge (app/messagingapp) turns each into the socket
// events of docs/realtime.md; the notifications area follows MessageSent and ConversationRead.
// Audience lists say who was in the conversation when it happened: whom it concerns.

// MessageSent: a message was stored. The store records it with the message, so what follows from
// it (a notification) survives a crash between the commit and the delivery.
type MessageSent struct {
	Message Message `json:"message"`
	Kind    string  `json:"kind"`
	Title   string  `json:"title"`
	// Recipients are the active participants other than the sender; Muted are those of them who
	// muted the conversation.
	Recipients []string `json:"recipients"`
	Muted      []string `json:"muted"`
}

// MessageSentName is MessageSent's recorded name.
const MessageSentName = "messaging.message_sent"

func (MessageSent) EventName() string     { return MessageSentName }
func (e MessageSent) AggregateID() string { return e.Message.ConversationID }

// Audience is everyone the message concerns: its sender and its recipients.
func (e MessageSent) Audience() []string {
	return append([]string{e.Message.SenderID}, e.Recipients...)
}

// MessageEdited: a sender changed the text of a message.
type MessageEdited struct {
	Message  Message  `json:"message"`
	Audience []string `json:"audience"`
}

func (MessageEdited) EventName() string     { return "messaging.message_edited" }
func (e MessageEdited) AggregateID() string { return e.Message.ConversationID }

// MessageDeleted: a sender deleted a message; it stays as a tombstone.
type MessageDeleted struct {
	Message  Message  `json:"message"`
	Audience []string `json:"audience"`
}

func (MessageDeleted) EventName() string     { return "messaging.message_deleted" }
func (e MessageDeleted) AggregateID() string { return e.Message.ConversationID }

// ReadStateChanged: a participant read (Delivered false) or received (Delivered true) a
// conversation further.
type ReadStateChanged struct {
	State     ReadState `json:"state"`
	Delivered bool      `json:"delivered"`
	Audience  []string  `json:"audience"`
}

func (ReadStateChanged) EventName() string     { return "messaging.read_state_changed" }
func (e ReadStateChanged) AggregateID() string { return e.State.ConversationID }

// ConversationRead: a participant has read everything in a conversation.
type ConversationRead struct {
	ConversationID string `json:"conversationId"`
	UserID         string `json:"userId"`
}

func (ConversationRead) EventName() string     { return "messaging.conversation_read" }
func (e ConversationRead) AggregateID() string { return e.ConversationID }

// UnreadChanged: a user's unread counts changed other than by a new message (a read, an archive).
type UnreadChanged struct {
	UserID string `json:"userId"`
	Unread Unread `json:"unread"`
}

func (UnreadChanged) EventName() string     { return "messaging.unread_changed" }
func (e UnreadChanged) AggregateID() string { return e.Unread.ConversationID }

// ConversationStarted: users were brought into a conversation, new or existing (Joined).
type ConversationStarted struct {
	Conversation Conversation `json:"conversation"` // without anyone's personal state
	Joined       []string     `json:"joined"`
}

func (ConversationStarted) EventName() string     { return "messaging.conversation_started" }
func (e ConversationStarted) AggregateID() string { return e.Conversation.ID }

// ConversationChanged: a conversation's title or participants changed.
type ConversationChanged struct {
	Conversation Conversation `json:"conversation"` // without anyone's personal state
	Audience     []string     `json:"audience"`
}

func (ConversationChanged) EventName() string     { return "messaging.conversation_changed" }
func (e ConversationChanged) AggregateID() string { return e.Conversation.ID }

// SettingsChanged: a participant archived, unarchived, muted or unmuted a conversation; their
// other devices follow.
type SettingsChanged struct {
	UserID       string       `json:"userId"`
	Conversation Conversation `json:"conversation"` // as that participant sees it
}

func (SettingsChanged) EventName() string     { return "messaging.settings_changed" }
func (e SettingsChanged) AggregateID() string { return e.Conversation.ID }

// ParticipantRemoved: someone left a group or was taken out of it.
type ParticipantRemoved struct {
	ConversationID string `json:"conversationId"`
	UserID         string `json:"userId"`
}

func (ParticipantRemoved) EventName() string     { return "messaging.participant_removed" }
func (e ParticipantRemoved) AggregateID() string { return e.ConversationID }
