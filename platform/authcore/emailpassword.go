package authcore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/p2psandbox/hub/platform/postgres"
)

// user is the SDK's epmodels.User; the signup and signin APIs hand it to the frontend as is.
type user struct {
	ID         string   `json:"id"`
	Email      string   `json:"email"`
	TimeJoined int64    `json:"timeJoined"` // ms
	TenantIDs  []string `json:"tenantIds"`
}

// normaliseEmail is the real core's trim().toLowerCase().
func normaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// bcryptMaxPassword is the part of a password bcrypt reads. The real core's bcrypt ignores what
// follows; x/crypto refuses it instead, so the core truncates to hash (and check) the same way and
// stays compatible with hashes the real core made.
const bcryptMaxPassword = 72

func truncatePassword(p string) []byte {
	b := []byte(p)
	return b[:min(len(b), bcryptMaxPassword)]
}

func (c *Core) hashPassword(p string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(truncatePassword(p), c.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(h), nil
}

// checkPassword compares p with hash, or with a dummy hash of the same cost when there is no
// user, so that the time a sign-in takes does not tell whether the email exists.
func (c *Core) checkPassword(hash *string, p string) bool {
	if hash == nil {
		c.dummyOnce.Do(func() {
			secret := make([]byte, 16)
			_, _ = rand.Read(secret)
			c.dummyHash, _ = bcrypt.GenerateFromPassword(secret, c.cfg.BcryptCost)
		})
		_ = bcrypt.CompareHashAndPassword(c.dummyHash, truncatePassword(p))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(*hash), truncatePassword(p)) == nil
}

const userColumns = `id, email, time_joined, tenant`

func scanUser(row pgx.Row, extra ...any) (*user, error) {
	var u user
	var joined time.Time
	var tenant string
	if err := row.Scan(append([]any{&u.ID, &u.Email, &joined, &tenant}, extra...)...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	u.TimeJoined = joined.UnixMilli()
	u.TenantIDs = []string{tenant}
	return &u, nil
}

// POST /{t}/recipe/signup {email, password}
func (c *Core) signUp(ctx context.Context, r *request) (any, error) {
	email, password := r.body.str("email"), r.body.str("password")
	if err := r.done(); err != nil {
		return nil, err
	}
	email = normaliseEmail(email)
	// Checked before hashing so that a duplicate costs no bcrypt; the unique key still decides.
	var exists bool
	if err := c.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM authcore.users WHERE tenant = $1 AND email = $2)`,
		r.tenant, email).Scan(&exists); err != nil {
		return nil, fmt.Errorf("signup: %w", err)
	}
	if exists {
		return status("EMAIL_ALREADY_EXISTS_ERROR"), nil
	}
	hash, err := c.hashPassword(password)
	if err != nil {
		return nil, err
	}
	u := user{ID: uuid.NewString(), Email: email, TimeJoined: c.now().UnixMilli(), TenantIDs: []string{r.tenant}}
	_, err = c.pool.Exec(ctx, `INSERT INTO authcore.users (id, tenant, email, password_hash, time_joined)
		VALUES ($1, $2, $3, $4, $5)`, u.ID, r.tenant, email, hash, time.UnixMilli(u.TimeJoined))
	if postgres.IsUniqueViolation(err, "users_tenant_email") {
		return status("EMAIL_ALREADY_EXISTS_ERROR"), nil
	}
	if err != nil {
		return nil, fmt.Errorf("signup: %w", err)
	}
	return ok("user", u), nil
}

// POST /{t}/recipe/signin {email, password}
func (c *Core) signIn(ctx context.Context, r *request) (any, error) {
	email, password := r.body.str("email"), r.body.str("password")
	if err := r.done(); err != nil {
		return nil, err
	}
	var hash *string
	u, err := scanUser(c.pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM authcore.users
		WHERE tenant = $1 AND email = $2`, r.tenant, normaliseEmail(email)), &hash)
	if err != nil {
		return nil, fmt.Errorf("signin: %w", err)
	}
	if !c.checkPassword(hash, password) { // hash stays nil without a user: a dummy comparison
		return status("WRONG_CREDENTIALS_ERROR"), nil
	}
	return ok("user", u), nil
}

