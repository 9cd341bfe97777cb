package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/ids"
)

// Deps are the service's collaborators.
type Deps struct {
	Store       Store
	Credentials Credentials
	Mailer      Mailer
	// WebsiteURL is where the React app runs; invitation links point there.
	WebsiteURL string
	// Events hears what happened once it is committed (events.go).
	Events event.Publisher
	Now    func() time.Time
	// Moderators are the configuration's moderator addresses (moderation.go).
	Moderators []string
}

// Service holds the identity rules.
type Service struct {
	d Deps
	// storage and content count what the other areas keep of an organization, for its stats;
	// the areas register them (CountStorage, CountContent) before the process serves.
	storage []ContentCounter
	content map[string]ContentCounter
	// touched throttles last-seen writes: at most one per user per touchEvery on this node.
	touched *lru.Cache[string, time.Time]
}

const touchEvery = 10 * time.Minute

// NewService returns a service on d.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Events == nil {
		d.Events = event.Discard{}
	}
	touched, _ := lru.New[string, time.Time](100_000)
	return &Service{d: d, touched: touched, content: map[string]ContentCounter{}}
}

// CountStorage adds the bytes fn reports to each organization's storage use (an area that keeps
// files registers one).
func (s *Service) CountStorage(fn ContentCounter) { s.storage = append(s.storage, fn) }

// CountContent shows fn's count under kind in each organization's stats ("files", "topics", …).
func (s *Service) CountContent(kind string, fn ContentCounter) { s.content[kind] = fn }

func (s *Service) now() time.Time { return s.d.Now().UTC() }

// Register creates an organization and its owner (role admin) from a sign-up whose credentials the
// auth core already holds. Both rows are written in one transaction.
func (s *Service) Register(ctx context.Context, in SignUp) (Account, error) {
	in.Normalize()
	if fields := in.Validate(); len(fields) > 0 {
		return Account{}, errs.Fields(fields...)
	}
	now := s.now()
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
	owner := s.newUser(in, org.ID, RoleAdmin, now)
	joined := MemberJoined{User: owner, Founder: true}
	if err := s.d.Store.CreateOrganizationWithOwner(ctx, org, owner, joined); err != nil {
		return Account{}, fmt.Errorf("registering %s: %w", in.Email, err)
	}
	s.d.Events.Publish(ctx, joined)
	return Account{User: owner, Organization: org}, nil
}

// newUser is a user as they sign up: a configured moderator's address brings the role along, so
// the first session carries it.
func (s *Service) newUser(in SignUp, orgID, role string, now time.Time) User {
	platformRole := ""
	if slices.ContainsFunc(s.d.Moderators, func(e string) bool { return strings.EqualFold(e, in.Email) }) {
		platformRole = RoleModerator
	}
	return User{
		PlatformRole:       platformRole,
		ID:                 in.UserID,
		Email:              in.Email,
		FirstName:          in.FirstName,
		LastName:           in.LastName,
		Role:               role,
		OrganizationID:     orgID,
		IsActive:           true,
		ExpertiseTags:      []string{},
		LanguagePreference: in.LanguagePreference,
		ProfileVisibility:  VisibilityPublic,
		AllowMessagesFrom:  DefaultMessagesFrom,
		CreatedAt:          now,
	}
}

// Unregister removes what Register or AcceptInvitation wrote, for a sign-up that failed after it.
func (s *Service) Unregister(ctx context.Context, userID string) error {
	return s.d.Store.DeleteUserAndOwnedOrganization(ctx, userID)
}

// Account returns the user and their organization.
func (s *Service) Account(ctx context.Context, userID string) (Account, error) {
	return s.d.Store.Account(ctx, userID)
}

// Cards describes users by id; unknown ids are missing from the map.
func (s *Service) Cards(ctx context.Context, userIDs []string) (map[string]Card, error) {
	cards, err := s.d.Store.Cards(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Card, len(cards))
	for _, c := range cards {
		out[c.ID] = c
	}
	return out, nil
}

// OrganizationOf returns the organization a user belongs to and whether the user may sign in.
func (s *Service) OrganizationOf(ctx context.Context, userID string) (string, bool, error) {
	return s.d.Store.OrganizationOf(ctx, userID)
}

// RecordSignIn stamps the user's last sign-in.
func (s *Service) RecordSignIn(ctx context.Context, userID string) error {
	return s.d.Store.RecordSignIn(ctx, userID, s.now())
}

// Touch records that the user is active now, at most once per ten minutes per node; the
// organization's "active in the last 7 and 30 days" comes from it.
func (s *Service) Touch(ctx context.Context, userID string) error {
	now := s.now()
	if last, ok := s.touched.Get(userID); ok && now.Sub(last) < touchEvery {
		return nil
	}
	s.touched.Add(userID, now)
	return s.d.Store.Touch(ctx, userID, now)
}

// SetAvatar records the user's processed avatar (nil removes it).
func (s *Service) SetAvatar(ctx context.Context, userID string, url *string) error {
	return s.d.Store.SetAvatar(ctx, userID, url)
}

// SetLogo records the organization's processed logo (nil removes it).
func (s *Service) SetLogo(ctx context.Context, orgID string, url *string) error {
	return s.d.Store.SetLogo(ctx, orgID, url)
}

// audit builds an audit entry of the principal's action on a target, with the states as JSON.
func audit(ctx context.Context, p Principal, action, targetType, targetID string, before, after any, at time.Time) AuditEntry {
	enc := func(v any) json.RawMessage {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		return b
	}
	return AuditEntry{
		ID:             ids.New(),
		OrganizationID: p.OrganizationID,
		ActorID:        p.UserID,
		Action:         action,
		TargetType:     targetType,
		TargetID:       targetID,
		Before:         enc(before),
		After:          enc(after),
		RequestID:      ids.RequestID(ctx),
		CreatedAt:      at,
	}
}

// notFoundUnlessID turns a malformed id into the same 404 an unknown one gets, before it reaches
// the database.
func notFoundUnlessID(id, what string) error {
	if !ids.Valid(id) {
		return errs.E(errs.NotFound, "no such %s", what)
	}
	return nil
}
