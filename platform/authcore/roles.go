package authcore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Roles and their permissions are app-wide; which user holds which role is per tenant.

func (c *Core) roleExists(ctx context.Context, q queryRower, role string) (bool, error) {
	var exists bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM authcore.roles WHERE role = $1)`, role).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("looking up role: %w", err)
	}
	return exists, nil
}

// PUT /recipe/role {role, permissions: [..] | null}
func (c *Core) putRole(ctx context.Context, r *request) (any, error) {
	role := r.body.str("role")
	perms, _ := r.body.strings("permissions") // null (a nil Go slice in the SDK) means none
	if err := r.done(); err != nil {
		return nil, err
	}
	if role == "" {
		return nil, invalidField("role")
	}
	var created bool
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO authcore.roles (role) VALUES ($1) ON CONFLICT DO NOTHING`, role)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		_, err = tx.Exec(ctx, `INSERT INTO authcore.role_permissions (role, permission)
			SELECT $1, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING`, role, nonNil(perms))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("put role: %w", err)
	}
	return ok("createdNewRole", created), nil
}

// GET /recipe/role/permissions?role=
func (c *Core) rolePermissions(ctx context.Context, r *request) (any, error) {
	role := r.query.str("role")
	if err := r.done(); err != nil {
		return nil, err
	}
	if exists, err := c.roleExists(ctx, c.pool, role); err != nil || !exists {
		return unknownRole(err)
	}
	perms, err := collectStrings(c.pool.Query(ctx, `SELECT permission FROM authcore.role_permissions
		WHERE role = $1 ORDER BY permission`, role))
	if err != nil {
		return nil, fmt.Errorf("role permissions: %w", err)
	}
	return ok("permissions", perms), nil
}

// POST /recipe/role/permissions/remove {role, permissions: [..] | null}; null removes them all.
func (c *Core) removeRolePermissions(ctx context.Context, r *request) (any, error) {
	role := r.body.str("role")
	perms, given := r.body.strings("permissions")
	if err := r.done(); err != nil {
		return nil, err
	}
	if exists, err := c.roleExists(ctx, c.pool, role); err != nil || !exists {
		return unknownRole(err)
	}
	if _, err := c.pool.Exec(ctx, `DELETE FROM authcore.role_permissions WHERE role = $1 AND (NOT $2 OR permission = ANY($3))`,
		role, given, nonNil(perms)); err != nil {
		return nil, fmt.Errorf("remove role permissions: %w", err)
	}
	return ok(), nil
}

// GET /recipe/permission/roles?permission=
func (c *Core) permissionRoles(ctx context.Context, r *request) (any, error) {
	perm := r.query.str("permission")
	if err := r.done(); err != nil {
		return nil, err
	}
	roles, err := collectStrings(c.pool.Query(ctx, `SELECT role FROM authcore.role_permissions
		WHERE permission = $1 ORDER BY role`, perm))
	if err != nil {
		return nil, fmt.Errorf("permission roles: %w", err)
	}
	return ok("roles", roles), nil
}

// POST /recipe/role/remove {role}: also takes the role from every user.
func (c *Core) removeRole(ctx context.Context, r *request) (any, error) {
	role := r.body.str("role")
	if err := r.done(); err != nil {
		return nil, err
	}
	tag, err := c.pool.Exec(ctx, `DELETE FROM authcore.roles WHERE role = $1`, role)
	if err != nil {
		return nil, fmt.Errorf("remove role: %w", err)
	}
	return ok("didRoleExist", tag.RowsAffected() == 1), nil
}

// GET /recipe/roles
func (c *Core) allRoles(ctx context.Context, r *request) (any, error) {
	if err := r.done(); err != nil {
		return nil, err
	}
	roles, err := collectStrings(c.pool.Query(ctx, `SELECT role FROM authcore.roles ORDER BY role`))
	if err != nil {
		return nil, fmt.Errorf("all roles: %w", err)
	}
	return ok("roles", roles), nil
}

// PUT /{t}/recipe/user/role {userId, role}
func (c *Core) addUserRole(ctx context.Context, r *request) (any, error) {
	userID, role := r.body.str("userId"), r.body.str("role")
	if err := r.done(); err != nil {
		return nil, err
	}
	if exists, err := c.roleExists(ctx, c.pool, role); err != nil || !exists {
		return unknownRole(err)
	}
	tag, err := c.pool.Exec(ctx, `INSERT INTO authcore.user_roles (tenant, user_id, role) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, r.tenant, userID, role)
	if isForeignKeyViolation(err) { // the role went away meanwhile
		return status("UNKNOWN_ROLE_ERROR"), nil
	}
	if err != nil {
		return nil, fmt.Errorf("add user role: %w", err)
	}
	return ok("didUserAlreadyHaveRole", tag.RowsAffected() == 0), nil
}

// POST /{t}/recipe/user/role/remove {userId, role}
func (c *Core) removeUserRole(ctx context.Context, r *request) (any, error) {
	userID, role := r.body.str("userId"), r.body.str("role")
	if err := r.done(); err != nil {
		return nil, err
	}
	if exists, err := c.roleExists(ctx, c.pool, role); err != nil || !exists {
		return unknownRole(err)
	}
	tag, err := c.pool.Exec(ctx, `DELETE FROM authcore.user_roles WHERE tenant = $1 AND user_id = $2 AND role = $3`,
		r.tenant, userID, role)
	if err != nil {
		return nil, fmt.Errorf("remove user role: %w", err)
	}
	return ok("didUserHaveRole", tag.RowsAffected() == 1), nil
}

// GET /{t}/recipe/user/roles?userId=
func (c *Core) userRoles(ctx context.Context, r *request) (any, error) {
	userID := r.query.str("userId")
	if err := r.done(); err != nil {
		return nil, err
	}
	roles, err := collectStrings(c.pool.Query(ctx, `SELECT role FROM authcore.user_roles
		WHERE tenant = $1 AND user_id = $2 ORDER BY role`, r.tenant, userID))
	if err != nil {
		return nil, fmt.Errorf("user roles: %w", err)
	}
	return ok("roles", roles), nil
}

// GET /{t}/recipe/role/users?role=
func (c *Core) roleUsers(ctx context.Context, r *request) (any, error) {
	role := r.query.str("role")
	if err := r.done(); err != nil {
		return nil, err
	}
	if exists, err := c.roleExists(ctx, c.pool, role); err != nil || !exists {
		return unknownRole(err)
	}
	users, err := collectStrings(c.pool.Query(ctx, `SELECT user_id FROM authcore.user_roles
		WHERE tenant = $1 AND role = $2 ORDER BY user_id`, r.tenant, role))
	if err != nil {
		return nil, fmt.Errorf("role users: %w", err)
	}
	return ok("users", users), nil
}

func unknownRole(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return status("UNKNOWN_ROLE_ERROR"), nil
}

// isForeignKeyViolation reports a reference to a row that does not exist (SQLSTATE 23503).
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
