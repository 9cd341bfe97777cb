package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/page"
)

// Member list sorts.
const (
	SortName      = "name"
	SortEmail     = "email"
	SortCreatedAt = "createdAt"
	SortLastLogin = "lastLogin"
)

// MemberSorts lists the sorts of the member list.
var MemberSorts = []string{SortName, SortEmail, SortCreatedAt, SortLastLogin}

// MemberQuery filters, orders and positions the member list.
type MemberQuery struct {
	Search string // substring of the name or email
	Role   string // "" | admin | member
	Status string // "" (everyone not deleted) | active | inactive | deleted
	Sort   string
	Desc   bool
	After  *MemberCursor
}

// MemberCursor is the keyset of the member list: the sort key of the last row seen and its id.
type MemberCursor struct {
	Sort string    `json:"s"`
	Desc bool      `json:"d"`
	Text []string  `json:"x,omitempty"` // name (last, first) and email sorts, lower-cased
	Time time.Time `json:"t,omitzero"`  // createdAt and lastLogin sorts
	ID   string    `json:"i"`
}

// MemberTotals are the counts the member list shows above the table.
type MemberTotals struct {
	All    int `json:"all"`
	Admins int `json:"admins"`
	Active int `json:"active"`
}

// MemberList is a page of members with the counts.
type MemberList struct {
	page.Page[User]
	Totals MemberTotals `json:"totals"`
}

// NeverSignedIn is the last-login sort key of users who never signed in (they sort first).
var NeverSignedIn = time.Unix(0, 0).UTC()

// SortKey returns u's key under sort, as the cursor stores it.
func SortKey(u User, sort string) (text []string, at time.Time) {
	switch sort {
	case SortName:
		return []string{strings.ToLower(u.LastName), strings.ToLower(u.FirstName)}, time.Time{}
	case SortEmail:
		return []string{strings.ToLower(u.Email)}, time.Time{}
	case SortLastLogin:
		if u.LastLogin == nil {
			return nil, NeverSignedIn
		}
		return nil, *u.LastLogin
	}
	return nil, u.CreatedAt
}

// Members lists the principal's organization. limit and cursor come from the request.
func (s *Service) Members(ctx context.Context, p Principal, q MemberQuery, limit int, cursor string) (MemberList, error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return MemberList{}, err
	}
	q.Search = strings.TrimSpace(q.Search)
	var bad []errs.FieldError
	if utf8.RuneCountInString(q.Search) > 100 {
		bad = append(bad, errs.FieldError{Field: "search", Message: "is too long (at most 100 characters)"})
	}
	if q.Role != "" && !slices.Contains([]string{RoleAdmin, RoleMember}, q.Role) {
		bad = append(bad, errs.FieldError{Field: "role", Message: "must be one of: admin, member"})
	}
	if q.Status != "" && !slices.Contains([]string{StatusActive, StatusInactive, StatusDeleted}, q.Status) {
		bad = append(bad, errs.FieldError{Field: "status", Message: "must be one of: active, inactive, deleted"})
	}
	if q.Sort == "" {
		q.Sort = SortName
	}
	if !slices.Contains(MemberSorts, q.Sort) {
		bad = append(bad, errs.FieldError{Field: "sort", Message: "must be one of: " + strings.Join(MemberSorts, ", ")})
	}
	if len(bad) > 0 {
		return MemberList{}, errs.Fields(bad...)
	}
	if cursor != "" {
		q.After = &MemberCursor{}
		if err := page.Decode(cursor, q.After); err != nil {
			return MemberList{}, err
		}
		keys := map[string]int{SortName: 2, SortEmail: 1}[q.Sort]
		if q.After.Sort != q.Sort || q.After.Desc != q.Desc || len(q.After.Text) != keys || notFoundUnlessID(q.After.ID, "") != nil {
			return MemberList{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "belongs to another sort order; start from the first page"})
		}
	}

	users, err := s.d.Store.ListMembers(ctx, p.OrganizationID, q, limit+1)
	if err != nil {
		return MemberList{}, err
	}
	out := MemberList{Page: page.Build(users, limit, func(u User) any {
		text, at := SortKey(u, q.Sort)
		return MemberCursor{Sort: q.Sort, Desc: q.Desc, Text: text, Time: at, ID: u.ID}
	})}
	total, err := s.d.Store.CountMembers(ctx, p.OrganizationID, q)
	if err != nil {
		return MemberList{}, err
	}
	out.Total = &total
	if out.Totals, err = s.d.Store.MemberTotals(ctx, p.OrganizationID); err != nil {
		return MemberList{}, err
	}
	return out, nil
}

// MemberUpdate is an admin's PATCH of a member: nil fields stay.
type MemberUpdate struct {
	Role     *string `json:"role"`
	IsActive *bool   `json:"isActive"`
}

