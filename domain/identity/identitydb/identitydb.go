// Package identitydb is the PostgreSQL store of users and organizations.
package identitydb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Store implements identity.Store.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ identity.Store = (*Store)(nil)

// CreateOrganizationWithOwner writes both rows in one transaction; the owner foreign key is
// deferred so either order works.
func (s *Store) CreateOrganizationWithOwner(ctx context.Context, org identity.Organization, owner identity.User) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO organizations (id, name, domain, industry, size, country, city, is_active, admin_user_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			org.ID, org.Name, org.Domain, org.Industry, org.Size, org.Country, org.City, org.IsActive, org.AdminUserID, org.CreatedAt,
		); err != nil {
			return fmt.Errorf("inserting organization: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO users (id, organization_id, email, first_name, last_name, role, is_active,
			                   language_preference, profile_visibility, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			owner.ID, owner.OrganizationID, owner.Email, owner.FirstName, owner.LastName, owner.Role, owner.IsActive,
			owner.LanguagePreference, owner.ProfileVisibility, owner.CreatedAt,
		); err != nil {
			if postgres.IsUniqueViolation(err, "users_email") {
				return errs.Fields(errs.FieldError{Field: "email", Message: "is already registered"})
			}
			return fmt.Errorf("inserting owner: %w", err)
		}
		return nil
	})
}

// DeleteUserAndOwnedOrganization removes a user and the organization they own, if they are its
// only member.
func (s *Store) DeleteUserAndOwnedOrganization(ctx context.Context, userID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
	u.job_title, u.city, u.bio, u.expertise_tags, u.language_preference, u.profile_visibility, u.last_login_at, u.created_at`

func scanUser(row pgx.Row, extra ...any) (identity.User, error) {
	var u identity.User
	dest := append([]any{&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &u.OrganizationID, &u.Avatar, &u.IsActive,
		&u.JobTitle, &u.City, &u.Bio, &u.ExpertiseTags, &u.LanguagePreference, &u.ProfileVisibility, &u.LastLogin, &u.CreatedAt}, extra...)
	err := row.Scan(dest...)
	return u, err
}

// Account returns a user with their organization.
func (s *Store) Account(ctx context.Context, userID string) (identity.Account, error) {
	var a identity.Account
	o := &a.Organization
	row := s.pool.QueryRow(ctx, `SELECT `+userColumns+`,
			o.id, o.name, o.domain, o.industry, o.size, o.country, o.city, o.logo_url, o.is_active, o.admin_user_id, o.created_at
		FROM users u JOIN organizations o ON o.id = u.organization_id
		WHERE u.id = $1`, userID)
	u, err := scanUser(row, &o.ID, &o.Name, &o.Domain, &o.Industry, &o.Size, &o.Country, &o.City, &o.Logo, &o.IsActive, &o.AdminUserID, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, errs.E(errs.NotFound, "no such user")
	}
	if err != nil {
		return a, fmt.Errorf("loading account %s: %w", userID, err)
	}
	a.User = u
	return a, nil
}

// OrganizationOf returns the user's organization and whether both are active.
func (s *Store) OrganizationOf(ctx context.Context, userID string) (string, bool, error) {
	var orgID string
	var active bool
	err := s.pool.QueryRow(ctx, `
		SELECT u.organization_id, u.is_active AND o.is_active
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1`, userID).Scan(&orgID, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, errs.E(errs.NotFound, "no such user")
	}
	if err != nil {
		return "", false, fmt.Errorf("loading organization of %s: %w", userID, err)
	}
	return orgID, active, nil
}

// RecordSignIn stamps last_login_at.
func (s *Store) RecordSignIn(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, userID, at); err != nil {
		return fmt.Errorf("recording sign-in of %s: %w", userID, err)
	}
	return nil
}

// ListMembers pages an organization's users by (created_at, id).
func (s *Store) ListMembers(ctx context.Context, orgID string, after *identity.MemberCursor, limit int) ([]identity.User, error) {
	q := `SELECT ` + userColumns + ` FROM users u WHERE u.organization_id = $1`
	args := []any{orgID, limit}
	if after != nil {
		q += ` AND (u.created_at, u.id) > ($3, $4)`
		args = append(args, after.CreatedAt, after.ID)
	}
	q += ` ORDER BY u.created_at, u.id LIMIT $2`
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("listing members: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
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
