package identity

import (
	"context"
	"encoding/json"
	"time"

	"github.com/p2psandbox/hub/domain/event"
)

// Organization is a company on the platform. Its JSON is the frontend's Organization.
type Organization struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Domain      string    `json:"domain"`
	Industry    string    `json:"industry"`
	Size        string    `json:"size"`
	Country     string    `json:"country"`
	City        string    `json:"city"`
	Logo        *string   `json:"logo"`
	IsActive    bool      `json:"isActive"`
	AdminUserID string    `json:"adminUserId"`
	CreatedAt   time.Time `json:"createdAt"`
	// IsVerified: the platform's moderators verified the organization (VerifiedAt is when).
	IsVerified bool       `json:"isVerified"`
	VerifiedAt *time.Time `json:"verifiedAt"`
	// SuspendedAt is set while the platform's moderators suspend the organization: its members
	// cannot sign in (IsActive is false) and SuspensionReason says why.
	SuspendedAt      *time.Time `json:"suspendedAt,omitempty"`
	SuspensionReason string     `json:"suspensionReason,omitempty"`
}

// User is a member of an organization. Its JSON is the frontend's User plus the profile fields.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Role      string `json:"role"`
	// PlatformRole is the user's role on the platform beyond their organization: RoleModerator or
	// empty.
	PlatformRole       string   `json:"platformRole,omitempty"`
	OrganizationID     string   `json:"organizationId"`
	Avatar             *string  `json:"avatar"`
	IsActive           bool     `json:"isActive"`
	EmailVerified      bool     `json:"emailVerified"`
	JobTitle           string   `json:"jobTitle"`
	City               string   `json:"city"`
	Bio                string   `json:"bio"`
	ExpertiseTags      []string `json:"expertiseTags"`
	LanguagePreference string   `json:"languagePreference"`
	ProfileVisibility  string   `json:"profileVisibility"`
	// AllowMessagesFrom says who may start a conversation with the user (privacy.go).
	AllowMessagesFrom string     `json:"allowMessagesFrom"`
	LastLogin         *time.Time `json:"lastLogin"`
	LastSeen          *time.Time `json:"lastSeen"`
	DeletedAt         *time.Time `json:"deletedAt,omitempty"`
	CreatedAt         time.Time  `json:"createdAt"`
}

// Status is how the member list names a user's state.
func (u User) Status() string {
	switch {
	case u.DeletedAt != nil:
		return StatusDeleted
	case !u.IsActive:
		return StatusInactive
	}
	return StatusActive
}

// Member states.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusDeleted  = "deleted"
)

// Card is how a user appears next to their words elsewhere (messages, posts): name, picture and
// organization, no contact details.
type Card struct {
	ID               string  `json:"id"`
	FirstName        string  `json:"firstName"`
	LastName         string  `json:"lastName"`
	Avatar           *string `json:"avatar"`
	JobTitle         string  `json:"jobTitle"`
	OrganizationID   string  `json:"organizationId"`
	OrganizationName string  `json:"organizationName"`
	Active           bool    `json:"isActive"`
}

// Account is a user with their organization: what sign-in and GET /me return.
type Account struct {
	User         User         `json:"user"`
	Organization Organization `json:"organization"`
}

// AuditEntry is one admin action: who did what to what, when, and the state before and after.
type AuditEntry struct {
	ID             string          `json:"id"`
	OrganizationID string          `json:"-"`
	ActorID        string          `json:"actorId"`
	ActorName      string          `json:"actorName"`
	Action         string          `json:"action"`
	TargetType     string          `json:"targetType"`
	TargetID       string          `json:"targetId"`
	Before         json.RawMessage `json:"before"`
	After          json.RawMessage `json:"after"`
	RequestID      string          `json:"requestId"`
	CreatedAt      time.Time       `json:"createdAt"`
}