// GET /recipe/user?userId= (app-wide) or GET /{t}/recipe/user?email=
func (c *Core) getUser(ctx context.Context, r *request) (any, error) {
	byID, byEmail := r.query.v.Has("userId"), r.query.v.Has("email")
	if byID == byEmail {
		return nil, badRequest("Please provide exactly one of userId or email")
	}
	if byID {
		u, err := scanUser(c.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM authcore.users WHERE id = $1`,
			r.query.v.Get("userId")))
		if err != nil {
			return nil, fmt.Errorf("get user: %w", err)
		}
		if u == nil {
			return status("UNKNOWN_USER_ID_ERROR"), nil
		}
		return ok("user", u), nil
	}
	u, err := scanUser(c.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM authcore.users WHERE tenant = $1 AND email = $2`,
		r.tenant, normaliseEmail(r.query.v.Get("email"))))
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if u == nil {
		return status("UNKNOWN_EMAIL_ERROR"), nil
	}
	return ok("user", u), nil
}

// PUT /recipe/user {userId, email?, password?}
func (c *Core) updateUser(ctx context.Context, r *request) (any, error) {
	userID, email, password := r.body.str("userId"), r.body.optStr("email"), r.body.optStr("password")
	if err := r.done(); err != nil {
		return nil, err
	}
	if email == nil && password == nil {
		return nil, badRequest("You have to provide either email or password.")
	}
	var hash *string
	if password != nil {
		h, err := c.hashPassword(*password)
		if err != nil {
			return nil, err
		}
		hash = &h
	}
	var newEmail *string
	if email != nil {
		e := normaliseEmail(*email)
		newEmail = &e
	}
	tag, err := c.pool.Exec(ctx, `UPDATE authcore.users
		SET email = coalesce($2, email), password_hash = coalesce($3, password_hash) WHERE id = $1`,
		userID, newEmail, hash)
	if postgres.IsUniqueViolation(err, "users_tenant_email") {
		return status("EMAIL_ALREADY_EXISTS_ERROR"), nil
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return status("UNKNOWN_USER_ID_ERROR"), nil
	}
	return ok(), nil
}

// POST /{t}/recipe/user/password/reset/token {userId}
func (c *Core) createResetToken(ctx context.Context, r *request) (any, error) {
	userID := r.body.str("userId")
	if err := r.done(); err != nil {
		return nil, err
	}
	token := newMailToken()
	tag, err := c.pool.Exec(ctx, `INSERT INTO authcore.reset_tokens (token_hash, user_id, tenant, expires_at)
		SELECT $1, id, tenant, $4 FROM authcore.users WHERE id = $2 AND tenant = $3`,
		hash(token), userID, r.tenant, c.now().Add(c.cfg.PasswordResetTokenLifetime))
	if err != nil {
		return nil, fmt.Errorf("create reset token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return status("UNKNOWN_USER_ID_ERROR"), nil
	}
	return ok("token", token), nil
}

// POST /{t}/recipe/user/password/reset {method: "token", token, newPassword}
func (c *Core) resetPassword(ctx context.Context, r *request) (any, error) {
	method, token, password := r.body.str("method"), r.body.str("token"), r.body.str("newPassword")
	if err := r.done(); err != nil {
		return nil, err
	}
	if method != "token" {
		return nil, badRequest("Unsupported method for password reset")
	}
	invalid := status("RESET_PASSWORD_INVALID_TOKEN_ERROR")
	tokenHash := hash(token)
	// A cheap look first, so that an unknown or expired token costs no bcrypt.
	var expires time.Time
	err := c.pool.QueryRow(ctx, `SELECT expires_at FROM authcore.reset_tokens WHERE token_hash = $1 AND tenant = $2`,
		tokenHash, r.tenant).Scan(&expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	if !c.now().Before(expires) {
		return invalid, nil
	}
	newHash, err := c.hashPassword(password)
	if err != nil {
		return nil, err
	}

	var userID string
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		// Deleting the token is what consumes it: of two concurrent resets one finds it gone.
		err := tx.QueryRow(ctx, `DELETE FROM authcore.reset_tokens WHERE token_hash = $1 AND tenant = $2 AND expires_at > $3
			RETURNING user_id`, tokenHash, r.tenant, c.now()).Scan(&userID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM authcore.reset_tokens WHERE user_id = $1`, userID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE authcore.users SET password_hash = $2 WHERE id = $1`, userID, newHash)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	return ok("userId", userID), nil
}

// newMailToken makes a token that travels in a link: 384 random bits, URL-safe.
func newMailToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
