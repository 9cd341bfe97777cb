package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/page"
)

// The platform's moderators are staff of the platform rather than of an organization (Discourse's
// staff, Stack Overflow's moderators): they hold RoleModerator beside their organization role.
// The first ones come from the configuration (auth.moderators, granted at start and at sign-in,
// as Discourse's developer emails); moderators grant the role to others. They verify
// organizations (what isVerified and the "verified" privacy levels rest on), suspend them, and
// moderate the forum.

// MaxReason bounds a moderator's stated reason.
const MaxReason = 500

// OrganizationQuery filters the moderators' list of organizations.
type OrganizationQuery struct {
	Name   string // a prefix of the name, any case
	Status string // "" | active | suspended | verified | unverified
	After  *OrganizationCursor
}

// OrganizationCursor is the position of the last organization of a page (newest first).
type OrganizationCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// OrganizationSummary is an organization as the moderators' list shows it.
type OrganizationSummary struct {
	Organization
	Members int `json:"members"` // active members
}

// Statuses of OrganizationQuery.Status.
var organizationStatuses = []string{"active", "suspended", "verified", "unverified"}

// Organizations lists every organization for a moderator, newest first.
func (s *Service) Organizations(ctx context.Context, p Principal, q OrganizationQuery, limit int, cursor string) (page.Page[OrganizationSummary], error) {
	if err := p.Require(PermOrganizationsModerate); err != nil {
		return page.Page[OrganizationSummary]{}, err
	}
	if q.Status != "" && !slices.Contains(organizationStatuses, q.Status) {
		return page.Page[OrganizationSummary]{}, errs.Fields(errs.FieldError{Field: "status",
			Message: "must be one of: active, suspended, verified, unverified"})
	}
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[OrganizationSummary]{}, err
	}
	if cursor != "" {
		q.After = &OrganizationCursor{}
		if err := page.Decode(cursor, q.After); err != nil {
			return page.Page[OrganizationSummary]{}, err
		}
	}
	q.Name = strings.TrimSpace(q.Name)
	items, err := s.d.Store.ListOrganizations(ctx, q, limit+1)
	if err != nil {
		return page.Page[OrganizationSummary]{}, err
	}
	return page.Build(items, limit, func(o OrganizationSummary) any {
		return OrganizationCursor{CreatedAt: o.CreatedAt, ID: o.ID}
	}), nil
}

// VerifyOrganization marks an organization verified by the platform (on) or takes it back.
func (s *Service) VerifyOrganization(ctx context.Context, p Principal, orgID string, on bool) (Organization, error) {
	return s.moderateOrganization(ctx, p, orgID, func(o *Organization, now time.Time) (string, error) {
		if on == o.IsVerified {
			return "", nil
		}
		o.IsVerified, o.VerifiedAt = on, nil
		if on {
			o.VerifiedAt = &now
			return "organization.verified", nil
		}
		return "organization.unverified", nil
	})
}

// SuspendOrganization suspends an organization: its members are signed out everywhere within
// seconds and cannot sign in until it is reinstated. A moderator cannot suspend their own.
func (s *Service) SuspendOrganization(ctx context.Context, p Principal, orgID, reason string) (Organization, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > MaxReason {
		return Organization{}, errs.Fields(errs.FieldError{Field: "reason", Message: "must be 1 to 500 characters"})
	}
	if orgID == p.OrganizationID {
		return Organization{}, errs.E(errs.Conflict, "a moderator cannot suspend their own organization")
	}
	return s.moderateOrganization(ctx, p, orgID, func(o *Organization, now time.Time) (string, error) {
		if o.SuspendedAt != nil {
			return "", nil
		}
		o.IsActive, o.SuspendedAt, o.SuspensionReason = false, &now, reason
		return "organization.suspended", nil
	})
}

// ReinstateOrganization ends a suspension; members sign in again.
func (s *Service) ReinstateOrganization(ctx context.Context, p Principal, orgID string) (Organization, error) {
	return s.moderateOrganization(ctx, p, orgID, func(o *Organization, _ time.Time) (string, error) {
		if o.SuspendedAt == nil {
			return "", nil
		}
		o.IsActive, o.SuspendedAt, o.SuspensionReason = true, nil, ""
		return "organization.reinstated", nil
	})
}

