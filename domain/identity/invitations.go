package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation states. An invitation is pending until accepted or past its expiry.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationExpired  = "expired"
)

// Invitation is the frontend's PendingInvitation.
type Invitation struct {
	ID             string     `json:"id"`
	Email          string     `json:"email"`
	FirstName      string     `json:"firstName"`
	LastName       string     `json:"lastName"`
	Role           string     `json:"role"`
	OrganizationID string     `json:"organizationId"`
	InvitedBy      string     `json:"invitedBy"`
	Status         string     `json:"status"`
	ExpiresAt      time.Time  `json:"expiresAt"`
	AcceptedAt     *time.Time `json:"acceptedAt"`
	CreatedAt      time.Time  `json:"createdAt"`
}

// statusAt derives the status at now.
func (inv Invitation) statusAt(now time.Time) string {
	switch {
	case inv.AcceptedAt != nil:
		return InvitationAccepted
	case !now.Before(inv.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// Invite is what an admin sends.
type Invite struct {
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Role      string `json:"role"`
}

func (in *Invite) validate() []errs.FieldError {
	email, emailProblem := CheckEmail(in.Email)
	in.Email = email
	in.FirstName, in.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if in.Role == "" {
		in.Role = RoleMember
	}
	var bad []errs.FieldError
	add := func(field, msg string) {
		if msg != "" {
			bad = append(bad, errs.FieldError{Field: field, Message: msg})
		}
	}
	add("email", emailProblem)
	add("firstName", ValidateName(in.FirstName, 1, 50))
	add("lastName", ValidateName(in.LastName, 1, 50))
	add("role", OneOf(in.Role, []string{RoleAdmin, RoleMember}))
	return bad
}

// newToken returns an unguessable link token (256 bits) and the hash that is stored; the token
// itself exists only in the mail.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how invitation tokens are looked up.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Invite creates an invitation and mails its link. An address that already has an account, or
// an open invitation to this organization, is a conflict; an expired one is replaced.
func (s *Service) Invite(ctx context.Context, p Principal, in Invite) (Invitation, error) {
	if bad := in.validate(); len(bad) > 0 {
		return Invitation{}, errs.Fields(bad...)
	}
	now := s.now()
	var (
		inv   Invitation
		token string
	)
	err := s.d.Store.InOrganization(ctx, p.OrganizationID, func(tx OrgTx) error {
		if u, exists, err := tx.UserByEmail(ctx, in.Email); err != nil {
			return err
		} else if exists && u.OrganizationID == p.OrganizationID {
			return errs.E(errs.Conflict, "%s is already a member of this organization", in.Email)
		} else if exists {
			return errs.E(errs.Conflict, "%s already has an account with another organization", in.Email)
		}
		open, exists, err := tx.OpenInvitation(ctx, in.Email)
		if err != nil {
			return err
		}
		if exists && open.statusAt(now) == InvitationPending {
			return errs.E(errs.Conflict, "%s has a pending invitation; resend it instead", in.Email)
		}
		inv = Invitation{
			ID: ids.New(), Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, Role: in.Role,
			OrganizationID: p.OrganizationID, InvitedBy: p.UserID, ExpiresAt: now.Add(InvitationTTL), CreatedAt: now,
		}
		if exists { // the expired one makes room
			if err := tx.DeleteInvitation(ctx, open.ID); err != nil {
				return err
			}
		}
		var hash []byte
		token, hash = newToken()
		if err := tx.SaveInvitation(ctx, inv, hash); err != nil {
			return err
		}
		return tx.Audit(ctx, audit(ctx, p, "invitation.created", "invitation", inv.ID, nil, inv, now))
	})
	if err != nil {
		return Invitation{}, err
	}
	inv.Status = InvitationPending
	return inv, s.mailInvitation(ctx, p, inv, token)
}

// Resend gives a pending or expired invitation a new link, valid for another week, and mails it.
// The old link stops working.
func (s *Service) Resend(ctx context.Context, p Principal, id string) (Invitation, error) {
	if err := notFoundUnlessID(id, "invitation"); err != nil {
		return Invitation{}, err
	}
	now := s.now()
	var (
		inv   Invitation
		token string
	)
	err := s.d.Store.InOrganization(ctx, p.OrganizationID, func(tx OrgTx) error {
		var err error
		if inv, err = tx.Invitation(ctx, id); err != nil {
			return err
		}
		if inv.AcceptedAt != nil {
			return errs.E(errs.Conflict, "the invitation was already accepted")
		}
		before := inv
		inv.ExpiresAt = now.Add(InvitationTTL)
		var hash []byte
		token, hash = newToken()
		if err := tx.SaveInvitation(ctx, inv, hash); err != nil {
			return err
		}
		return tx.Audit(ctx, audit(ctx, p, "invitation.resent", "invitation", inv.ID,
			map[string]any{"expiresAt": before.ExpiresAt}, map[string]any{"expiresAt": inv.ExpiresAt}, now))
	})
	if err != nil {
		return Invitation{}, err
	}
	inv.Status = InvitationPending
	return inv, s.mailInvitation(ctx, p, inv, token)
}

// Cancel withdraws an invitation that was not accepted; its link stops working.
func (s *Service) Cancel(ctx context.Context, p Principal, id string) error {
	if err := notFoundUnlessID(id, "invitation"); err != nil {
		return err
	}
	return s.d.Store.InOrganization(ctx, p.OrganizationID, func(tx OrgTx) error {
		inv, err := tx.Invitation(ctx, id)
		if err != nil {
			return err
		}
		if inv.AcceptedAt != nil {
			return errs.E(errs.Conflict, "the invitation was already accepted; manage the member instead")
		}
		if err := tx.DeleteInvitation(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, audit(ctx, p, "invitation.cancelled", "invitation", id, inv, nil, s.now()))
	})
}

func (s *Service) mailInvitation(ctx context.Context, p Principal, inv Invitation, token string) error {
	acc, err := s.d.Store.Account(ctx, p.UserID)
	if err != nil {
		return err
	}
	link := s.d.WebsiteURL + "/auth/accept-invitation?token=" + url.QueryEscape(token)
	err = s.d.Mailer.Template(ctx, "invitation", acc.User.LanguagePreference, inv.Email, map[string]string{
		"FirstName":    inv.FirstName,
		"InviterName":  acc.User.FirstName + " " + acc.User.LastName,
		"Organization": acc.Organization.Name,
		"Role":         inv.Role,
		"Link":         link,
		"ExpiresAt":    inv.ExpiresAt.Format("2 January 2006"),
	})
	if err != nil {
		return fmt.Errorf("the invitation is saved but its mail could not be queued; resend it: %w", err)
	}
	return nil
}

// InvitationQuery filters the invitation list.
type InvitationQuery struct {
	Status string // "" | pending | accepted | expired
	After  *InvitationCursor
}

// InvitationCursor is the keyset of the invitation list (newest first).
type InvitationCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// Invitations lists the organization's invitations, newest first.
func (s *Service) Invitations(ctx context.Context, p Principal, status string, limit int, cursor string) (page.Page[Invitation], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Invitation]{}, err
	}
	if status != "" && !slices.Contains([]string{InvitationPending, InvitationAccepted, InvitationExpired}, status) {
		return page.Page[Invitation]{}, errs.Fields(errs.FieldError{Field: "status", Message: "must be one of: pending, accepted, expired"})
	}
	q := InvitationQuery{Status: status}
	if cursor != "" {
		q.After = &InvitationCursor{}
		if err := page.Decode(cursor, q.After); err != nil {
			return page.Page[Invitation]{}, err
		}
		if notFoundUnlessID(q.After.ID, "") != nil {
			return page.Page[Invitation]{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	now := s.now()
	list, err := s.d.Store.ListInvitations(ctx, p.OrganizationID, q, now, limit+1)
	if err != nil {
		return page.Page[Invitation]{}, err
	}
	for i := range list {
		list[i].Status = list[i].statusAt(now)
	}
	return page.Build(list, limit, func(inv Invitation) any { return InvitationCursor{inv.CreatedAt, inv.ID} }), nil
}

// InvitationPreview is what the invitee sees before signing up: enough to fill the form.
type InvitationPreview struct {
	Email        string     `json:"email"`
	FirstName    string     `json:"firstName"`
	LastName     string     `json:"lastName"`
	Role         string     `json:"role"`
	Organization OrgSummary `json:"organization"`
	ExpiresAt    time.Time  `json:"expiresAt"`
}

// LookupInvitation returns the invitation a link token opens. Unknown, used or withdrawn links
// are not found; expired ones are gone.
func (s *Service) LookupInvitation(ctx context.Context, token string) (InvitationPreview, error) {
	inv, org, err := s.d.Store.InvitationByToken(ctx, HashToken(token))
	if err != nil {
		return InvitationPreview{}, err
	}
	switch inv.statusAt(s.now()) {
	case InvitationAccepted:
		return InvitationPreview{}, errs.E(errs.NotFound, "this invitation was already used; sign in instead")
	case InvitationExpired:
		return InvitationPreview{}, errs.E(errs.Gone, "this invitation has expired; ask an admin of %s to send a new one", org.Name)
	}
	return InvitationPreview{
		Email: inv.Email, FirstName: inv.FirstName, LastName: inv.LastName, Role: inv.Role,
		Organization: OrgSummary{ID: org.ID, Name: org.Name, Logo: org.Logo}, ExpiresAt: inv.ExpiresAt,
	}, nil
}

// AcceptInvitation creates the invitee's user in the inviting organization with the invited role,
// once the auth core holds their credentials. The invitation is used up in the same transaction;
// the inviter is notified once it is committed.
func (s *Service) AcceptInvitation(ctx context.Context, token string, in SignUp) (Account, error) {
	in.Normalize()
	var (
		acc Account
		inv Invitation
		evs []event.Event
	)
	err := s.d.Store.AcceptInvitation(ctx, HashToken(token), func(tx InvitationTx) error {
		inv = tx.Invitation()
		org := tx.Organization()
		now := s.now()
		switch inv.statusAt(now) {
		case InvitationAccepted:
			return errs.E(errs.NotFound, "this invitation was already used; sign in instead")
		case InvitationExpired:
			return errs.E(errs.Gone, "this invitation has expired; ask an admin of %s to send a new one", org.Name)
		}
		if !org.IsActive {
			return errs.E(errs.Gone, "%s no longer accepts members", org.Name)
		}
		if in.Email != inv.Email {
			return errs.Fields(errs.FieldError{Field: "email", Message: "must be the invited address, " + inv.Email})
		}
		if in.FirstName == "" {
			in.FirstName = inv.FirstName
		}
		if in.LastName == "" {
			in.LastName = inv.LastName
		}
		var bad []errs.FieldError
		for field, msg := range map[string]string{
			"firstName":          ValidateName(in.FirstName, 1, 50),
			"lastName":           ValidateName(in.LastName, 1, 50),
			"languagePreference": OneOf(in.LanguagePreference, Languages),
		} {
			if msg != "" {
				bad = append(bad, errs.FieldError{Field: field, Message: msg})
			}
		}
		if len(bad) > 0 {
			return errs.Fields(bad...)
		}
		u := s.newUser(in, org.ID, inv.Role, now)
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.MarkAccepted(ctx, u.ID, now); err != nil {
			return err
		}
		actor := Principal{UserID: u.ID, OrganizationID: org.ID}
		if err := tx.Audit(ctx, audit(ctx, actor, "invitation.accepted", "invitation", inv.ID, nil,
			map[string]any{"userId": u.ID, "role": u.Role}, now)); err != nil {
			return err
		}
		acc = Account{User: u, Organization: org}
		inv.Status, inv.AcceptedAt = InvitationAccepted, &now
		evs = []event.Event{MemberJoined{User: u}, InvitationUsed{Invitation: inv, Member: u}}
		return tx.Record(ctx, evs...)
	})
	if err == nil {
		s.d.Events.Publish(ctx, evs...)
	}
	return acc, err
}
