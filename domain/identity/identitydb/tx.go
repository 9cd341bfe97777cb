package identitydb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
)

// InOrganization runs fn in a transaction that holds the organization's row lock.
func (s *Store) InOrganization(ctx context.Context, orgID string, fn func(tx identity.OrgTx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		o := &orgTx{tx: tx}
		err := tx.QueryRow(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.id = $1 FOR UPDATE`, orgID).Scan(orgDest(&o.org)...)
		if err != nil {
			return fmt.Errorf("locking organization %s: %w", orgID, notFound(err, "organization"))
		}
		return fn(o)
	})
}

type orgTx struct {
	tx  pgx.Tx
	org identity.Organization
}

func (o *orgTx) Organization() identity.Organization { return o.org }

// Member returns a user of this organization; anyone else is not found.
func (o *orgTx) Member(ctx context.Context, userID string) (identity.User, error) {
	u, err := scanUser(o.tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 AND u.organization_id = $2 FOR UPDATE`,
		userID, o.org.ID))
	if err != nil {
		return u, notFound(err, "member")
	}
	return u, nil
}

func (o *orgTx) ActiveAdmins(ctx context.Context) (int, error) {
	var n int
	err := o.tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE organization_id = $1 AND role = 'admin' AND is_active AND deleted_at IS NULL`,
		o.org.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting admins: %w", err)
	}
	return n, nil
}

func (o *orgTx) UpdateMember(ctx context.Context, u identity.User) error {
	_, err := o.tx.Exec(ctx, `UPDATE users SET role = $2, is_active = $3, deleted_at = $4, updated_at = now()
		WHERE id = $1 AND organization_id = $5`, u.ID, u.Role, u.IsActive, u.DeletedAt, o.org.ID)
	if err != nil {
		return fmt.Errorf("updating member %s: %w", u.ID, err)
	}
	return nil
}

func (o *orgTx) UpdateOrganization(ctx context.Context, org identity.Organization) error {
	_, err := o.tx.Exec(ctx, `UPDATE organizations SET name = $2, industry = $3, size = $4, country = $5, city = $6,
		domain = $7, updated_at = now() WHERE id = $1`, org.ID, org.Name, org.Industry, org.Size, org.Country, org.City, org.Domain)
	if err != nil {
		return fmt.Errorf("updating organization: %w", err)
	}
	o.org = org
	return nil
}

func (o *orgTx) UserByEmail(ctx context.Context, email string) (identity.User, bool, error) {
	return userByEmail(ctx, o.tx, email)
}

const invitationColumns = `i.id, i.email, i.first_name, i.last_name, i.role, i.organization_id, i.invited_by,
	i.expires_at, i.accepted_at, i.created_at`

func invitationDest(inv *identity.Invitation) []any {
	return []any{&inv.ID, &inv.Email, &inv.FirstName, &inv.LastName, &inv.Role, &inv.OrganizationID, &inv.InvitedBy,
		&inv.ExpiresAt, &inv.AcceptedAt, &inv.CreatedAt}
}

func (o *orgTx) Invitation(ctx context.Context, id string) (identity.Invitation, error) {
	var inv identity.Invitation
	err := o.tx.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.id = $1 AND i.organization_id = $2 FOR UPDATE`,
		id, o.org.ID).Scan(invitationDest(&inv)...)
	if err != nil {
		return inv, notFound(err, "invitation")
	}
	return inv, nil
}

