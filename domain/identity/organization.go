package identity

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/page"
)

// OrganizationUpdate is an admin's PATCH of the organization: nil fields stay.
type OrganizationUpdate struct {
	Name     *string `json:"name"`
	Industry *string `json:"industry"`
	Size     *string `json:"size"`
	Country  *string `json:"country"`
	City     *string `json:"city"`
	Domain   *string `json:"domain"`
}

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

func (up OrganizationUpdate) apply(o *Organization) []errs.FieldError {
	var bad []errs.FieldError
	add := func(field, msg string) {
		if msg != "" {
			bad = append(bad, errs.FieldError{Field: field, Message: msg})
		}
	}
	set := func(field string, v *string, dst *string, check func(string) string) {
		if v == nil {
			return
		}
		s := strings.TrimSpace(*v)
		if msg := check(s); msg != "" {
			add(field, msg)
			return
		}
		*dst = s
	}
	set("name", up.Name, &o.Name, func(s string) string { return ValidateName(s, 2, 100) })
	set("industry", up.Industry, &o.Industry, func(s string) string { return OneOf(s, Industries) })
	set("size", up.Size, &o.Size, func(s string) string { return OneOf(s, OrganizationSizes) })
	set("country", up.Country, &o.Country, func(s string) string { return ValidateName(s, 2, 56) })
	set("city", up.City, &o.City, func(s string) string { return ValidateName(s, 2, 50) })
	set("domain", up.Domain, &o.Domain, func(s string) string {
		if s != "" && !domainPattern.MatchString(strings.ToLower(s)) {
			return "is not a domain name (such as example.com)"
		}
		return ""
	})
	o.Domain = strings.ToLower(o.Domain)
	if msg := ValidateCity(o.Country, o.City); msg != "" && (up.City != nil || up.Country != nil) {
		add("city", msg)
	}
	return bad
}

// orgState is what the audit log records of an organization.
type orgState struct {
	Name     string `json:"name"`
	Industry string `json:"industry"`
	Size     string `json:"size"`
	Country  string `json:"country"`
	City     string `json:"city"`
	Domain   string `json:"domain"`
}

func orgStateOf(o Organization) orgState {
	return orgState{o.Name, o.Industry, o.Size, o.Country, o.City, o.Domain}
}

// CurrentOrganization returns the principal's organization.
func (s *Service) CurrentOrganization(ctx context.Context, p Principal) (Organization, error) {
	return s.d.Store.Organization(ctx, p.OrganizationID)
}

// UpdateOrganization changes the organization's profile.
func (s *Service) UpdateOrganization(ctx context.Context, p Principal, up OrganizationUpdate) (Organization, error) {
	var out Organization
	err := s.d.Store.InOrganization(ctx, p.OrganizationID, func(tx OrgTx) error {
		o := tx.Organization()
		before := o
		if bad := up.apply(&o); len(bad) > 0 {
			return errs.Fields(bad...)
		}
		out = o
		if orgStateOf(before) == orgStateOf(o) {
			return nil
		}
		if err := tx.UpdateOrganization(ctx, o); err != nil {
			return err
		}
		return tx.Audit(ctx, audit(ctx, p, "organization.updated", "organization", o.ID, orgStateOf(before), orgStateOf(o), s.now()))
	})
	return out, err
}

// OrganizationStats is the admin dashboard's view of the organization.
type OrganizationStats struct {
	Members struct {
		Total    int            `json:"total"`
		ByRole   map[string]int `json:"byRole"`
		ByStatus map[string]int `json:"byStatus"`
	} `json:"members"`
	ActiveLast7Days    int              `json:"activeLast7Days"`
	ActiveLast30Days   int              `json:"activeLast30Days"`
	PendingInvitations int              `json:"pendingInvitations"`
	StorageBytes       int64            `json:"storageBytes"`
	Content            map[string]int64 `json:"content"`
	GeneratedAt        time.Time        `json:"generatedAt"`
}

// Stats counts the organization's members, activity, storage and content.
func (s *Service) Stats(ctx context.Context, p Principal) (OrganizationStats, error) {
	now := s.now()
	st, err := s.d.Store.Stats(ctx, p.OrganizationID, now)
	if err != nil {
		return st, err
	}
	for _, used := range s.storage {
		n, err := used(ctx, p.OrganizationID)
		if err != nil {
			return st, err
		}
		st.StorageBytes += n
	}
	st.Content = map[string]int64{}
	for kind, count := range s.content {
		n, err := count(ctx, p.OrganizationID)
		if err != nil {
			return st, err
		}
		st.Content[kind] = n
	}
	st.GeneratedAt = now
	return st, nil
}

// AuditCursor is the keyset of the audit log (newest first).
type AuditCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// AuditLog lists the organization's admin actions, newest first.
func (s *Service) AuditLog(ctx context.Context, p Principal, limit int, cursor string) (page.Page[AuditEntry], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[AuditEntry]{}, err
	}
	var after *AuditCursor
	if cursor != "" {
		after = &AuditCursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[AuditEntry]{}, err
		}
		if notFoundUnlessID(after.ID, "") != nil {
			return page.Page[AuditEntry]{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	list, err := s.d.Store.ListAudit(ctx, p.OrganizationID, after, limit+1)
	if err != nil {
		return page.Page[AuditEntry]{}, err
	}
	return page.Build(list, limit, func(e AuditEntry) any { return AuditCursor{e.CreatedAt, e.ID} }), nil
}
