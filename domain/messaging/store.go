package messaging

import (
	"context"
	"time"
)

// Store keeps conversations and messages. The implementation lives in messagingdb.
type Store interface {
	// CreateConversation writes a conversation with its participants. For a direct conversation
	// whose pair already has one, it writes nothing and returns the existing id and false.
	CreateConversation(ctx context.Context, c NewConversation) (id string, created bool, err error)
	// DirectConversation returns the id of the direct conversation of a pair (DirectKey), if
	// they have one.
	DirectConversation(ctx context.Context, directKey string) (id string, ok bool, err error)
	// ShareConversation reports whether a is in a conversation that b is or was in.
	ShareConversation(ctx context.Context, a, b string) (bool, error)
	// Conversation returns the conversation as userID, an active participant, sees it; anyone
	// else gets not found.
	Conversation(ctx context.Context, id, userID string) (Conversation, error)
	// Conversations pages userID's conversations by last activity, newest first.
	Conversations(ctx context.Context, userID string, q ListQuery, limit int) ([]Conversation, error)
	// Participants returns the participants (active ones, or also those who left) of conversations.
	Participants(ctx context.Context, conversationIDs []string, withLeft bool) (map[string][]Participant, error)
	UpdateParticipant(ctx context.Context, id, userID string, up ParticipantUpdate) error

	// InConversation runs fn in a transaction holding the conversation's row lock, for changes
	// of its membership and title by userID, who must be an active participant.
	InConversation(ctx context.Context, id, userID string, fn func(tx ConversationTx) error) error

	// Send stores a message as the next of its conversation, in one statement. A message with the
	// same sender and client id is not stored twice: the first one is returned with created false.
	Send(ctx context.Context, in SendInput) (SendResult, error)
	// Message returns one message of a conversation.
	Message(ctx context.Context, conversationID, messageID string) (Message, error)
	// History returns messages of a conversation with seq in [from, before) newest first, or with
	// seq > after oldest first when after >= 0.
	History(ctx context.Context, conversationID string, q HistoryQuery, limit int) ([]Message, error)
	EditMessage(ctx context.Context, conversationID, messageID, senderID, content string, at time.Time) (Message, error)
	// DeleteMessage makes a tombstone of the sender's message and returns it with the storage
	// keys of the attachments it had, whose content is to go too.
	DeleteMessage(ctx context.Context, conversationID, messageID, senderID string, at time.Time) (Message, []string, error)

	// MarkRead raises userID's read state to seq (never lowers it, never past the last message)
	// and returns the new state.
	MarkRead(ctx context.Context, conversationID, userID string, seq int64) (ReadState, error)
	MarkDelivered(ctx context.Context, conversationID, userID string, seq int64) (ReadState, error)
	// TotalUnread sums userID's unread counts over conversations they have not muted or archived.
	TotalUnread(ctx context.Context, userID string) (int64, error)

	Search(ctx context.Context, userID string, q SearchQuery, limit int) ([]SearchHit, error)

	Block(ctx context.Context, blocker, blocked string) error
	Unblock(ctx context.Context, blocker, blocked string) error
	Blocked(ctx context.Context, blocker string) ([]string, error)

	AddAttachment(ctx context.Context, a AttachmentRecord) error
	Attachment(ctx context.Context, conversationID, id string) (AttachmentRecord, error)
}

// NewConversation is what CreateConversation writes.
type NewConversation struct {
	ID           string
	Kind         string
	Title        string
	CreatedBy    string
	DirectKey    string // for direct conversations
	Participants []string
	CreatedAt    time.Time
}

// ListQuery selects the conversation list.
type ListQuery struct {
	Archived bool
	After    *ListCursor
}

// ListCursor is the keyset of the conversation list.
type ListCursor struct {
	At time.Time `json:"t"`
	ID string    `json:"i"`
}

// ParticipantUpdate changes one participant's own settings; nil fields stay.
type ParticipantUpdate struct {
	Archived *bool
	Muted    *bool
}

// ConversationTx changes a conversation under its lock.
type ConversationTx interface {
	Conversation() Conversation // as the acting user sees it
	SetTitle(ctx context.Context, title string) error
	// AddParticipant adds (or brings back) a user, who reads from the next message on.
	AddParticipant(ctx context.Context, userID, role string, at time.Time) error
	RemoveParticipant(ctx context.Context, userID string, at time.Time) error
	SetRole(ctx context.Context, userID, role string) error
	ActiveParticipants(ctx context.Context) ([]Participant, error)
}

// SendInput is one message to store.
type SendInput struct {
	ID             string
	ConversationID string
	SenderID       string
	ClientID       *string
	Content        string
	ReplyTo        *string
	AttachmentIDs  []string
	CreatedAt      time.Time
}

// SendResult is a stored message with the audience it goes to.
type SendResult struct {
	Message Message
	Created bool
	// Title of the conversation and its kind, for notifications.
	Kind, Title string
	// Recipients are the active participants other than the sender; Muted those of them who
	// muted the conversation.
	Recipients []string
	Muted      map[string]bool
}

// HistoryQuery selects a stretch of a conversation.
type HistoryQuery struct {
	From   int64 // the participant's first readable seq
	Before int64 // exclusive upper bound, newest first; 0 means from the end
	After  int64 // when >= 0: seq greater than After, oldest first (catch-up)
}

// ReadState is a participant's place in a conversation.
type ReadState struct {
	ConversationID string `json:"conversationId"`
	UserID         string `json:"userId"`
	ReadSeq        int64  `json:"readSeq"`
	DeliveredSeq   int64  `json:"deliveredSeq"`
	LastSeq        int64  `json:"lastSeq"`
	Changed        bool   `json:"-"`
}

// SearchQuery is a full-text search in the user's conversations.
type SearchQuery struct {
	Text           string
	ConversationID string
	After          *SearchCursor
}

// SearchCursor is the keyset of search results (newest first).
type SearchCursor struct {
	At time.Time `json:"t"`
	ID string    `json:"i"`
}

// SearchHit is a message that matched, with the matches highlighted.
type SearchHit struct {
	Message   Message `json:"message"`
	Highlight string  `json:"highlight"`
}

// AttachmentRecord is an uploaded file of a conversation.
type AttachmentRecord struct {
	ID             string
	ConversationID string
	UploaderID     string
	MessageID      *string
	Name           string
	ContentType    string
	Size           int64
	Key            string
	CreatedAt      time.Time
}
