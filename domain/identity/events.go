package identity

// What happens to people and organizations. The stores record these with the change, so what
// follows (notifications, the activity feed, revoking access) survives a crash.

// MemberJoined: a user joined an organization, founding it or invited into it.
type MemberJoined struct {
	User    User `json:"user"`
	Founder bool `json:"founder"`
}

func (MemberJoined) EventName() string     { return "identity.member_joined" }
func (e MemberJoined) AggregateID() string { return e.User.ID }

// InvitationUsed: an invitee signed up.
type InvitationUsed struct {
	Invitation Invitation `json:"invitation"`
	Member     User       `json:"member"`
}

func (InvitationUsed) EventName() string     { return "identity.invitation_accepted" }
func (e InvitationUsed) AggregateID() string { return e.Member.ID }

// AccessChanged: what a member may do changed: their role, whether they may sign in, or they
// were removed. Sessions that outlive the change must end or follow it.
type AccessChanged struct {
	UserID         string `json:"userId"`
	OrganizationID string `json:"organizationId"`
	Role           string `json:"role"`
	PlatformRole   string `json:"platformRole,omitempty"`
	Active         bool   `json:"active"`
	Removed        bool   `json:"removed"`
}

func (AccessChanged) EventName() string     { return "identity.access_changed" }
func (e AccessChanged) AggregateID() string { return e.UserID }

// accessOf is the access a member has now.
func accessOf(u User) AccessChanged {
	return AccessChanged{UserID: u.ID, OrganizationID: u.OrganizationID, Role: u.Role, PlatformRole: u.PlatformRole,
		Active:  u.IsActive && u.DeletedAt == nil,
		Removed: u.DeletedAt != nil}
}
