package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

const mailWait = 20 * time.Second

// TestSignUpVerifyAndSignIn is the first journey: sign-up → verification mail → verify →
// sign-in in header mode, with the account in every answer.
func TestSignUpVerifyAndSignIn(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	c := srv.Client(t)
	email := harness.UniqueEmail("sara")

	body := c.SignUp(harness.SignUpFields(strings.ToUpper(email)))
	user := body["user"].(map[string]any)
	org := body["organization"].(map[string]any)
	assert.Equal(t, email, user["email"], "emails are normalised")
	assert.Equal(t, "admin", user["role"], "the founder is the organization's admin")
	assert.Equal(t, false, user["emailVerified"])
	assert.Equal(t, org["id"], user["organizationId"])
	assert.Equal(t, user["id"], org["adminUserId"])
	assert.Equal(t, "example.com", org["domain"], "the organization's domain is the email's")
	assert.Equal(t, "medium", org["size"])
	require.NotEmpty(t, c.AccessToken, "header mode hands out the access token")

	// Unverified users can read their account after a reload.
	me := c.Do(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, me.Status, me.String())
	assert.Equal(t, false, me.JSON()["user"].(map[string]any)["emailVerified"])

	msg := env.Mail.Wait(t, email, "Confirm your email", mailWait)
	require.Len(t, msg.Links, 1)
	assert.Contains(t, msg.Text, "Hello Sara")
	assert.True(t, strings.HasPrefix(msg.Links[0], "http://localhost:5173/auth/verify-email?token="))

	res := c.Do(http.MethodPost, "/auth/user/email/verify", map[string]any{"method": "token", "token": seed.TokenOf(t, msg.Links[0])})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "OK", res.JSON()["status"])

	// A used token does not work twice.
	res = c.Do(http.MethodPost, "/auth/user/email/verify", map[string]any{"method": "token", "token": seed.TokenOf(t, msg.Links[0])})
	assert.Equal(t, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR", res.JSON()["status"])

	fresh := srv.Client(t)
	body = fresh.SignIn(email, "Str0ng-pass")
	assert.Equal(t, true, body["user"].(map[string]any)["emailVerified"])
	assert.Equal(t, org["id"], body["organization"].(map[string]any)["id"])
	me = fresh.Do(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, me.Status)
	assert.Equal(t, true, me.JSON()["user"].(map[string]any)["emailVerified"])
	assert.NotNil(t, me.JSON()["user"].(map[string]any)["lastLogin"])
}

func TestArabicVerificationMail(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	email := harness.UniqueEmail("noura")
	fields := harness.SignUpFields(email)
	fields["firstName"] = "نورة"
	fields["languagePreference"] = "ar"
	srv.Client(t).SignUp(fields)
	msg := env.Mail.Wait(t, email, "تأكيد بريدك الإلكتروني", mailWait)
	assert.Contains(t, msg.Text, "مرحباً نورة")
	assert.Len(t, msg.Links, 1)
}

func TestCookieModeWithAntiCSRF(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_AUTH_ANTI_CSRF=VIA_TOKEN")
	email := harness.UniqueEmail("cookie")
	srv.Client(t).SignUp(harness.SignUpFields(email))

	c := srv.CookieClient(t)
	c.SignIn(email, "Str0ng-pass")
	assert.Empty(t, c.AccessToken, "cookie mode keeps tokens out of headers")
	require.NotEmpty(t, c.AntiCSRF, "VIA_TOKEN hands out an anti-csrf token")

	res := c.Do(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, res.Status, "the sAccessToken cookie authenticates")

	anti := c.AntiCSRF
	c.AntiCSRF = ""
	res = c.Do(http.MethodPost, "/auth/signout", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "a write without the anti-csrf header is refused: %s", res)
	res = c.Do(http.MethodPatch, "/api/v1/me", map[string]any{"bio": "x"})
	assert.Equal(t, http.StatusUnauthorized, res.Status, res.String())
	assert.Equal(t, "unauthorized", res.JSON()["code"], "not token_expired: a refresh does not add the missing header")
	assert.Contains(t, res.JSON()["detail"], "anti-CSRF")

	c.AntiCSRF = anti
	res = c.Do(http.MethodPost, "/auth/signout", nil)
	assert.Equal(t, http.StatusOK, res.Status, res.String())
	res = c.Do(http.MethodGet, "/api/v1/me", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "sign-out clears the cookies")
}