// Store keeps users, organizations, invitations and the audit log. The implementation lives in
// identitydb.
type Store interface {
	// CreateOrganizationWithOwner writes the organization and its first user in one transaction,
	// with the events that say so.
	CreateOrganizationWithOwner(ctx context.Context, org Organization, owner User, evs ...event.Event) error
	// DeleteUserAndOwnedOrganization undoes CreateOrganizationWithOwner or AcceptInvitation (a
	// sign-up that failed later).
	DeleteUserAndOwnedOrganization(ctx context.Context, userID string) error
	Account(ctx context.Context, userID string) (Account, error)
	User(ctx context.Context, userID string) (User, error)
	Cards(ctx context.Context, userIDs []string) ([]Card, error)
	// Parties returns what the privacy rules need of the given users (privacy.go); unknown or
	// malformed ids are skipped.
	Parties(ctx context.Context, userIDs []string) ([]Party, error)
	Organization(ctx context.Context, orgID string) (Organization, error)
	OrganizationOf(ctx context.Context, userID string) (orgID string, active bool, err error)
	RecordSignIn(ctx context.Context, userID string, at time.Time) error
	Touch(ctx context.Context, userID string, at time.Time) error
	UpdateProfile(ctx context.Context, u User) error
	// SetAvatar and SetLogo record the URL of a processed image (nil removes it).
	SetAvatar(ctx context.Context, userID string, url *string) error
	SetLogo(ctx context.Context, orgID string, url *string) error

	// ListMembers returns up to limit members matching q, in q's order, after q.After.
	ListMembers(ctx context.Context, orgID string, q MemberQuery, limit int) ([]User, error)
	CountMembers(ctx context.Context, orgID string, q MemberQuery) (int, error)
	MemberTotals(ctx context.Context, orgID string) (MemberTotals, error)
	Stats(ctx context.Context, orgID string, now time.Time) (OrganizationStats, error)

	ListInvitations(ctx context.Context, orgID string, q InvitationQuery, now time.Time, limit int) ([]Invitation, error)
	InvitationByToken(ctx context.Context, tokenHash []byte) (Invitation, Organization, error)
	ListAudit(ctx context.Context, orgID string, after *AuditCursor, limit int) ([]AuditEntry, error)
	// ListOrganizations lists every organization matching q, newest first (moderation.go).
	ListOrganizations(ctx context.Context, q OrganizationQuery, limit int) ([]OrganizationSummary, error)
	// UserByEmail finds a user by address, any case; false when there is none.
	UserByEmail(ctx context.Context, email string) (User, bool, error)

	// InOrganization runs fn in a transaction holding the organization's row lock, so admin
	// changes of one organization happen one at a time (two admins cannot each demote the other,
	// leaving none).
	InOrganization(ctx context.Context, orgID string, fn func(tx OrgTx) error) error
	// AcceptInvitation runs fn in a transaction holding the invitation's row lock.
	AcceptInvitation(ctx context.Context, tokenHash []byte, fn func(tx InvitationTx) error) error
}

// OrgTx is what may happen to an organization inside its lock.
type OrgTx interface {
	Organization() Organization
	Member(ctx context.Context, userID string) (User, error)
	ActiveAdmins(ctx context.Context) (int, error)
	UpdateMember(ctx context.Context, u User) error
	UpdateOrganization(ctx context.Context, o Organization) error
	// SetStanding records what the platform's moderators decided: verified, suspended.
	SetStanding(ctx context.Context, o Organization) error
	// ActiveMembers are the members who may sign in (as if the organization were active).
	ActiveMembers(ctx context.Context) ([]User, error)
	SetPlatformRole(ctx context.Context, userID, role string) error
	Invitation(ctx context.Context, id string) (Invitation, error)
	OpenInvitation(ctx context.Context, email string) (Invitation, bool, error)
	UserByEmail(ctx context.Context, email string) (User, bool, error)
	SaveInvitation(ctx context.Context, inv Invitation, tokenHash []byte) error
	DeleteInvitation(ctx context.Context, id string) error
	Audit(ctx context.Context, e AuditEntry) error
	// Record stores events in the transaction (the event log).
	Record(ctx context.Context, evs ...event.Event) error
}

// InvitationTx accepts one invitation.
type InvitationTx interface {
	Invitation() Invitation
	Organization() Organization
	CreateUser(ctx context.Context, u User) error
	MarkAccepted(ctx context.Context, userID string, at time.Time) error
	Audit(ctx context.Context, e AuditEntry) error
	Record(ctx context.Context, evs ...event.Event) error
}

// Credentials is what the domain needs from the auth core for the copies it keeps there.
type Credentials interface {
	// ChangeEmail moves the user's credentials to a new address; errs.Conflict when it is taken.
	ChangeEmail(ctx context.Context, userID, email string) error
	// SendVerification mails a verification link for the user's current address.
	SendVerification(ctx context.Context, userID, email string) error
	// SetRoles makes roles (an organization role, and platform roles) the user's only roles.
	SetRoles(ctx context.Context, userID string, roles []string) error
	// RevokeSessions ends every session of the user.
	RevokeSessions(ctx context.Context, userID string) error
}

// Mailer queues a templated mail.
type Mailer interface {
	Template(ctx context.Context, template, lang, to string, data map[string]string) error
}

// ContentCounter counts one kind of an organization's content for its stats (files, forum
// posts, use cases, bytes stored: each area that has content registers one).
type ContentCounter func(ctx context.Context, orgID string) (int64, error)
