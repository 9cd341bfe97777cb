// Package identitydb is the PostgreSQL store of users, organizations, invitations and the audit
// log.
package identitydb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements identity.Store.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ identity.Store = (*Store)(nil)

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CreateOrganizationWithOwner writes both rows in one transaction; the owner foreign key is
// deferred so either order works.
func (s *Store) CreateOrganizationWithOwner(ctx context.Context, org identity.Organization, owner identity.User, evs ...event.Event) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO organizations (id, name, domain, industry, size, country, city, is_active, admin_user_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			org.ID, org.Name, org.Domain, org.Industry, org.Size, org.Country, org.City, org.IsActive, org.AdminUserID, org.CreatedAt,
		); err != nil {
			return fmt.Errorf("inserting organization: %w", err)
		}
		if err := insertUser(ctx, tx, owner); err != nil {
			return err
		}
		return record(ctx, tx, evs)
	})
}

func insertUser(ctx context.Context, q querier, u identity.User) error {
	_, err := q.Exec(ctx, `
		INSERT INTO users (id, organization_id, email, first_name, last_name, role, is_active,
		                   language_preference, profile_visibility, created_at, updated_at, platform_role)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, nullif($11, ''))`,
		u.ID, u.OrganizationID, u.Email, u.FirstName, u.LastName, u.Role, u.IsActive,
		u.LanguagePreference, u.ProfileVisibility, u.CreatedAt, u.PlatformRole,
	)
	if postgres.IsUniqueViolation(err, "users_email") {
		return errs.Fields(errs.FieldError{Field: "email", Message: "is already registered"})
	}
	if err != nil {
		return fmt.Errorf("inserting user: %w", err)
	}
	return nil
}

// DeleteUserAndOwnedOrganization removes a user who never got going (a sign-up that failed after
// its rows were written): the invitation they used opens again, the organization they founded
// goes if they were its only member.
func (s *Store) DeleteUserAndOwnedOrganization(ctx context.Context, userID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = NULL, accepted_user = NULL WHERE accepted_user = $1`, userID); err != nil {
			return fmt.Errorf("reopening invitation: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE actor_id = $1`, userID); err != nil {
			return fmt.Errorf("deleting audit entries: %w", err)
		}
		var orgID string
		err := tx.QueryRow(ctx, `DELETE FROM users WHERE id = $1 RETURNING organization_id`, userID).Scan(&orgID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deleting user: %w", err)
		}
		_, err = tx.Exec(ctx, `
			DELETE FROM organizations o WHERE o.id = $1 AND o.admin_user_id = $2
			AND NOT EXISTS (SELECT 1 FROM users u WHERE u.organization_id = o.id)`, orgID, userID)
		if err != nil {
			return fmt.Errorf("deleting organization: %w", err)
		}
		return nil
	})
}

const userColumns = `u.id, u.email, u.first_name, u.last_name, u.role, u.organization_id, u.avatar_url, u.is_active,
	u.job_title, u.city, u.bio, u.expertise_tags, u.language_preference, u.profile_visibility, u.allow_messages_from,
	u.last_login_at, u.last_seen_at, u.deleted_at, u.created_at, coalesce(u.platform_role, '')`

func scanUser(row pgx.Row, extra ...any) (identity.User, error) {
	var u identity.User
	dest := append([]any{&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &u.OrganizationID, &u.Avatar, &u.IsActive,
		&u.JobTitle, &u.City, &u.Bio, &u.ExpertiseTags, &u.LanguagePreference, &u.ProfileVisibility, &u.AllowMessagesFrom, &u.LastLogin,
		&u.LastSeen, &u.DeletedAt, &u.CreatedAt, &u.PlatformRole}, extra...)
	err := row.Scan(dest...)
	return u, err
}

const orgColumns = `o.id, o.name, o.domain, o.industry, o.size, o.country, o.city, o.logo_url, o.is_active, o.admin_user_id, o.created_at,
	o.verified_at IS NOT NULL, o.verified_at, o.suspended_at, coalesce(o.suspension_reason, '')`

func orgDest(o *identity.Organization) []any {
	return []any{&o.ID, &o.Name, &o.Domain, &o.Industry, &o.Size, &o.Country, &o.City, &o.Logo, &o.IsActive, &o.AdminUserID, &o.CreatedAt,
		&o.IsVerified, &o.VerifiedAt, &o.SuspendedAt, &o.SuspensionReason}
}

func collectUsers(rows pgx.Rows, err error) ([]identity.User, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.E(errs.NotFound, "no such %s", what)
	}
	return err
}