func TestRefreshRotationAndTheftDetection(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	email := harness.UniqueEmail("rotate")
	c := srv.Client(t)
	c.SignUp(harness.SignUpFields(email))

	firstAccess, firstRefresh := c.AccessToken, c.RefreshToken
	res := c.Refresh()
	require.Equal(t, http.StatusOK, res.Status, res.String())
	require.NotEqual(t, firstRefresh, c.RefreshToken, "refresh rotates the refresh token")
	require.NotEqual(t, firstAccess, c.AccessToken)

	// The first request with the new access token commits the rotation.
	res = c.Do(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())

	// Replaying the replaced refresh token is theft: 401 and the session is revoked.
	thief := srv.Client(t)
	thief.RefreshToken = firstRefresh
	res = thief.Refresh()
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Contains(t, string(res.Body), "token theft detected")

	res = c.Refresh()
	assert.Equal(t, http.StatusUnauthorized, res.Status, "the legitimate refresh token died with the session: %s", res)
}

func TestSignOutEndsTheSession(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	c := srv.Client(t)
	c.SignUp(harness.SignUpFields(harness.UniqueEmail("out")))
	refresh := c.RefreshToken
	res := c.Do(http.MethodPost, "/auth/signout", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	c.RefreshToken = refresh
	res = c.Refresh()
	assert.Equal(t, http.StatusUnauthorized, res.Status, "a signed-out session cannot be refreshed")
}

func TestPasswordReset(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	conn := db(t, env)
	email := harness.UniqueEmail("reset")
	c := srv.Client(t)
	c.SignUp(harness.SignUpFields(email))
	oldRefresh := c.RefreshToken

	resets := func() []string {
		var links []string
		for _, m := range env.Mail.Messages() {
			if strings.Contains(m.To, email) && strings.Contains(m.Subject, "Reset your") {
				links = append(links, m.Links[0])
			}
		}
		return links
	}
	ask := func() string {
		t.Helper()
		before := len(resets())
		res := srv.Client(t).Do(http.MethodPost, "/auth/user/password/reset/token", harness.Form(map[string]any{"email": email}))
		require.Equal(t, "OK", res.JSON()["status"], res.String())
		require.Eventually(t, func() bool { return len(resets()) > before }, mailWait, 20*time.Millisecond)
		links := resets()
		return seed.TokenOf(t, links[len(links)-1])
	}
	reset := func(token, password string) map[string]any {
		t.Helper()
		return srv.Client(t).Do(http.MethodPost, "/auth/user/password/reset", map[string]any{
			"method": "token", "token": token,
			"formFields": []map[string]any{{"id": "password", "value": password}},
		}).JSON()
	}

	// An unknown address answers the same, and nothing is sent.
	res := srv.Client(t).Do(http.MethodPost, "/auth/user/password/reset/token", harness.Form(map[string]any{"email": "nobody@example.com"}))
	assert.Equal(t, "OK", res.JSON()["status"])

	// An expired token is refused.
	expired := ask()
	_, err := conn.Exec(context.Background(), `UPDATE authcore.reset_tokens SET expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", reset(expired, "N3w-password")["status"])

	token := ask()
	assert.Equal(t, "FIELD_ERROR", reset(token, "short")["status"], "the password policy applies")
	assert.Equal(t, "OK", reset(token, "N3w-password")["status"])
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", reset(token, "An0ther-pass")["status"], "tokens are single-use")

	// Every session of the user was revoked.
	c.RefreshToken = oldRefresh
	assert.Equal(t, http.StatusUnauthorized, c.Refresh().Status)

	res = srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": email, "password": "Str0ng-pass"}))
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", res.JSON()["status"])
	srv.Client(t).SignIn(email, "N3w-password")
}

func TestDuplicateEmail(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	email := harness.UniqueEmail("dup")
	srv.Client(t).SignUp(harness.SignUpFields(email))
	res := srv.Client(t).Do(http.MethodPost, "/auth/signup", harness.Form(harness.SignUpFields(strings.ToUpper(email))))
	body := res.JSON()
	assert.Equal(t, "FIELD_ERROR", body["status"])
	assert.Contains(t, res.String(), `"id":"email"`)

	var orgs int
	require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT count(*) FROM organizations`).Scan(&orgs))
	assert.Equal(t, 1, orgs)
}

