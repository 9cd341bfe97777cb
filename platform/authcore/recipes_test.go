package authcore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func (e *env) signIn(t *testing.T, email, password string) any {
	t.Helper()
	return e.call(t, "POST", "/public/recipe/signin", map[string]any{"email": email, "password": password}).obj["status"]
}

func (e *env) resetToken(t *testing.T, userID string) string {
	t.Helper()
	return str(t, e.call(t, "POST", "/public/recipe/user/password/reset/token", map[string]any{"userId": userID}).ok(t), "token")
}

func (e *env) reset(t *testing.T, token, password string) any {
	t.Helper()
	return e.call(t, "POST", "/public/recipe/user/password/reset",
		map[string]any{"method": "token", "token": token, "newPassword": password}).obj["status"]
}

func TestPasswordHashes(t *testing.T) {
	e := newEnv(t)
	id := e.signUp(t, "hash@example.com", "pw-123456")
	var stored string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT password_hash FROM authcore.users WHERE id = $1`, id).Scan(&stored))
	assert.True(t, strings.HasPrefix(stored, "$2a$04$"), "bcrypt $2a$ at the configured cost: %s", stored)

	// bcrypt reads 72 bytes; like the real core, the rest is ignored rather than refused.
	long := strings.Repeat("p", 72)
	e.signUp(t, "long@example.com", long+"-tail-one")
	assert.Equal(t, "OK", e.signIn(t, "long@example.com", long+"-tail-one"))
	assert.Equal(t, "OK", e.signIn(t, "long@example.com", long+"-tail-two"))
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", e.signIn(t, "long@example.com", long[:71]))

	// A hash the real core made (any $2a$ bcrypt) signs in: users can move between cores.
	imported, err := bcrypt.GenerateFromPassword([]byte("from-java"), 10)
	require.NoError(t, err)
	_, err = e.pool.Exec(context.Background(), `UPDATE authcore.users SET password_hash = $2 WHERE id = $1`, id, string(imported))
	require.NoError(t, err)
	assert.Equal(t, "OK", e.signIn(t, "HASH@example.com", "from-java"))
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	id := e.signUp(t, "reset@example.com", "pw-old-1")
	handle := str(t, e.session(t, id, nil, false), "session.handle")

	// Stored hashed.
	tok := e.resetToken(t, id)
	assert.Zero(t, e.count(t, `SELECT count(*) FROM authcore.reset_tokens WHERE token_hash = $1`, tok))
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM authcore.reset_tokens WHERE token_hash = $1`, sha(tok)))

	// Expired after an hour.
	e.clock.Advance(time.Hour + time.Second)
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", e.reset(t, tok, "pw-new-1"))
	e.clock.Set(0)

	// Consuming one token spends every token of the user.
	first, second := e.resetToken(t, id), e.resetToken(t, id)
	assert.Equal(t, "OK", e.reset(t, first, "pw-new-1"))
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", e.reset(t, first, "pw-new-2"), "single use")
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", e.reset(t, second, "pw-new-2"), "siblings are spent")
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", e.signIn(t, "reset@example.com", "pw-old-1"))
	assert.Equal(t, "OK", e.signIn(t, "reset@example.com", "pw-new-1"))

	assert.Zero(t, e.count(t, `SELECT count(*) FROM authcore.reset_tokens`))
	// Sessions survive a reset: the core does not revoke, the app decides.
	e.call(t, "GET", "/recipe/session?sessionHandle="+handle, nil).ok(t)
}