// Account returns a user with their organization.
func (s *Store) Account(ctx context.Context, userID string) (identity.Account, error) {
	var a identity.Account
	row := s.pool.QueryRow(ctx, `SELECT `+userColumns+`, `+orgColumns+`
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1`, userID)
	u, err := scanUser(row, orgDest(&a.Organization)...)
	if err != nil {
		return a, fmt.Errorf("loading account %s: %w", userID, notFound(err, "user"))
	}
	a.User = u
	return a, nil
}

// User returns one user.
func (s *Store) User(ctx context.Context, userID string) (identity.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, userID))
	if err != nil {
		return u, fmt.Errorf("loading user %s: %w", userID, notFound(err, "user"))
	}
	return u, nil
}

// Cards returns the cards of the given users; unknown or malformed ids are skipped.
func (s *Store) Cards(ctx context.Context, userIDs []string) ([]identity.Card, error) {
	var valid []string
	for _, id := range userIDs {
		if ids.Valid(id) {
			valid = append(valid, id)
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.id, u.first_name, u.last_name, u.avatar_url, u.job_title, o.id, o.name,
		       u.is_active AND u.deleted_at IS NULL AND o.is_active
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = ANY($1::uuid[])`, valid)
	if err != nil {
		return nil, fmt.Errorf("loading users: %w", err)
	}
	defer rows.Close()
	var out []identity.Card
	for rows.Next() {
		var c identity.Card
		if err := rows.Scan(&c.ID, &c.FirstName, &c.LastName, &c.Avatar, &c.JobTitle, &c.OrganizationID, &c.OrganizationName, &c.Active); err != nil {
			return nil, fmt.Errorf("loading users: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Parties returns what the privacy rules need of the given users; unknown or malformed ids are
// skipped. One indexed lookup whatever the rules decide, so a hidden user costs what an unknown
// one does.
func (s *Store) Parties(ctx context.Context, userIDs []string) ([]identity.Party, error) {
	var valid []string
	for _, id := range userIDs {
		if ids.Valid(id) {
			valid = append(valid, id)
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.id, u.organization_id, o.verified_at IS NOT NULL, u.profile_visibility, u.allow_messages_from,
		       u.deleted_at IS NOT NULL, u.is_active AND u.deleted_at IS NULL AND o.is_active
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = ANY($1::uuid[])`, valid)
	if err != nil {
		return nil, fmt.Errorf("loading privacy settings: %w", err)
	}
	defer rows.Close()
	var out []identity.Party
	for rows.Next() {
		var p identity.Party
		if err := rows.Scan(&p.UserID, &p.OrganizationID, &p.VerifiedOrganization, &p.Visibility, &p.AllowMessagesFrom,
			&p.Deleted, &p.Active); err != nil {
			return nil, fmt.Errorf("loading privacy settings: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Organization returns one organization.
func (s *Store) Organization(ctx context.Context, orgID string) (identity.Organization, error) {
	var o identity.Organization
	if err := s.pool.QueryRow(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.id = $1`, orgID).Scan(orgDest(&o)...); err != nil {
		return o, fmt.Errorf("loading organization %s: %w", orgID, notFound(err, "organization"))
	}
	return o, nil
}

// OrganizationOf returns the user's organization and whether both are active.
func (s *Store) OrganizationOf(ctx context.Context, userID string) (string, bool, error) {
	var orgID string
	var active bool
	err := s.pool.QueryRow(ctx, `
		SELECT u.organization_id, u.is_active AND u.deleted_at IS NULL AND o.is_active
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1`, userID).Scan(&orgID, &active)
	if err != nil {
		return "", false, fmt.Errorf("loading organization of %s: %w", userID, notFound(err, "user"))
	}
	return orgID, active, nil
}

// RecordSignIn stamps last_login_at (and last_seen_at).
func (s *Store) RecordSignIn(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE users SET last_login_at = $2, last_seen_at = $2 WHERE id = $1`, userID, at); err != nil {
		return fmt.Errorf("recording sign-in of %s: %w", userID, err)
	}
	return nil
}

// Touch stamps last_seen_at.
func (s *Store) Touch(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE users SET last_seen_at = $2 WHERE id = $1`, userID, at); err != nil {
		return fmt.Errorf("recording activity of %s: %w", userID, err)
	}
	return nil
}

// UpdateProfile writes the fields a user edits about themselves.
func (s *Store) UpdateProfile(ctx context.Context, u identity.User) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE users SET first_name = $2, last_name = $3, email = $4, job_title = $5, city = $6, bio = $7,
			expertise_tags = $8, language_preference = $9, profile_visibility = $10, allow_messages_from = $11,
			updated_at = now()
		WHERE id = $1`,
		u.ID, u.FirstName, u.LastName, u.Email, u.JobTitle, u.City, u.Bio, u.ExpertiseTags, u.LanguagePreference, u.ProfileVisibility,
		u.AllowMessagesFrom)
	if postgres.IsUniqueViolation(err, "users_email") {
		return errs.Fields(errs.FieldError{Field: "email", Message: "is already registered"})
	}
	if err != nil {
		return fmt.Errorf("updating profile of %s: %w", u.ID, err)
	}
	return nil
}

// SetAvatar records a user's avatar URL.
func (s *Store) SetAvatar(ctx context.Context, userID string, url *string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET avatar_url = $2, updated_at = now() WHERE id = $1`, userID, url)
	if err != nil {
		return fmt.Errorf("setting avatar of %s: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "no such user")
	}
	return nil
}

// SetLogo records an organization's logo URL.
func (s *Store) SetLogo(ctx context.Context, orgID string, url *string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE organizations SET logo_url = $2, updated_at = now() WHERE id = $1`, orgID, url)
	if err != nil {
		return fmt.Errorf("setting logo of %s: %w", orgID, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "no such organization")
	}
	return nil
}

// Stats counts an organization's members and pending invitations.
func (s *Store) Stats(ctx context.Context, orgID string, now time.Time) (identity.OrganizationStats, error) {
	var st identity.OrganizationStats
	var admins, members, active, inactive, deleted int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE deleted_at IS NULL),
		       count(*) FILTER (WHERE deleted_at IS NULL AND role = 'admin'),
		       count(*) FILTER (WHERE deleted_at IS NULL AND role = 'member'),
		       count(*) FILTER (WHERE deleted_at IS NULL AND is_active),
		       count(*) FILTER (WHERE deleted_at IS NULL AND NOT is_active),
		       count(*) FILTER (WHERE deleted_at IS NOT NULL),
		       count(*) FILTER (WHERE deleted_at IS NULL AND greatest(last_seen_at, last_login_at) >= $2),
		       count(*) FILTER (WHERE deleted_at IS NULL AND greatest(last_seen_at, last_login_at) >= $3),
		       (SELECT count(*) FROM invitations i WHERE i.organization_id = $1 AND i.accepted_at IS NULL AND i.expires_at > $4)
		FROM users WHERE organization_id = $1`,
		orgID, now.Add(-7*24*time.Hour), now.Add(-30*24*time.Hour), now,
	).Scan(&st.Members.Total, &admins, &members, &active, &inactive, &deleted,
		&st.ActiveLast7Days, &st.ActiveLast30Days, &st.PendingInvitations)
	if err != nil {
		return st, fmt.Errorf("counting members: %w", err)
	}
	st.Members.ByRole = map[string]int{identity.RoleAdmin: admins, identity.RoleMember: members}
	st.Members.ByStatus = map[string]int{identity.StatusActive: active, identity.StatusInactive: inactive, identity.StatusDeleted: deleted}
	return st, nil
}

// ListAudit pages the audit log, newest first, with the actors' names.
func (s *Store) ListAudit(ctx context.Context, orgID string, after *identity.AuditCursor, limit int) ([]identity.AuditEntry, error) {
	q := `SELECT a.id, a.actor_id, coalesce(u.first_name || ' ' || u.last_name, ''), a.action, a.target_type, a.target_id,
			a.before, a.after, a.request_id, a.created_at
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
		WHERE a.organization_id = $1`
	args := []any{orgID, limit}
	if after != nil {
		q += ` AND (a.created_at, a.id) < ($3, $4)`
		args = append(args, after.CreatedAt, after.ID)
	}
	q += ` ORDER BY a.created_at DESC, a.id DESC LIMIT $2`
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing audit log: %w", err)
	}
	defer rows.Close()
	var out []identity.AuditEntry
	for rows.Next() {
		var e identity.AuditEntry
		if err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Action, &e.TargetType, &e.TargetID,
			&e.Before, &e.After, &e.RequestID, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func insertAudit(ctx context.Context, q querier, e identity.AuditEntry) error {
	_, err := q.Exec(ctx, `
		INSERT INTO audit_log (id, organization_id, actor_id, action, target_type, target_id, before, after, request_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.OrganizationID, e.ActorID, e.Action, e.TargetType, e.TargetID, nullJSON(e.Before), nullJSON(e.After), e.RequestID, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("writing audit entry %s: %w", e.Action, err)
	}
	return nil
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