func TestInvalidSignUpFields(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	tests := []struct {
		field string
		value any
	}{
		{"email", "not-an-email"},
		{"password", "password"},         // no digit
		{"password", "Sara-Al-Faisal1x"}, // fine, but see the next one
		{"firstName", ""},
		{"lastName", strings.Repeat("x", 51)},
		{"organizationName", "A"},
		{"industry", "Mining"},
		{"organizationSize", "huge"},
		{"city", "Paris"}, // not a Saudi city while the country is Saudi Arabia
		{"country", "X"},
		{"languagePreference", "fr"},
		{"firstName", 42},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			fields := harness.SignUpFields(harness.UniqueEmail("bad"))
			fields[tt.field] = tt.value
			res := srv.Client(t).Do(http.MethodPost, "/auth/signup", harness.Form(fields))
			require.Equal(t, http.StatusOK, res.Status, res.String())
			body := res.JSON()
			if tt.value == "Sara-Al-Faisal1x" {
				assert.Equal(t, "OK", body["status"], "a valid password passes")
				return
			}
			require.Equal(t, "FIELD_ERROR", body["status"], res.String())
			errs := body["formFields"].([]any)
			require.Len(t, errs, 1, "only the bad field is reported: %s", res)
			assert.Equal(t, tt.field, errs[0].(map[string]any)["id"])
			assert.NotEmpty(t, errs[0].(map[string]any)["error"])
		})
	}

	t.Run("every mistake at once", func(t *testing.T) {
		fields := harness.SignUpFields("bad")
		fields["industry"], fields["city"] = "Mining", "X"
		delete(fields, "lastName")
		res := srv.Client(t).Do(http.MethodPost, "/auth/signup", harness.Form(fields))
		body := res.JSON()
		require.Equal(t, "FIELD_ERROR", body["status"], res.String())
		var ids []string
		for _, e := range body["formFields"].([]any) {
			ids = append(ids, e.(map[string]any)["id"].(string))
		}
		assert.ElementsMatch(t, []string{"email", "lastName", "industry", "city"}, ids)
	})

	t.Run("the organization's fields are required without an invitation", func(t *testing.T) {
		fields := harness.SignUpFields(harness.UniqueEmail("noorg"))
		delete(fields, "organizationName")
		delete(fields, "industry")
		res := srv.Client(t).Do(http.MethodPost, "/auth/signup", harness.Form(fields))
		body := res.JSON()
		require.Equal(t, "FIELD_ERROR", body["status"], res.String())
		var ids []string
		for _, e := range body["formFields"].([]any) {
			ids = append(ids, e.(map[string]any)["id"].(string))
		}
		assert.ElementsMatch(t, []string{"organizationName", "industry"}, ids)
	})

	t.Run("malformed bodies", func(t *testing.T) {
		for _, body := range []string{`{"formFields":`, `[]`, `{"formFields":"x"}`} {
			res := srv.Client(t).Do(http.MethodPost, "/auth/signup", body)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%s → %s", body, res)
		}
		res := srv.Client(t).Do(http.MethodPost, "/auth/signup", strings.Repeat(" ", 2<<20))
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	})

	var users int
	require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&users))
	assert.Equal(t, 1, users, "only the valid sign-up created anything")
}

