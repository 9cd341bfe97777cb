package identitydb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/identity"
)

// ListOrganizations lists organizations for the platform's moderators, newest first, with their
// active members counted.
func (s *Store) ListOrganizations(ctx context.Context, q identity.OrganizationQuery, limit int) ([]identity.OrganizationSummary, error) {
	conds, args := []string{"true"}, []any{limit}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Name != "" {
		conds = append(conds, "lower(o.name) LIKE "+arg(escapeLike(strings.ToLower(q.Name))+"%"))
	}
	switch q.Status {
	case "active":
		conds = append(conds, "o.is_active")
	case "suspended":
		conds = append(conds, "o.suspended_at IS NOT NULL")
	case "verified":
		conds = append(conds, "o.verified_at IS NOT NULL")
	case "unverified":
		conds = append(conds, "o.verified_at IS NULL")
	}
	if q.After != nil {
		conds = append(conds, "(o.created_at, o.id) < ("+arg(q.After.CreatedAt)+", "+arg(q.After.ID)+"::uuid)")
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+orgColumns+`,
		       (SELECT count(*) FROM users u WHERE u.organization_id = o.id AND u.is_active AND u.deleted_at IS NULL)
		FROM organizations o WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY o.created_at DESC, o.id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing organizations: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (identity.OrganizationSummary, error) {
		var o identity.OrganizationSummary
		err := row.Scan(append(orgDest(&o.Organization), &o.Members)...)
		return o, err
	})
}

// UserByEmail finds a user by address, any case.
func (s *Store) UserByEmail(ctx context.Context, email string) (identity.User, bool, error) {
	return userByEmail(ctx, s.pool, email)
}

func userByEmail(ctx context.Context, q querier, email string) (identity.User, bool, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE lower(u.email) = lower($1)`, email))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("looking up %s: %w", email, err)
	}
	return u, true, nil
}

func (o *orgTx) SetStanding(ctx context.Context, org identity.Organization) error {
	_, err := o.tx.Exec(ctx, `UPDATE organizations SET is_active = $2, verified_at = $3, suspended_at = $4,
		suspension_reason = nullif($5, ''), updated_at = now() WHERE id = $1`,
		org.ID, org.IsActive, org.VerifiedAt, org.SuspendedAt, org.SuspensionReason)
	if err != nil {
		return fmt.Errorf("updating the standing of organization %s: %w", org.ID, err)
	}
	o.org = org
	return nil
}

func (o *orgTx) ActiveMembers(ctx context.Context) ([]identity.User, error) {
	users, err := collectUsers(o.tx.Query(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.organization_id = $1 AND u.is_active AND u.deleted_at IS NULL ORDER BY u.created_at`, o.org.ID))
	if err != nil {
		return nil, fmt.Errorf("listing the active members of %s: %w", o.org.ID, err)
	}
	return users, nil
}

func (o *orgTx) SetPlatformRole(ctx context.Context, userID, role string) error {
	_, err := o.tx.Exec(ctx, `UPDATE users SET platform_role = nullif($3, ''), updated_at = now()
		WHERE id = $1 AND organization_id = $2`, userID, o.org.ID, role)
	if err != nil {
		return fmt.Errorf("setting the platform role of %s: %w", userID, err)
	}
	return nil
}
