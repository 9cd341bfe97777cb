package identity

import (
	"context"
	"fmt"
	"slices"
)

// Who may start a conversation with a user or add them to a group (User.AllowMessagesFrom). The
// values form a ladder: each admits a subset of the one before.
const (
	MessagesFromAnyone       = "anyone"       // every signed-in user who may see the profile
	MessagesFromVerified     = "verified"     // users of verified organizations, and colleagues
	MessagesFromOrganization = "organization" // colleagues only
	MessagesFromNobody       = "nobody"       // no new conversations; existing ones go on
)

// MessageAudiences lists the values of allowMessagesFrom.
var MessageAudiences = []string{MessagesFromAnyone, MessagesFromVerified, MessagesFromOrganization, MessagesFromNobody}

// DefaultMessagesFrom is a new user's allowMessagesFrom. Open, like Mattermost's direct messages
// ("any user on the server") and Discourse's personal messages (allowed by default): the platform
// exists for organizations to meet, and a user hidden from strangers (profile visibility) is
// already out of their reach, since reaching someone needs seeing them.
const DefaultMessagesFrom = MessagesFromAnyone

// Party is a user as the privacy rules see them: where they belong and what they allow.
type Party struct {
	UserID         string
	OrganizationID string
	// VerifiedOrganization: the platform's moderators verified the user's organization.
	VerifiedOrganization bool
	Visibility           string // ProfileVisibility
	AllowMessagesFrom    string
	Deleted              bool
	// Active: the user may sign in (neither deactivated nor removed, their organization not
	// suspended). Only active users can be brought into a conversation.
	Active bool
}

// CanSeeProfile says whether viewer may see subject's profile, and with it their presence. One's
// own profile is always visible; a removed user's is nobody else's. Otherwise the subject's
// visibility decides: public to every signed-in user, verified_only to colleagues and users of
// verified organizations, organization to colleagues, private to nobody else (colleagues
// included: that is what sets it apart from organization).
func CanSeeProfile(viewer, subject Party) bool {
	if viewer.UserID == subject.UserID {
		return true
	}
	if subject.Deleted {
		return false
	}
	colleague := viewer.OrganizationID == subject.OrganizationID
	switch subject.Visibility {
	case VisibilityPublic:
		return true
	case VisibilityVerified:
		return colleague || viewer.VerifiedOrganization
	case VisibilityOrganization:
		return colleague
	}
	return false
}

// CanSeePresence says whether viewer may see subject's online state and last activity: presence
// follows the profile, so a hidden user's presence reads like an unknown id's.
func CanSeePresence(viewer, subject Party) bool { return CanSeeProfile(viewer, subject) }

// CanMessage says whether sender may start a conversation with recipient or add them to a group.
// Two things must hold: the sender knows of the recipient (a colleague, or someone whose profile
// they may see: reaching someone hidden would tell that they exist), and the recipient's
// allowMessagesFrom admits the sender. A private colleague can be written to, as the
// organization already knows its members. Conversations that exist are not this rule's business:
// they go on whatever either side changes later (blocking is the way to stop one).
func CanMessage(sender, recipient Party) bool {
	if sender.UserID == recipient.UserID || !recipient.Active {
		return false
	}
	colleague := sender.OrganizationID == recipient.OrganizationID
	if !colleague && !CanSeeProfile(sender, recipient) {
		return false
	}
	switch recipient.AllowMessagesFrom {
	case MessagesFromAnyone:
		return true
	case MessagesFromVerified:
		return colleague || sender.VerifiedOrganization
	case MessagesFromOrganization:
		return colleague
	}
	return false // nobody, and any value this code does not know
}

// parties loads the principal and the users the rules are asked about. The principal's
// organization is the session's (p.OrganizationID), as everywhere else; whether it is verified
// comes from the store. Unknown and malformed ids are missing from the map.
func (s *Service) parties(ctx context.Context, p Principal, userIDs []string) (Party, map[string]Party, error) {
	list, err := s.d.Store.Parties(ctx, append(slices.Clone(userIDs), p.UserID))
	if err != nil {
		return Party{}, nil, fmt.Errorf("loading privacy settings: %w", err)
	}
	out := make(map[string]Party, len(list))
	for _, pt := range list {
		out[pt.UserID] = pt
	}
	viewer := Party{UserID: p.UserID, OrganizationID: p.OrganizationID}
	if me, ok := out[p.UserID]; ok && me.OrganizationID == p.OrganizationID {
		viewer.VerifiedOrganization = me.VerifiedOrganization
	}
	return viewer, out, nil
}

// Reachable says which of userIDs the principal may start a conversation with or add to a group
// (CanMessage). Unknown, malformed, inactive and hidden ids all read false: callers answer them
// all alike, so that nobody learns who exists.
func (s *Service) Reachable(ctx context.Context, p Principal, userIDs []string) (map[string]bool, error) {
	viewer, users, err := s.parties(ctx, p, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(userIDs))
	for _, id := range userIDs {
		u, ok := users[id]
		out[id] = ok && CanMessage(viewer, u)
	}
	return out, nil
}

// VisibleUsers returns those of userIDs whose profile and presence the principal may see
// (CanSeePresence), in the order given; unknown and hidden ids are left out alike. The hub
// filters presence:subscribe with it.
func (s *Service) VisibleUsers(ctx context.Context, p Principal, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return []string{}, nil
	}
	viewer, users, err := s.parties(ctx, p, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if u, ok := users[id]; ok && CanSeePresence(viewer, u) {
			out = append(out, id)
		}
	}
	return out, nil
}