// TestFailedSignUpLeavesNothing breaks the transaction after the core accepted the credentials
// (our copy already holds the address) and checks that the core's user is gone too.
func TestFailedSignUpLeavesNothing(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	conn := db(t, env)
	ctx := context.Background()
	email := harness.UniqueEmail("ghost")
	srv.Client(t).SignUp(harness.SignUpFields(email))
	// Remove the user from the core only, as a failed earlier clean-up would leave it.
	_, err := conn.Exec(ctx, `DELETE FROM authcore.users WHERE email = $1`, email)
	require.NoError(t, err)

	res := srv.Client(t).Do(http.MethodPost, "/auth/signup", harness.Form(harness.SignUpFields(email)))
	assert.Equal(t, "FIELD_ERROR", res.JSON()["status"], res.String())

	var coreUsers, orgs int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM authcore.users WHERE email = $1`, email).Scan(&coreUsers))
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM organizations`).Scan(&orgs))
	assert.Zero(t, coreUsers, "the core user of the failed sign-up was removed")
	assert.Equal(t, 1, orgs, "no second organization")
	exists := srv.Client(t).Do(http.MethodGet, "/auth/signup/email/exists?email="+email, nil).JSON()
	assert.Equal(t, false, exists["exists"])
}

// TestRolesAndSharedCore runs two nodes on one standalone core: a session made on one node works
// on the other, and a member gets 403 where an admin gets 200.
func TestRolesAndSharedCore(t *testing.T) {
	env := harness.NewEnv(t)
	core := env.StartCore(t)
	node1, node2 := env.Start(t), env.Start(t)

	admin := node1.Client(t)
	admin.SignUp(harness.SignUpFields(harness.UniqueEmail("admin")))
	admin.Base = node2.URL
	res := admin.Do(http.MethodGet, "/api/v1/organizations/current/users", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Len(t, res.JSON()["items"].([]any), 1)

	// Turn a second founder into a plain member, in the core and in our copy.
	email := harness.UniqueEmail("member")
	body := node1.Client(t).SignUp(harness.SignUpFields(email))
	id := body["user"].(map[string]any)["id"].(string)
	core.Call(t, http.MethodPut, "/public/recipe/user/role", "userroles", map[string]any{"userId": id, "role": "member"})
	core.Call(t, http.MethodPost, "/public/recipe/user/role/remove", "userroles", map[string]any{"userId": id, "role": "admin"})
	_, err := db(t, env).Exec(context.Background(), `UPDATE users SET role = 'member' WHERE id = $1`, id)
	require.NoError(t, err)

	member := node2.Client(t)
	member.SignIn(email, "Str0ng-pass")
	res = member.Do(http.MethodGet, "/api/v1/organizations/current/users", nil)
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())
	assert.Equal(t, "forbidden", res.JSON()["code"])
	res = member.Do(http.MethodGet, "/api/v1/me", nil)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "member", res.JSON()["user"].(map[string]any)["role"])

	// No session at all is 401, not 403.
	res = node1.Client(t).Do(http.MethodGet, "/api/v1/organizations/current/users", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "unauthorized", res.JSON()["code"])
}

// TestForgedAccessTokenMeansSignIn: the SDK answers "try refresh" for a forged signature as for
// an expired token; only the expired one is told to refresh (auth.refreshError; an expired token
// is refused with token_expired in test/socketio/expiry.test.mjs, which waits out its minute).
func TestForgedAccessTokenMeansSignIn(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	c := srv.Client(t)
	c.SignUp(harness.SignUpFields(harness.UniqueEmail("forged")))
	parts := strings.Split(c.AccessToken, ".")
	c.AccessToken = parts[0] + "." + parts[1] + ".AAAA"
	res := c.Do(http.MethodGet, "/api/v1/me", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "unauthorized", res.JSON()["code"], res.String())
}