func (o *orgTx) OpenInvitation(ctx context.Context, email string) (identity.Invitation, bool, error) {
	var inv identity.Invitation
	err := o.tx.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i
		WHERE i.organization_id = $1 AND lower(i.email) = lower($2) AND i.accepted_at IS NULL FOR UPDATE`,
		o.org.ID, email).Scan(invitationDest(&inv)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, false, nil
	}
	if err != nil {
		return inv, false, fmt.Errorf("looking up invitations of %s: %w", email, err)
	}
	return inv, true, nil
}

// SaveInvitation inserts an invitation or, for a resend, replaces its token and expiry.
func (o *orgTx) SaveInvitation(ctx context.Context, inv identity.Invitation, tokenHash []byte) error {
	_, err := o.tx.Exec(ctx, `
		INSERT INTO invitations (id, organization_id, email, first_name, last_name, role, invited_by, token_hash, expires_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
		ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, updated_at = now()`,
		inv.ID, o.org.ID, inv.Email, inv.FirstName, inv.LastName, inv.Role, inv.InvitedBy, tokenHash, inv.ExpiresAt, inv.CreatedAt)
	if postgres.IsUniqueViolation(err, "invitations_open") {
		return errs.E(errs.Conflict, "%s has a pending invitation; resend it instead", inv.Email)
	}
	if err != nil {
		return fmt.Errorf("saving invitation: %w", err)
	}
	return nil
}

func (o *orgTx) DeleteInvitation(ctx context.Context, id string) error {
	if _, err := o.tx.Exec(ctx, `DELETE FROM invitations WHERE id = $1 AND organization_id = $2`, id, o.org.ID); err != nil {
		return fmt.Errorf("deleting invitation: %w", err)
	}
	return nil
}

func (o *orgTx) Audit(ctx context.Context, e identity.AuditEntry) error {
	return insertAudit(ctx, o.tx, e)
}

func (o *orgTx) Record(ctx context.Context, evs ...event.Event) error { return record(ctx, o.tx, evs) }

// record stores events in the event log, in tx.
func record(ctx context.Context, tx pgx.Tx, evs []event.Event) error {
	return outbox.AddEvents(ctx, tx, evs...)
}

// ListInvitations pages an organization's invitations, newest first.
func (s *Store) ListInvitations(ctx context.Context, orgID string, q identity.InvitationQuery, now time.Time, limit int) ([]identity.Invitation, error) {
	sql := `SELECT ` + invitationColumns + ` FROM invitations i WHERE i.organization_id = $1`
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch q.Status {
	case identity.InvitationPending:
		sql += ` AND i.accepted_at IS NULL AND i.expires_at > ` + arg(now)
	case identity.InvitationExpired:
		sql += ` AND i.accepted_at IS NULL AND i.expires_at <= ` + arg(now)
	case identity.InvitationAccepted:
		sql += ` AND i.accepted_at IS NOT NULL`
	}
	if q.After != nil {
		sql += ` AND (i.created_at, i.id) < (` + arg(q.After.CreatedAt) + `, ` + arg(q.After.ID) + `::uuid)`
	}
	sql += ` ORDER BY i.created_at DESC, i.id DESC LIMIT ` + arg(limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("listing invitations: %w", err)
	}
	defer rows.Close()
	var out []identity.Invitation
	for rows.Next() {
		var inv identity.Invitation
		if err := rows.Scan(invitationDest(&inv)...); err != nil {
			return nil, fmt.Errorf("listing invitations: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// InvitationByToken returns the invitation a token opens, with its organization.
func (s *Store) InvitationByToken(ctx context.Context, tokenHash []byte) (identity.Invitation, identity.Organization, error) {
	var inv identity.Invitation
	var org identity.Organization
	err := s.pool.QueryRow(ctx, `SELECT `+invitationColumns+`, `+orgColumns+`
		FROM invitations i JOIN organizations o ON o.id = i.organization_id WHERE i.token_hash = $1`, tokenHash).
		Scan(append(invitationDest(&inv), orgDest(&org)...)...)
	if err != nil {
		return inv, org, notFound(err, "invitation; the link may have been replaced by a newer one")
	}
	return inv, org, nil
}

// AcceptInvitation runs fn with the invitation locked.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash []byte, fn func(tx identity.InvitationTx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		it := &invitationTx{tx: tx}
		err := tx.QueryRow(ctx, `SELECT `+invitationColumns+`, `+orgColumns+`
			FROM invitations i JOIN organizations o ON o.id = i.organization_id WHERE i.token_hash = $1 FOR UPDATE OF i`, tokenHash).
			Scan(append(invitationDest(&it.inv), orgDest(&it.org)...)...)
		if err != nil {
			return notFound(err, "invitation; the link may have been replaced by a newer one")
		}
		return fn(it)
	})
}

func (t *invitationTx) Record(ctx context.Context, evs ...event.Event) error {
	return record(ctx, t.tx, evs)
}

type invitationTx struct {
	tx  pgx.Tx
	inv identity.Invitation
	org identity.Organization
}

func (it *invitationTx) Invitation() identity.Invitation     { return it.inv }
func (it *invitationTx) Organization() identity.Organization { return it.org }
func (it *invitationTx) CreateUser(ctx context.Context, u identity.User) error {
	return insertUser(ctx, it.tx, u)
}
func (it *invitationTx) MarkAccepted(ctx context.Context, userID string, at time.Time) error {
	if _, err := it.tx.Exec(ctx, `UPDATE invitations SET accepted_at = $2, accepted_user = $3, updated_at = now() WHERE id = $1`,
		it.inv.ID, at, userID); err != nil {
		return fmt.Errorf("accepting invitation: %w", err)
	}
	return nil
}
func (it *invitationTx) Audit(ctx context.Context, e identity.AuditEntry) error {
	return insertAudit(ctx, it.tx, e)
}
