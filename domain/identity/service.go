package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
)

// Service holds the identity rules.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a service on store.
func NewService(store Store) *Service {
	return &Service{store: store, now: time.Now}
}

// Register creates an organization and its owner (role admin) from a sign-up whose credentials the
// auth core already holds. Both rows are written in one transaction.
func (s *Service) Register(ctx context.Context, in SignUp) (Account, error) {
	in.Normalize()
	if fields := in.Validate(); len(fields) > 0 {
		return Account{}, errs.Fields(fields...)
	}
	now := s.now().UTC()
	org := Organization{
		ID:          ids.New(),
		Name:        in.OrganizationName,
		Domain:      in.Email[strings.LastIndex(in.Email, "@")+1:],
		Industry:    in.Industry,
		Size:        in.OrganizationSize,
		Country:     in.Country,
		City:        in.City,
		IsActive:    true,
		AdminUserID: in.UserID,
		CreatedAt:   now,
	}
	owner := User{
		ID:                 in.UserID,
		Email:              in.Email,
		FirstName:          in.FirstName,
		LastName:           in.LastName,
		Role:               RoleAdmin,
		OrganizationID:     org.ID,
		IsActive:           true,
		ExpertiseTags:      []string{},
		LanguagePreference: in.LanguagePreference,
		ProfileVisibility:  "public",
		CreatedAt:          now,
	}
	if err := s.store.CreateOrganizationWithOwner(ctx, org, owner); err != nil {
		return Account{}, fmt.Errorf("registering %s: %w", in.Email, err)
	}
	return Account{User: owner, Organization: org}, nil
}

// Unregister removes what Register wrote, for a sign-up that failed after it.
func (s *Service) Unregister(ctx context.Context, userID string) error {
	return s.store.DeleteUserAndOwnedOrganization(ctx, userID)
}

// Account returns the user and their organization.
func (s *Service) Account(ctx context.Context, userID string) (Account, error) {
	return s.store.Account(ctx, userID)
}

// OrganizationOf returns the organization a user belongs to and whether the user may sign in.
func (s *Service) OrganizationOf(ctx context.Context, userID string) (string, bool, error) {
	return s.store.OrganizationOf(ctx, userID)
}

// RecordSignIn stamps the user's last sign-in.
func (s *Service) RecordSignIn(ctx context.Context, userID string) error {
	return s.store.RecordSignIn(ctx, userID, s.now().UTC())
}

// MemberCursor is the keyset of the member list.
type MemberCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// Members lists the principal's organization, oldest first.
func (s *Service) Members(ctx context.Context, p Principal, limit int, cursor string) (page.Page[User], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[User]{}, err
	}
	var after *MemberCursor
	if cursor != "" {
		after = &MemberCursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[User]{}, err
		}
	}
	users, err := s.store.ListMembers(ctx, p.OrganizationID, after, limit+1)
	if err != nil {
		return page.Page[User]{}, err
	}
	return page.Build(users, limit, func(u User) any { return MemberCursor{u.CreatedAt, u.ID} }), nil
}

// SetAvatar records the user's processed avatar (nil removes it).
func (s *Service) SetAvatar(ctx context.Context, userID string, url *string) error {
	return s.store.SetAvatar(ctx, userID, url)
}

// SetLogo records the organization's processed logo (nil removes it).
func (s *Service) SetLogo(ctx context.Context, orgID string, url *string) error {
	return s.store.SetLogo(ctx, orgID, url)
}
