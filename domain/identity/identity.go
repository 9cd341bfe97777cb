package identity

import (
	"context"
	"time"
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
}

// User is a member of an organization. Its JSON is the frontend's User plus the profile fields.
type User struct {
	ID                 string     `json:"id"`
	Email              string     `json:"email"`
	FirstName          string     `json:"firstName"`
	LastName           string     `json:"lastName"`
	Role               string     `json:"role"`
	OrganizationID     string     `json:"organizationId"`
	Avatar             *string    `json:"avatar"`
	IsActive           bool       `json:"isActive"`
	EmailVerified      bool       `json:"emailVerified"`
	JobTitle           string     `json:"jobTitle"`
	City               string     `json:"city"`
	Bio                string     `json:"bio"`
	ExpertiseTags      []string   `json:"expertiseTags"`
	LanguagePreference string     `json:"languagePreference"`
	ProfileVisibility  string     `json:"profileVisibility"`
	LastLogin          *time.Time `json:"lastLogin"`
	CreatedAt          time.Time  `json:"createdAt"`
}

// Account is a user with their organization: what sign-in and GET /me return.
type Account struct {
	User         User         `json:"user"`
	Organization Organization `json:"organization"`
}

// Store keeps users and organizations. Implementations live in identitydb.
type Store interface {
	// CreateOrganizationWithOwner writes the organization and its first user in one transaction.
	CreateOrganizationWithOwner(ctx context.Context, org Organization, owner User) error
	// DeleteUserAndOwnedOrganization undoes CreateOrganizationWithOwner (a failed sign-up).
	DeleteUserAndOwnedOrganization(ctx context.Context, userID string) error
	Account(ctx context.Context, userID string) (Account, error)
	OrganizationOf(ctx context.Context, userID string) (orgID string, active bool, err error)
	RecordSignIn(ctx context.Context, userID string, at time.Time) error
	// SetAvatar and SetLogo record the URL of a processed image (nil removes it).
	SetAvatar(ctx context.Context, userID string, url *string) error
	SetLogo(ctx context.Context, orgID string, url *string) error
	// ListMembers returns up to limit members in (createdAt, id) order, after the cursor if any.
	ListMembers(ctx context.Context, orgID string, after *MemberCursor, limit int) ([]User, error)
}