func TestUpdateEmailAndVerification(t *testing.T) {
	e := newEnv(t)
	id := e.signUp(t, "first@example.com", "pw-123456")
	e.signUp(t, "taken@example.com", "pw-123456")
	isVerified := func(email string) any {
		return e.call(t, "GET", "/recipe/user/email/verify?userId="+id+"&email="+email, nil).ok(t)["isVerified"]
	}
	evToken := func(email string) reply {
		return e.call(t, "POST", "/public/recipe/user/email/verify/token", map[string]any{"userId": id, "email": email})
	}
	verify := func(token string) any {
		return e.call(t, "POST", "/public/recipe/user/email/verify", map[string]any{"method": "token", "token": token}).obj["status"]
	}

	// Verification tokens expire after 24 h and are stored hashed.
	expired := str(t, evToken("first@example.com").ok(t), "token")
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM authcore.ev_tokens WHERE token_hash = $1`, sha(expired)))
	e.clock.Advance(24*time.Hour + time.Second)
	assert.Equal(t, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR", verify(expired))
	e.clock.Set(0)

	a, b := str(t, evToken("first@example.com").ok(t), "token"), str(t, evToken("first@example.com").ok(t), "token")
	assert.Equal(t, "OK", verify(a))
	assert.Equal(t, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR", verify(b), "verifying spends the other tokens")
	assert.Equal(t, true, isVerified("first@example.com"))

	// Email changes: normalised, unique, and the new address is unverified.
	assert.Equal(t, "EMAIL_ALREADY_EXISTS_ERROR", e.call(t, "PUT", "/recipe/user", map[string]any{"userId": id, "email": " Taken@Example.com"}).obj["status"])
	e.call(t, "PUT", "/recipe/user", map[string]any{"userId": id, "email": " Second@Example.com "}).ok(t)
	assert.Equal(t, "second@example.com", str(t, e.call(t, "GET", "/recipe/user?userId="+id, nil).ok(t), "user.email"))
	assert.Equal(t, false, isVerified("second@example.com"))
	assert.Equal(t, "OK", e.signIn(t, "second@example.com", "pw-123456"))
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", e.signIn(t, "first@example.com", "pw-123456"))

	// Removing tokens, then a token for a verified address.
	tok := str(t, evToken("second@example.com").ok(t), "token")
	e.call(t, "POST", "/public/recipe/user/email/verify/token/remove", map[string]any{"userId": id, "email": "second@example.com"}).ok(t)
	assert.Equal(t, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR", verify(tok))
	assert.Equal(t, "EMAIL_ALREADY_VERIFIED_ERROR", evToken("first@example.com").obj["status"])
}

func TestRolesAndPermissions(t *testing.T) {
	e := newEnv(t)
	put := func(role string, perms []string) any {
		return e.call(t, "PUT", "/recipe/role", map[string]any{"role": role, "permissions": perms}).ok(t)["createdNewRole"]
	}
	perms := func(role string) any {
		return e.call(t, "GET", "/recipe/role/permissions?role="+role, nil).ok(t)["permissions"]
	}
	assert.Equal(t, true, put("editor", nil))
	assert.Equal(t, []any{}, perms("editor"))
	assert.Equal(t, false, put("editor", []string{"write", "read", "read"}))
	assert.Equal(t, []any{"read", "write"}, perms("editor"))
	e.call(t, "POST", "/recipe/role/permissions/remove", map[string]any{"role": "editor", "permissions": nil}).ok(t)
	assert.Equal(t, []any{}, perms("editor"), "null removes every permission")

	add := func(user, role string) any {
		return e.call(t, "PUT", "/public/recipe/user/role", map[string]any{"userId": user, "role": role}).ok(t)["didUserAlreadyHaveRole"]
	}
	assert.Equal(t, false, add("u1", "editor"))
	assert.Equal(t, true, add("u1", "editor"))
	add("u2", "editor")
	assert.Equal(t, []any{"u1", "u2"}, e.call(t, "GET", "/public/recipe/role/users?role=editor", nil).ok(t)["users"])

	// Deleting a role takes it from its users.
	assert.Equal(t, true, e.call(t, "POST", "/recipe/role/remove", map[string]any{"role": "editor"}).ok(t)["didRoleExist"])
	assert.Equal(t, false, e.call(t, "POST", "/recipe/role/remove", map[string]any{"role": "editor"}).ok(t)["didRoleExist"])
	assert.Equal(t, []any{}, e.call(t, "GET", "/public/recipe/user/roles?userId=u1", nil).ok(t)["roles"])
}

func TestMetadataMerge(t *testing.T) {
	e := newEnv(t)
	update := func(m map[string]any) any {
		return e.call(t, "PUT", "/recipe/user/metadata", map[string]any{"userId": "u", "metadataUpdate": m}).ok(t)["metadata"]
	}
	assert.Equal(t, map[string]any{"a": float64(1), "nested": map[string]any{"x": float64(1), "y": float64(2)}},
		update(map[string]any{"a": 1, "nested": map[string]any{"x": 1, "y": 2}, "gone": nil}))
	// Shallow: a nested object is replaced, not merged; a top-level null deletes.
	assert.Equal(t, map[string]any{"nested": map[string]any{"z": nil}, "b": "two"},
		update(map[string]any{"a": nil, "nested": map[string]any{"z": nil}, "b": "two"}))
	assert.Equal(t, map[string]any{"nested": map[string]any{"z": nil}, "b": "two"},
		e.call(t, "GET", "/recipe/user/metadata?userId=u", nil).ok(t)["metadata"])
	e.call(t, "POST", "/recipe/user/metadata/remove", map[string]any{"userId": "u"}).ok(t)
	assert.Equal(t, map[string]any{}, e.call(t, "GET", "/recipe/user/metadata?userId=u", nil).ok(t)["metadata"])
}

func TestDeleteUserRemovesEverything(t *testing.T) {
	e := newEnv(t)
	id := e.signUp(t, "gone@example.com", "pw-123456")
	keep := e.signUp(t, "kept@example.com", "pw-123456")
	for _, user := range []string{id, keep} {
		e.session(t, user, nil, false)
		e.resetToken(t, user)
		email := str(t, e.call(t, "GET", "/recipe/user?userId="+user, nil).ok(t), "user.email")
		tok := str(t, e.call(t, "POST", "/public/recipe/user/email/verify/token", map[string]any{"userId": user, "email": email}).ok(t), "token")
		e.call(t, "POST", "/public/recipe/user/email/verify", map[string]any{"method": "token", "token": tok}).ok(t)
		e.call(t, "POST", "/public/recipe/user/email/verify/token", map[string]any{"userId": user, "email": "other@example.com"}).ok(t)
		e.call(t, "PUT", "/recipe/role", map[string]any{"role": "member", "permissions": nil}).ok(t)
		e.call(t, "PUT", "/public/recipe/user/role", map[string]any{"userId": user, "role": "member"}).ok(t)
		e.call(t, "PUT", "/recipe/user/metadata", map[string]any{"userId": user, "metadataUpdate": map[string]any{"a": 1}}).ok(t)
	}
	e.call(t, "POST", "/user/remove", map[string]any{"userId": id}).ok(t)
	for _, table := range []string{"sessions", "ev_tokens", "verified_emails", "reset_tokens", "user_roles", "user_metadata"} {
		assert.Zero(t, e.count(t, `SELECT count(*) FROM authcore.`+table+` WHERE user_id = $1`, id), table)
		assert.NotZero(t, e.count(t, `SELECT count(*) FROM authcore.`+table+` WHERE user_id = $1`, keep), table)
	}
	assert.Equal(t, "UNKNOWN_USER_ID_ERROR", e.call(t, "GET", "/recipe/user?userId="+id, nil).obj["status"])
	assert.Equal(t, float64(1), e.call(t, "GET", "/public/users/count", nil).ok(t)["count"])
	assert.Equal(t, float64(0), e.call(t, "GET", "/public/users/count?includeRecipeIds=thirdparty", nil).ok(t)["count"])
}

func TestMigrationsUpDownUp(t *testing.T) {
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, pgtest.Empty(t), 2)
	require.NoError(t, err)
	defer pool.Close()
	m, err := postgres.NewMigrator(pool, authcore.Migrations(), logging.Discard())
	require.NoError(t, err)
	defer m.Close()
	schema := func() bool {
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'authcore')`).Scan(&ok))
		return ok
	}
	n, err := m.Up(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, schema())
	_, err = authcore.New(ctx, pool, authcore.Config{})
	require.NoError(t, err)
	require.NoError(t, m.Reset(ctx))
	assert.False(t, schema())
	n, err = m.Up(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NotEqual(t, postgres.MainMigrations(nil).LockID, authcore.Migrations().LockID)
	assert.NotEqual(t, postgres.MainMigrations(nil).VersionTable, authcore.Migrations().VersionTable)
}

func TestConfigValidation(t *testing.T) {
	pool, _ := pgtest.NewWith(t, authcore.Migrations())
	for name, cfg := range map[string]authcore.Config{
		"bcrypt cost":       {BcryptCost: 40},
		"short validity":    {AccessTokenValidity: time.Millisecond},
		"empty api key":     {APIKeys: []string{""}},
		"negative rotation": {SigningKeyRotation: -time.Hour},
	} {
		_, err := authcore.New(context.Background(), pool, cfg)
		assert.Error(t, err, name)
	}
}
