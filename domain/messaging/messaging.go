// Package messaging is private conversations between users of the platform: direct ones (one per
// pair) and groups of up to ten, messages with replies and attachments, edits and tombstones, read
// and delivered state, unread counts, archive, mute and blocks.
//
// Every message takes the next sequence number of its conversation. A participant's read state is
// the last seq they read, so unread counts are differences of two numbers: exact however sends and
// reads interleave, with no counters to keep in step. The same numbers let a client that was
// offline ask for everything after the last seq it saw.
package messaging

import (
	"context"
	"time"

	"github.com/p2psandbox/hub/domain/identity"
)

// Conversation kinds.
const (
	KindDirect = "direct"
	KindGroup  = "group"
)

// Participant roles in a group: admins add and remove people and rename it.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Limits.
const (
	MaxParticipants = 10     // a group, its creator included
	MaxContent      = 10_000 // characters of a message
	MaxTitle        = 100    // characters of a group's title
	MaxAttachments  = 5      // files on one message
	PreviewLength   = 140    // characters of the last message shown in the conversation list
)

// Participant is a member of a conversation as others see them.
type Participant struct {
	UserID           string     `json:"userId"`
	FirstName        string     `json:"firstName"`
	LastName         string     `json:"lastName"`
	Avatar           *string    `json:"avatar"`
	OrganizationID   string     `json:"organizationId"`
	OrganizationName string     `json:"organizationName"`
	Role             string     `json:"role"`
	LastReadSeq      int64      `json:"lastReadSeq"`
	DeliveredSeq     int64      `json:"deliveredSeq"`
	JoinedAt         time.Time  `json:"joinedAt"`
	Active           bool       `json:"isActive"`
	LeftAt           *time.Time `json:"-"`
}

// Preview is the last message as the conversation list shows it.
type Preview struct {
	ID        string    `json:"id"`
	SenderID  string    `json:"senderId"`
	Seq       int64     `json:"seq"`
	Text      string    `json:"text"`
	Deleted   bool      `json:"deleted"`
	CreatedAt time.Time `json:"createdAt"`
}

// Conversation is what a participant sees of a conversation.
type Conversation struct {
	ID             string        `json:"id"`
	Kind           string        `json:"kind"`
	Title          string        `json:"title"`
	CreatedBy      string        `json:"createdBy"`
	Participants   []Participant `json:"participants"`
	LastMessage    *Preview      `json:"lastMessage"`
	LastSeq        int64         `json:"lastSeq"`
	LastReadSeq    int64         `json:"lastReadSeq"`
	FromSeq        int64         `json:"fromSeq"`
	UnreadCount    int64         `json:"unreadCount"`
	Muted          bool          `json:"muted"`
	Archived       bool          `json:"archived"`
	Role           string        `json:"role"`
	LastActivityAt time.Time     `json:"lastActivityAt"`
	CreatedAt      time.Time     `json:"createdAt"`
}

// Attachment is a file on a message.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// Message is one message. A deleted message keeps its place as a tombstone: no content, no
// attachments, Deleted true.
type Message struct {
	ID             string       `json:"id"`
	ConversationID string       `json:"conversationId"`
	Seq            int64        `json:"seq"`
	SenderID       string       `json:"senderId"`
	ClientID       *string      `json:"clientId"`
	Content        string       `json:"content"`
	ReplyTo        *string      `json:"replyTo"`
	Attachments    []Attachment `json:"attachments"`
	Deleted        bool         `json:"deleted"`
	CreatedAt      time.Time    `json:"createdAt"`
	EditedAt       *time.Time   `json:"editedAt"`
}

// Directory describes users and applies their privacy settings: the identity service.
type Directory interface {
	Cards(ctx context.Context, userIDs []string) (map[string]identity.Card, error)
	// Reachable says which of userIDs the principal may start a conversation with or add to a
	// group (identity.CanMessage). Unknown, inactive and hidden ids all read false.
	Reachable(ctx context.Context, p identity.Principal, userIDs []string) (map[string]bool, error)
	// VisibleUsers returns those of userIDs whose profile the principal may see.
	VisibleUsers(ctx context.Context, p identity.Principal, userIDs []string) ([]string, error)
}