// moderateOrganization applies change to the organization inside its lock, audits it in the
// organization's own log (its admins see what the platform did), and carries a change of
// whether members may sign in to their sessions and to the event log. change returns the audit
// action, or "" when there is nothing to do.
func (s *Service) moderateOrganization(ctx context.Context, p Principal, orgID string, change func(o *Organization, now time.Time) (string, error)) (Organization, error) {
	if err := p.Require(PermOrganizationsModerate); err != nil {
		return Organization{}, err
	}
	if err := notFoundUnlessID(orgID, "organization"); err != nil {
		return Organization{}, err
	}
	var (
		out     Organization
		changed []AccessChanged
	)
	err := s.d.Store.InOrganization(ctx, orgID, func(tx OrgTx) error {
		o := tx.Organization()
		before := o
		now := s.now()
		action, err := change(&o, now)
		if err != nil || action == "" {
			out = o
			return err
		}
		if err := tx.SetStanding(ctx, o); err != nil {
			return err
		}
		e := audit(ctx, p, action, "organization", o.ID, standingOf(before), standingOf(o), now)
		e.OrganizationID = o.ID
		if err := tx.Audit(ctx, e); err != nil {
			return err
		}
		out = o
		if before.IsActive == o.IsActive {
			return nil
		}
		members, err := tx.ActiveMembers(ctx)
		if err != nil {
			return err
		}
		for _, u := range members {
			a := accessOf(u)
			a.Active = o.IsActive
			changed = append(changed, a)
			if !o.IsActive {
				// Inside the lock, as a deactivation: if the core fails, nothing changed.
				if err := s.d.Credentials.RevokeSessions(ctx, u.ID); err != nil {
					return fmt.Errorf("signing out %s: %w", u.ID, err)
				}
			}
		}
		return tx.Record(ctx, eventsOf(changed)...)
	})
	if err == nil && len(changed) > 0 {
		s.d.Events.Publish(ctx, eventsOf(changed)...)
	}
	return out, err
}

// standingOf is what the audit log shows of a moderation change.
func standingOf(o Organization) map[string]any {
	return map[string]any{"isActive": o.IsActive, "isVerified": o.IsVerified, "suspendedAt": o.SuspendedAt,
		"suspensionReason": o.SuspensionReason}
}

// SetModerator grants (on) or takes back the platform's moderator role. Moderators may not
// take their own role: another moderator, or the configuration, does.
func (s *Service) SetModerator(ctx context.Context, p Principal, userID string, on bool) (User, error) {
	if err := p.Require(PermOrganizationsModerate); err != nil {
		return User{}, err
	}
	if err := notFoundUnlessID(userID, "user"); err != nil {
		return User{}, err
	}
	if userID == p.UserID && !on {
		return User{}, errs.E(errs.Conflict, "ask another moderator to take your moderator role")
	}
	u, err := s.d.Store.User(ctx, userID)
	if err != nil {
		return User{}, err
	}
	return s.setPlatformRole(ctx, p, u, on)
}

// SetModeratorByEmail grants (on) or takes the moderator role of the user with this address, for
// operators (the audit log names the user as the actor: no one signed in asked).
func (s *Service) SetModeratorByEmail(ctx context.Context, email string, on bool) (User, error) {
	u, ok, err := s.d.Store.UserByEmail(ctx, email)
	if err != nil {
		return User{}, err
	}
	if !ok || u.DeletedAt != nil {
		return User{}, errs.E(errs.NotFound, "no user with the address %s", email)
	}
	return s.setPlatformRole(ctx, Principal{UserID: u.ID, OrganizationID: u.OrganizationID}, u, on)
}

// EnsureModerators grants the moderator role to the users with these addresses (the
// configuration's auth.moderators); addresses without an account yet are granted at sign-in.
func (s *Service) EnsureModerators(ctx context.Context, emails []string) error {
	for _, email := range emails {
		u, ok, err := s.d.Store.UserByEmail(ctx, email)
		if err != nil {
			return fmt.Errorf("moderator %s: %w", email, err)
		}
		if !ok || u.PlatformRole == RoleModerator {
			continue
		}
		self := Principal{UserID: u.ID, OrganizationID: u.OrganizationID}
		if _, err := s.setPlatformRole(ctx, self, u, true); err != nil {
			return fmt.Errorf("moderator %s: %w", email, err)
		}
	}
	return nil
}

// setPlatformRole records the change, in the user's organization's lock and audit log, and in
// the auth core, whose tokens carry roles.
func (s *Service) setPlatformRole(ctx context.Context, p Principal, target User, on bool) (User, error) {
	role := ""
	if on {
		role = RoleModerator
	}
	var (
		out     User
		changed AccessChanged
	)
	err := s.d.Store.InOrganization(ctx, target.OrganizationID, func(tx OrgTx) error {
		u, err := tx.Member(ctx, target.ID)
		if err != nil {
			return err
		}
		if u.DeletedAt != nil {
			return errs.E(errs.NotFound, "no such user")
		}
		out = u
		if u.PlatformRole == role {
			return nil
		}
		before := u.PlatformRole
		u.PlatformRole = role
		if err := tx.SetPlatformRole(ctx, u.ID, role); err != nil {
			return err
		}
		action := "moderator.granted"
		if !on {
			action = "moderator.revoked"
		}
		e := audit(ctx, p, action, "user", u.ID, map[string]string{"platformRole": before}, map[string]string{"platformRole": role}, s.now())
		e.OrganizationID = u.OrganizationID
		if err := tx.Audit(ctx, e); err != nil {
			return err
		}
		if err := s.d.Credentials.SetRoles(ctx, u.ID, u.Roles()); err != nil {
			return fmt.Errorf("changing the roles in the auth core: %w", err)
		}
		out, changed = u, accessOf(u)
		return tx.Record(ctx, changed)
	})
	if err == nil && changed.UserID != "" {
		s.d.Events.Publish(ctx, changed)
	}
	return out, err
}

func eventsOf(changes []AccessChanged) []event.Event {
	out := make([]event.Event, len(changes))
	for i, c := range changes {
		out[i] = c
	}
	return out
}
