package identitydb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/p2psandbox/hub/domain/identity"
)

// sortColumns are the keyset columns of each member sort, each backed by an index that starts
// with organization_id.
var sortColumns = map[string][]string{
	identity.SortName:      {"lower(u.last_name)", "lower(u.first_name)"},
	identity.SortEmail:     {"lower(u.email)"},
	identity.SortCreatedAt: {"u.created_at"},
	identity.SortLastLogin: {"COALESCE(u.last_login_at, to_timestamp(0))"},
}

// memberWhere builds the filter of the member list; args start with the organization id.
func memberWhere(orgID string, q identity.MemberQuery) (string, []any) {
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	conds := []string{"u.organization_id = $1"}
	switch q.Status {
	case identity.StatusActive:
		conds = append(conds, "u.is_active", "u.deleted_at IS NULL")
	case identity.StatusInactive:
		conds = append(conds, "NOT u.is_active", "u.deleted_at IS NULL")
	case identity.StatusDeleted:
		conds = append(conds, "u.deleted_at IS NOT NULL")
	default:
		conds = append(conds, "u.deleted_at IS NULL")
	}
	if q.Role != "" {
		conds = append(conds, "u.role = "+arg(q.Role))
	}
	if q.Search != "" {
		conds = append(conds, "u.search_text LIKE "+arg("%"+escapeLike(strings.ToLower(q.Search))+"%"))
	}
	return strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListMembers returns a page of members in the query's order.
func (s *Store) ListMembers(ctx context.Context, orgID string, q identity.MemberQuery, limit int) ([]identity.User, error) {
	where, args := memberWhere(orgID, q)
	cols := append(append([]string{}, sortColumns[q.Sort]...), "u.id")
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	if a := q.After; a != nil {
		var vals []string
		for _, t := range a.Text {
			args = append(args, t)
			vals = append(vals, "$"+strconv.Itoa(len(args)))
		}
		if len(a.Text) == 0 {
			args = append(args, a.Time)
			vals = append(vals, "$"+strconv.Itoa(len(args)))
		}
		args = append(args, a.ID)
		vals = append(vals, "$"+strconv.Itoa(len(args))+"::uuid")
		where += fmt.Sprintf(" AND (%s) %s (%s)", strings.Join(cols, ", "), cmp, strings.Join(vals, ", "))
	}
	order := make([]string, len(cols))
	for i, c := range cols {
		order[i] = c + " " + dir
	}
	args = append(args, limit)
	sql := `SELECT ` + userColumns + ` FROM users u WHERE ` + where +
		` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT $` + strconv.Itoa(len(args))
	users, err := collectUsers(s.pool.Query(ctx, sql, args...))
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	return users, nil
}

// CountMembers counts the members the query matches, whatever the page.
func (s *Store) CountMembers(ctx context.Context, orgID string, q identity.MemberQuery) (int, error) {
	where, args := memberWhere(orgID, q)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users u WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting members: %w", err)
	}
	return n, nil
}

// MemberTotals counts the organization's members (not deleted), its admins and its active ones.
func (s *Store) MemberTotals(ctx context.Context, orgID string) (identity.MemberTotals, error) {
	var t identity.MemberTotals
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE role = 'admin'), count(*) FILTER (WHERE is_active)
		FROM users WHERE organization_id = $1 AND deleted_at IS NULL`, orgID).Scan(&t.All, &t.Admins, &t.Active)
	if err != nil {
		return t, fmt.Errorf("counting members: %w", err)
	}
	return t, nil
}