// memberState is what the audit log records of a member.
type memberState struct {
	Role     string `json:"role"`
	IsActive bool   `json:"isActive"`
	Deleted  bool   `json:"deleted,omitempty"`
}

func stateOf(u User) memberState {
	return memberState{Role: u.Role, IsActive: u.IsActive, Deleted: u.DeletedAt != nil}
}

// UpdateMember changes a member's role or whether they may sign in. The owner keeps the admin
// role and stays active; the last active admin cannot step down.
func (s *Service) UpdateMember(ctx context.Context, p Principal, userID string, up MemberUpdate) (User, error) {
	if err := notFoundUnlessID(userID, "member"); err != nil {
		return User{}, err
	}
	if up.Role != nil && *up.Role != RoleAdmin && *up.Role != RoleMember {
		return User{}, errs.Fields(errs.FieldError{Field: "role", Message: "must be one of: admin, member"})
	}
	if up.Role == nil && up.IsActive == nil {
		return User{}, errs.Fields(errs.FieldError{Field: "role", Message: "send role, isActive or both"})
	}
	var (
		out     User
		changed AccessChanged
	)
	err := s.d.Store.InOrganization(ctx, p.OrganizationID, func(tx OrgTx) error {
		u, err := tx.Member(ctx, userID)
		if err != nil {
			return err
		}
		if u.DeletedAt != nil {
			return errs.E(errs.NotFound, "no such member")
		}
		before := u
		if up.Role != nil {
			u.Role = *up.Role
		}
		if up.IsActive != nil {
			u.IsActive = *up.IsActive
		}
		if err := s.guardAdmins(ctx, tx, before, u); err != nil {
			return err
		}
		if stateOf(before) == stateOf(u) {
			out = u
			return nil
		}
		if err := tx.UpdateMember(ctx, u); err != nil {
			return err
		}
		action := "member.updated"
		switch {
		case before.Role != u.Role:
			action = "member.role_changed"
		case !u.IsActive:
			action = "member.deactivated"
		default:
			action = "member.reactivated"
		}
		if err := tx.Audit(ctx, audit(ctx, p, action, "user", u.ID, stateOf(before), stateOf(u), s.now())); err != nil {
			return err
		}
		// The core changes inside the lock: if it fails, our change rolls back with it.
		if before.Role != u.Role {
			if err := s.d.Credentials.SetRoles(ctx, u.ID, u.Roles()); err != nil {
				return fmt.Errorf("changing the role in the auth core: %w", err)
			}
		}
		if before.IsActive && !u.IsActive {
			if err := s.d.Credentials.RevokeSessions(ctx, u.ID); err != nil {
				return fmt.Errorf("signing the member out: %w", err)
			}
		}
		out = u
		changed = accessOf(u)
		return tx.Record(ctx, changed)
	})
	if err == nil && changed.UserID != "" {
		s.d.Events.Publish(ctx, changed)
	}
	return out, err
}

// DeleteMember removes a member from the organization: deactivated and signed out everywhere,
// their content kept under their name. The owner and the last admin cannot be removed.
func (s *Service) DeleteMember(ctx context.Context, p Principal, userID string) error {
	if err := notFoundUnlessID(userID, "member"); err != nil {
		return err
	}
	var removed AccessChanged
	err := s.d.Store.InOrganization(ctx, p.OrganizationID, func(tx OrgTx) error {
		u, err := tx.Member(ctx, userID)
		if err != nil {
			return err
		}
		if u.DeletedAt != nil {
			return errs.E(errs.NotFound, "no such member")
		}
		before := u
		now := s.now()
		u.IsActive, u.DeletedAt = false, &now
		if err := s.guardAdmins(ctx, tx, before, u); err != nil {
			return err
		}
		if err := tx.UpdateMember(ctx, u); err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit(ctx, p, "member.deleted", "user", u.ID, stateOf(before), stateOf(u), now)); err != nil {
			return err
		}
		removed = accessOf(u)
		if err := tx.Record(ctx, removed); err != nil {
			return err
		}
		return s.d.Credentials.RevokeSessions(ctx, u.ID)
	})
	if err == nil {
		s.d.Events.Publish(ctx, removed)
	}
	return err
}

// guardAdmins refuses changes that would leave the organization without its owner as an active
// admin, or without any active admin.
func (s *Service) guardAdmins(ctx context.Context, tx OrgTx, before, after User) error {
	activeAdmin := func(u User) bool { return u.Role == RoleAdmin && u.IsActive && u.DeletedAt == nil }
	if before.ID == tx.Organization().AdminUserID && !activeAdmin(after) {
		return errs.E(errs.Conflict, "the organization's owner must stay an active admin")
	}
	if activeAdmin(before) && !activeAdmin(after) {
		n, err := tx.ActiveAdmins(ctx)
		if err != nil {
			return err
		}
		if n <= 1 {
			return errs.E(errs.Conflict, "the organization's last active admin cannot step down; make someone else admin first")
		}
	}
	return nil
}