func TestSignInLockout(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_AUTH_SIGNIN_MAX_ATTEMPTS=3")
	email := harness.UniqueEmail("locked")
	srv.Client(t).SignUp(harness.SignUpFields(email))
	wrong := harness.Form(map[string]any{"email": email, "password": "Wr0ng-pass"})

	for i := range 3 {
		res := srv.Client(t).Do(http.MethodPost, "/auth/signin", wrong)
		require.Equal(t, "WRONG_CREDENTIALS_ERROR", res.JSON()["status"], "attempt %d: %s", i+1, res)
	}
	res := srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": email, "password": "Str0ng-pass"}))
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "locked even with the right password")
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After is whole seconds")
	assert.Greater(t, retry, 0)
	assert.Equal(t, "rate_limited", res.JSON()["code"])

	// Another account from the same address is still allowed (the address budget is larger).
	other := harness.UniqueEmail("other")
	srv.Client(t).SignUp(harness.SignUpFields(other))
	srv.Client(t).SignIn(other, "Str0ng-pass")

	// The address budget (4 × 3 failures) runs out too: 3 were spent above, and each new
	// address below can fail without hitting its own account limit.
	for i := range 9 {
		res := srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": harness.UniqueEmail("guess"), "password": "Wr0ng-pass"}))
		require.Equal(t, "WRONG_CREDENTIALS_ERROR", res.JSON()["status"], "guess %d: %s", i+1, res)
	}
	res = srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": harness.UniqueEmail("third"), "password": "x1234567"}))
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "the address is locked out: %s", res)
}

func TestDeactivatedUserCannotSignIn(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	email := harness.UniqueEmail("gone")
	srv.Client(t).SignUp(harness.SignUpFields(email))
	_, err := db(t, env).Exec(context.Background(), `UPDATE users SET is_active = false WHERE email = $1`, email)
	require.NoError(t, err)
	res := srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": email, "password": "Str0ng-pass"}))
	body := res.JSON()
	assert.Equal(t, "GENERAL_ERROR", body["status"], res.String())
	assert.Contains(t, body["message"], "deactivated")
	res = srv.Client(t).Do(http.MethodPost, "/auth/signin", harness.Form(map[string]any{"email": email, "password": "Wr0ng-pass"}))
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", res.JSON()["status"], "the wrong password tells nothing about the account")
}

// TestDevOutbox: /dev/outbox exists only when development endpoints are asked for; /metrics is
// not public on the serve port in production.
func TestDevOutbox(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_HTTP_DEV_ENDPOINTS=true")
	email := harness.UniqueEmail("outbox")
	srv.Client(t).SignUp(harness.SignUpFields(email))
	env.Mail.Wait(t, email, "Confirm", mailWait)
	res := srv.Client(t).Do(http.MethodGet, "/dev/outbox?to="+email, nil)
	require.Equal(t, http.StatusOK, res.Status)
	items := res.JSON()["items"].([]any)
	require.Len(t, items, 1)
	assert.Contains(t, items[0].(map[string]any)["links"].([]any)[0], "verify-email?token=")

	plain := env.Start(t)
	assert.Equal(t, http.StatusNotFound, plain.Client(t).Do(http.MethodGet, "/dev/outbox", nil).Status,
		"not without asking, whatever the environment")
	assert.Equal(t, http.StatusOK, plain.Client(t).Do(http.MethodGet, "/metrics", nil).Status, "open outside production")

	prod := env.Start(t, "P2P_ENV=production")
	assert.Equal(t, http.StatusNotFound, prod.Client(t).Do(http.MethodGet, "/dev/outbox", nil).Status)
	assert.Equal(t, http.StatusNotFound, prod.Client(t).Do(http.MethodGet, "/metrics", nil).Status, "not public in production")

	scraped := env.Start(t, "P2P_ENV=production", "P2P_HTTP_METRICS_TOKEN=scrape-0123456789")
	assert.Equal(t, http.StatusUnauthorized, scraped.Client(t).Do(http.MethodGet, "/metrics", nil).Status)
	res = scraped.Client(t).Do(http.MethodGet, "/metrics", nil, "Authorization: Bearer scrape-0123456789")
	assert.Equal(t, http.StatusOK, res.Status, "with the token")
	assert.Contains(t, string(res.Body), "hub_connected_sockets")
}
