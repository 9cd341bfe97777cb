package authcore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// POST /user/remove {userId}: the user and everything the core keeps about them.
func (c *Core) deleteUser(ctx context.Context, r *request) (any, error) {
	userID := r.body.str("userId")
	if err := r.done(); err != nil {
		return nil, err
	}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		for _, table := range []string{"sessions", "ev_tokens", "verified_emails", "reset_tokens", "user_roles", "user_metadata"} {
			if _, err := tx.Exec(ctx, `DELETE FROM authcore.`+table+` WHERE user_id = $1`, userID); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM authcore.users WHERE id = $1`, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete user: %w", err)
	}
	return ok(), nil
}

// GET /{t}/users/count?includeAllTenants=&includeRecipeIds=: every user is an emailpassword user,
// so the recipe filter changes nothing unless it leaves emailpassword out.
func (c *Core) countUsers(ctx context.Context, r *request) (any, error) {
	all := r.query.boolean("includeAllTenants", false)
	if err := r.done(); err != nil {
		return nil, err
	}
	if ids := r.query.v.Get("includeRecipeIds"); ids != "" && !slices.Contains(strings.Split(ids, ","), "emailpassword") {
		return ok("count", 0), nil
	}
	var n int64
	if err := c.pool.QueryRow(ctx, `SELECT count(*) FROM authcore.users WHERE $1 OR tenant = $2`, all, r.tenant).Scan(&n); err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	return ok("count", n), nil
}
