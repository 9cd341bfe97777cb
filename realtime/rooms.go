package realtime

import (
	"regexp"
	"strings"

	"github.com/p2psandbox/hub/domain/errs"
)

// Room kinds.
const (
	KindUser         = "user"
	KindOrg          = "org"
	KindTopic        = "topic"
	KindConversation = "conversation"
	KindPresence     = "presence"
)

// UserRoom is joined by every socket of a user.
func UserRoom(userID string) string { return KindUser + ":" + userID }

// OrgRoom is joined by every socket of an organization's members.
func OrgRoom(orgID string) string { return KindOrg + ":" + orgID }

// TopicRoom is joined on request by the readers of a forum topic.
func TopicRoom(topicID string) string { return KindTopic + ":" + topicID }

// ConversationRoom is joined on request by the participants of a conversation.
func ConversationRoom(conversationID string) string { return KindConversation + ":" + conversationID }

// PresenceRoom carries presence:update of one user to the sockets that subscribed to it.
func PresenceRoom(userID string) string { return KindPresence + ":" + userID }

// validID accepts UUIDs and other opaque ids, and nothing that could reach into another room kind.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// parseRoom splits "kind:id" and checks both parts.
func parseRoom(room string) (kind, id string, err error) {
	kind, id, ok := strings.Cut(room, ":")
	if !ok || kind == "" || !validID.MatchString(id) {
		return "", "", errs.Fields(errs.FieldError{Field: "room", Message: `must be "<kind>:<id>", the id of letters, digits, '-' and '_'`})
	}
	return kind, id, nil
}
