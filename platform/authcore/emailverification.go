package authcore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Verification is keyed by (user, email) for the whole app: changing the email makes the user
// unverified. Tokens are tenant-bound, single-use, and stored as hashes.

// POST /{t}/recipe/user/email/verify/token {userId, email}
func (c *Core) createEVToken(ctx context.Context, r *request) (any, error) {
	userID, email := r.body.str("userId"), r.body.str("email")
	if err := r.done(); err != nil {
		return nil, err
	}
	email = normaliseEmail(email)
	token := newMailToken()
	// One statement, so that a verification racing with this cannot leave a token for a verified
	// address.
	tag, err := c.pool.Exec(ctx, `INSERT INTO authcore.ev_tokens (token_hash, user_id, email, tenant, expires_at)
		SELECT $1, $2, $3, $4, $5
		WHERE NOT EXISTS (SELECT 1 FROM authcore.verified_emails WHERE user_id = $2 AND email = $3)`,
		hash(token), userID, email, r.tenant, c.now().Add(c.cfg.EmailVerificationTokenLifetime))
	if err != nil {
		return nil, fmt.Errorf("create email verification token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return status("EMAIL_ALREADY_VERIFIED_ERROR"), nil
	}
	return ok("token", token), nil
}

// POST /{t}/recipe/user/email/verify {method: "token", token}
func (c *Core) verifyEmail(ctx context.Context, r *request) (any, error) {
	method, token := r.body.str("method"), r.body.str("token")
	if err := r.done(); err != nil {
		return nil, err
	}
	if method != "token" {
		return nil, badRequest("Unsupported method for email verification")
	}
	var userID, email string
	var expires time.Time
	now := c.now()
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		// Deleting the token is what consumes it: of two concurrent uses one finds it gone.
		err := tx.QueryRow(ctx, `DELETE FROM authcore.ev_tokens WHERE token_hash = $1 AND tenant = $2
			RETURNING user_id, email, expires_at`, hash(token), r.tenant).Scan(&userID, &email, &expires)
		if err != nil {
			return err
		}
		if !now.Before(expires) {
			return nil // an expired token is spent, and the address stays unverified
		}
		if _, err := tx.Exec(ctx, `DELETE FROM authcore.ev_tokens WHERE user_id = $1 AND email = $2`, userID, email); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO authcore.verified_emails (user_id, email) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, userID, email)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !now.Before(expires)) {
		return status("EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"), nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify email: %w", err)
	}
	return ok("userId", userID, "email", email), nil
}

// GET /recipe/user/email/verify?userId=&email=
func (c *Core) isEmailVerified(ctx context.Context, r *request) (any, error) {
	userID, email := r.query.str("userId"), r.query.str("email")
	if err := r.done(); err != nil {
		return nil, err
	}
	var verified bool
	if err := c.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM authcore.verified_emails WHERE user_id = $1 AND email = $2)`,
		userID, normaliseEmail(email)).Scan(&verified); err != nil {
		return nil, fmt.Errorf("is email verified: %w", err)
	}
	return ok("isVerified", verified), nil
}

// POST /{t}/recipe/user/email/verify/token/remove {userId, email}
func (c *Core) removeEVTokens(ctx context.Context, r *request) (any, error) {
	userID, email := r.body.str("userId"), r.body.str("email")
	if err := r.done(); err != nil {
		return nil, err
	}
	if _, err := c.pool.Exec(ctx, `DELETE FROM authcore.ev_tokens WHERE user_id = $1 AND email = $2 AND tenant = $3`,
		userID, normaliseEmail(email), r.tenant); err != nil {
		return nil, fmt.Errorf("remove email verification tokens: %w", err)
	}
	return ok(), nil
}

// POST /recipe/user/email/verify/remove {userId, email}
func (c *Core) unverifyEmail(ctx context.Context, r *request) (any, error) {
	userID, email := r.body.str("userId"), r.body.str("email")
	if err := r.done(); err != nil {
		return nil, err
	}
	if _, err := c.pool.Exec(ctx, `DELETE FROM authcore.verified_emails WHERE user_id = $1 AND email = $2`,
		userID, normaliseEmail(email)); err != nil {
		return nil, fmt.Errorf("unverify email: %w", err)
	}
	return ok(), nil
}
