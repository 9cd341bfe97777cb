package authcore_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/supertokens/supertokens-golang/ingredients/emaildelivery"
	"github.com/supertokens/supertokens-golang/recipe/emailpassword"
	"github.com/supertokens/supertokens-golang/recipe/emailpassword/epmodels"
	"github.com/supertokens/supertokens-golang/recipe/emailverification"
	"github.com/supertokens/supertokens-golang/recipe/emailverification/evmodels"
	"github.com/supertokens/supertokens-golang/recipe/session"
	"github.com/supertokens/supertokens-golang/recipe/session/claims"
	"github.com/supertokens/supertokens-golang/recipe/session/sessmodels"
	"github.com/supertokens/supertokens-golang/recipe/usermetadata"
	"github.com/supertokens/supertokens-golang/recipe/userroles"
	"github.com/supertokens/supertokens-golang/recipe/userroles/userrolesclaims"
	"github.com/supertokens/supertokens-golang/supertokens"
)

// These tests drive the real supertokens-golang SDK against the core, over HTTP, the way the
// frontend does. The SDK keeps its state in package variables, so they never run in parallel and
// each one resets the SDK when it ends (startApp registers that).

// mailbox records the links the SDK mails.
type mailbox struct {
	mu     sync.Mutex
	verify []string
	reset  []string
}

func (m *mailbox) send(input emaildelivery.EmailType, _ supertokens.UserContext) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if input.EmailVerification != nil {
		m.verify = append(m.verify, input.EmailVerification.EmailVerifyLink)
	}
	if input.PasswordReset != nil {
		m.reset = append(m.reset, input.PasswordReset.PasswordResetLink)
	}
	return nil
}

// lastToken is the token parameter of the newest link of a kind.
func (m *mailbox) lastToken(t *testing.T, reset bool) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	links := m.verify
	if reset {
		links = m.reset
	}
	require.NotEmpty(t, links, "a mail was sent")
	u, err := url.Parse(links[len(links)-1])
	require.NoError(t, err)
	tok := u.Query().Get("token")
	require.NotEmpty(t, tok)
	return tok
}

// app is an API server running the SDK against a core.
type app struct {
	*env
	base    string
	mail    *mailbox
	apiErrs chan error // errors the SDK could not answer itself (it then answers 500)
}

type appOptions struct {
	antiCSRF string // NONE (default) or VIA_TOKEN
	apiKey   string // default testAPIKey; "-" for none
}

func startApp(t *testing.T, e *env, opts appOptions) *app {
	t.Helper()
	a := &app{env: e, mail: &mailbox{}, apiErrs: make(chan error, 16)}
	srv := httptest.NewUnstartedServer(nil)
	a.base = "http://" + srv.Listener.Addr().String()

	anti := opts.antiCSRF
	if anti == "" {
		anti = "NONE"
	}
	key := opts.apiKey
	switch key {
	case "":
		key = testAPIKey
	case "-":
		key = ""
	}
	basePath := "/auth"
	telemetry := false
	send := a.mail.send
	delivery := func() *emaildelivery.TypeInput {
		return &emaildelivery.TypeInput{Service: &emaildelivery.EmailDeliveryInterface{SendEmail: &send}}
	}
	require.NoError(t, supertokens.Init(supertokens.TypeInput{
		Supertokens: &supertokens.ConnectionInfo{ConnectionURI: e.url, APIKey: key},
		AppInfo: supertokens.AppInfo{AppName: "authcore-test", APIDomain: a.base, WebsiteDomain: a.base,
			APIBasePath: &basePath, WebsiteBasePath: &basePath},
		Telemetry: &telemetry,
		OnSuperTokensAPIError: func(err error, _ *http.Request, w http.ResponseWriter) {
			a.apiErrs <- err
			w.WriteHeader(http.StatusInternalServerError)
		},
		RecipeList: []supertokens.Recipe{
			emailpassword.Init(&epmodels.TypeInput{EmailDelivery: delivery()}),
			emailverification.Init(evmodels.TypeInput{Mode: evmodels.ModeRequired, EmailDelivery: delivery()}),
			session.Init(&sessmodels.TypeInput{AntiCsrf: &anti}),
			userroles.Init(nil),
			usermetadata.Init(nil),
		},
	}))
	t.Cleanup(func() {
		// The SDK's JWKS cache runs a keyfunc goroutine that ResetForTest does not stop.
		if jwks, err := session.GetCombinedJWKS(); err == nil && jwks != nil {
			jwks.EndBackground()
		}
		supertokens.ResetForTest()
		// ResetForTest keeps the API key: the next Init without a key would still send it.
		supertokens.QuerierAPIKey = nil
	})

	mux := http.NewServeMux()
	me := func(w http.ResponseWriter, r *http.Request) {
		s := session.GetSessionFromRequestContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"userId": s.GetUserID(), "handle": s.GetHandle(), "payload": s.GetAccessTokenPayload()})
	}
	mux.HandleFunc("/me", session.VerifySession(nil, me))
	checkDB := true
	mux.HandleFunc("/me/db", session.VerifySession(&sessmodels.VerifySessionOptions{CheckDatabase: &checkDB}, me))
	mux.HandleFunc("/admin", session.VerifySession(&sessmodels.VerifySessionOptions{
		OverrideGlobalClaimValidators: func(global []claims.SessionClaimValidator, _ sessmodels.SessionContainer, _ supertokens.UserContext) ([]claims.SessionClaimValidator, error) {
			return append(global,
				userrolesclaims.UserRoleClaimValidators.Includes("admin", nil, nil),
				userrolesclaims.PermissionClaimValidators.Includes("read", nil, nil)), nil
		},
	}, me))
	srv.Config.Handler = supertokens.Middleware(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	return a
}

// frontend is a browser: it keeps the tokens the way supertokens-website does, in headers
// (header mode) or in a cookie jar (cookie mode), and echoes the anti-CSRF token.
type frontend struct {
	t      *testing.T
	app    *app
	mode   string // header | cookie
	client *http.Client
	at, rt string // header mode
	anti   string
	front  string
}

func (a *app) frontend(t *testing.T, mode string) *frontend {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &frontend{t: t, app: a, mode: mode, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type answer struct {
	status int
	header http.Header
	obj    map[string]any
	raw    string
}

func (f *frontend) call(method, path string, body any) answer {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(f.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.app.base+path, rd)
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("st-auth-mode", f.mode)
	if f.mode == "header" {
		token := f.at
		if path == "/auth/session/refresh" {
			token = f.rt
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	if f.anti != "" && method != http.MethodGet {
		req.Header.Set("anti-csrf", f.anti)
	}
	resp, err := f.client.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.obj)

	// What supertokens-website does with the response headers.
	if v, ok := resp.Header[http.CanonicalHeaderKey("st-access-token")]; ok {
		f.at = v[0]
	}
	if v, ok := resp.Header[http.CanonicalHeaderKey("st-refresh-token")]; ok {
		f.rt = v[0]
	}
	if v := resp.Header.Get("anti-csrf"); v != "" {
		f.anti = v
	}
	if v := resp.Header.Get("front-token"); v != "" {
		f.front = v
	}
	return a
}

func form(fields ...string) map[string]any {
	var list []map[string]string
	for i := 0; i+1 < len(fields); i += 2 {
		list = append(list, map[string]string{"id": fields[i], "value": fields[i+1]})
	}
	return map[string]any{"formFields": list}
}

func (f *frontend) signUp(email, password string) answer {
	f.t.Helper()
	return f.call("POST", "/auth/signup", form("email", email, "password", password))
}

func (f *frontend) signIn(email, password string) answer {
	f.t.Helper()
	return f.call("POST", "/auth/signin", form("email", email, "password", password))
}

// signUpVerified signs up and verifies the email through the mailed link; it returns the user id.
func (f *frontend) signUpVerified(email, password string) string {
	f.t.Helper()
	r := f.signUp(email, password)
	require.Equal(f.t, http.StatusOK, r.status, r.raw)
	require.Equal(f.t, "OK", r.obj["status"], r.raw)
	id := r.obj["user"].(map[string]any)["id"].(string)

	got := f.call("GET", "/me", nil)
	require.Equal(f.t, http.StatusForbidden, got.status, "email verification is required: %s", got.raw)
	assert.Equal(f.t, "invalid claim", got.obj["message"])

	r = f.call("POST", "/auth/user/email/verify/token", nil)
	require.Equal(f.t, "OK", r.obj["status"], r.raw)
	r = f.call("POST", "/auth/user/email/verify", map[string]any{"method": "token", "token": f.app.mail.lastToken(f.t, false)})
	require.Equal(f.t, "OK", r.obj["status"], r.raw)
	got = f.call("GET", "/me", nil)
	require.Equal(f.t, http.StatusOK, got.status, "verified now: %s", got.raw)
	return id
}

func (f *frontend) payload() map[string]any {
	f.t.Helper()
	r := f.call("GET", "/me", nil)
	require.Equal(f.t, http.StatusOK, r.status, r.raw)
	return r.obj["payload"].(map[string]any)
}

func (a *app) sessions(t *testing.T) int { return a.count(t, `SELECT count(*) FROM authcore.sessions`) }

func TestSDKHeaderModeRefreshAndTheft(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	f := a.frontend(t, "header")
	f.signUpVerified("header@example.com", "pass-word-1")

	r := f.signIn("HEADER@example.com", "pass-word-1")
	require.Equal(t, "OK", r.obj["status"], r.raw)
	assert.NotEmpty(t, f.at)
	assert.NotEmpty(t, f.front)
	assert.Empty(t, r.header.Get("anti-csrf"), "no anti-CSRF token by default")
	p := f.payload()
	assert.Equal(t, true, p["st-ev"].(map[string]any)["v"])
	assert.Nil(t, p["parentRefreshTokenHash1"])
	handle := p["sessionHandle"].(string)
	rt0, at0 := f.rt, f.at

	// Refresh: new tokens; the new access token names its parent until it is first used.
	r = f.call("POST", "/auth/session/refresh", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotEqual(t, rt0, f.rt)
	assert.NotEqual(t, at0, f.at)
	_, refreshed, _ := decodeJWT(t, f.at)
	assert.Equal(t, sha(rt0), refreshed["parentRefreshTokenHash1"])

	// First use: the SDK calls verify, the core promotes, the response carries the new token.
	r = f.call("GET", "/me", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.NotEmpty(t, r.header.Get("st-access-token"), "the promoted token is sent to the client")
	_, promoted, _ := decodeJWT(t, f.at)
	assert.Nil(t, promoted["parentRefreshTokenHash1"])
	assert.Equal(t, refreshed["refreshTokenHash1"], promoted["refreshTokenHash1"])
	r = f.call("GET", "/me", nil)
	assert.Empty(t, r.header.Get("st-access-token"), "no core call for a promoted token")

	// Replaying the replaced refresh token: theft, and the SDK revokes the session.
	current := f.rt
	f.rt = rt0
	r = f.call("POST", "/auth/session/refresh", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	assert.Equal(t, "token theft detected", r.obj["message"])
	assert.Equal(t, "remove", r.header.Get("front-token"))
	f.rt = current
	r = f.call("POST", "/auth/session/refresh", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status, "the session is gone: %s", r.raw)
	assert.Zero(t, a.count(t, `SELECT count(*) FROM authcore.sessions WHERE handle = $1`, handle))
}

func TestSDKCookieModeAntiCSRF(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{antiCSRF: "VIA_TOKEN"})
	f := a.frontend(t, "cookie")
	f.signUpVerified("cookie@example.com", "pass-word-1")
	r := f.signIn("cookie@example.com", "pass-word-1")
	require.Equal(t, "OK", r.obj["status"], r.raw)
	assert.Empty(t, r.header.Get("st-access-token"), "cookie mode")
	require.NotEmpty(t, r.header.Get("anti-csrf"))
	cookies := map[string]bool{}
	for _, c := range r.header.Values("Set-Cookie") {
		cookies[strings.SplitN(c, "=", 2)[0]] = true
	}
	assert.True(t, cookies["sAccessToken"] && cookies["sRefreshToken"], r.header.Values("Set-Cookie"))

	// Non-GET requests need the anti-CSRF header.
	assert.Equal(t, http.StatusOK, f.call("POST", "/me", nil).status)
	anti := f.anti
	f.anti = ""
	r = f.call("POST", "/me", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "try refresh token", r.obj["message"])
	f.anti = anti

	// Refresh with the header: new anti-CSRF token; the next request promotes the refresh.
	r = f.call("POST", "/auth/session/refresh", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotEqual(t, anti, f.anti)
	r = f.call("POST", "/me", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Contains(t, strings.Join(r.header.Values("Set-Cookie"), ";"), "sAccessToken=", "the promoted token is set")

	// Refresh without it: the core refuses and the SDK clears the session.
	f.anti = ""
	r = f.call("POST", "/auth/session/refresh", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status, r.raw)
}

func TestSDKSignOut(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	f := a.frontend(t, "header")
	f.signUpVerified("out@example.com", "pass-word-1")
	at, rt := f.at, f.rt

	r := f.call("POST", "/auth/signout", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 0, a.sessions(t))

	// The access token stays valid until it expires (stateless), except where a route checks.
	f.at, f.rt = at, rt
	assert.Equal(t, http.StatusOK, f.call("GET", "/me", nil).status)
	assert.Equal(t, http.StatusUnauthorized, f.call("GET", "/me/db", nil).status)
	f.at, f.rt = at, rt
	assert.Equal(t, http.StatusUnauthorized, f.call("POST", "/auth/session/refresh", nil).status)
}

func TestSDKAccessTokenExpiry(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	f := a.frontend(t, "header")
	f.signUpVerified("expiry@example.com", "pass-word-1")

	// A token the core issued two hours ago has expired for the SDK's clock.
	a.clock.Set(-2 * time.Hour)
	require.Equal(t, "OK", f.signIn("expiry@example.com", "pass-word-1").obj["status"])
	a.clock.Set(0)
	r := f.call("GET", "/me", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "try refresh token", r.obj["message"])

	require.Equal(t, http.StatusOK, f.call("POST", "/auth/session/refresh", nil).status)
	assert.Equal(t, http.StatusOK, f.call("GET", "/me", nil).status)
}

func TestSDKPasswordReset(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	f := a.frontend(t, "header")
	require.Equal(t, "OK", f.signUp("reset@example.com", "pass-word-1").obj["status"])
	requestToken := func() string {
		r := f.call("POST", "/auth/user/password/reset/token", form("email", "reset@example.com"))
		require.Equal(t, "OK", r.obj["status"], r.raw)
		return a.mail.lastToken(t, true)
	}
	reset := func(token, password string) any {
		r := f.call("POST", "/auth/user/password/reset", map[string]any{"method": "token", "token": token,
			"formFields": []map[string]string{{"id": "password", "value": password}}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return r.obj["status"]
	}

	expired := requestToken()
	a.clock.Advance(time.Hour + time.Second)
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", reset(expired, "pass-word-2"))
	a.clock.Set(0)

	tok := requestToken()
	assert.Equal(t, "OK", reset(tok, "pass-word-2"))
	assert.Equal(t, "RESET_PASSWORD_INVALID_TOKEN_ERROR", reset(tok, "pass-word-3"), "single use")
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", f.signIn("reset@example.com", "pass-word-1").obj["status"])
	assert.Equal(t, "OK", f.signIn("reset@example.com", "pass-word-2").obj["status"])

	// An unknown email answers OK too (no account enumeration) and mails nothing.
	before := len(a.mail.reset)
	r := f.call("POST", "/auth/user/password/reset/token", form("email", "nobody@example.com"))
	assert.Equal(t, "OK", r.obj["status"])
	assert.Len(t, a.mail.reset, before)
}

func TestSDKDuplicateEmail(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	f := a.frontend(t, "header")
	require.Equal(t, "OK", f.signUp("dup@example.com", "pass-word-1").obj["status"])
	r := f.signUp(" DUP@example.com", "pass-word-1")
	assert.Equal(t, "FIELD_ERROR", r.obj["status"], r.raw)
	r = f.call("GET", "/auth/signup/email/exists?email=dup%40example.com", nil)
	assert.Equal(t, true, r.obj["exists"], r.raw)
	assert.Equal(t, "WRONG_CREDENTIALS_ERROR", f.signIn("dup@example.com", "wrong-pass-1").obj["status"])
}

func TestSDKRolesPermissionsAndMetadata(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	created, err := userroles.CreateNewRoleOrAddPermissions("admin", []string{"read", "write"})
	require.NoError(t, err)
	assert.True(t, created.OK.CreatedNewRole)
	_, err = userroles.CreateNewRoleOrAddPermissions("member", nil) // permissions: null
	require.NoError(t, err)

	admin := a.frontend(t, "header")
	adminID := admin.signUpVerified("admin@example.com", "pass-word-1")
	added, err := userroles.AddRoleToUser("public", adminID, "admin")
	require.NoError(t, err)
	require.NotNil(t, added.OK)
	_, err = userroles.AddRoleToUser("public", adminID, "member")
	require.NoError(t, err)
	require.Equal(t, "OK", admin.signIn("admin@example.com", "pass-word-1").obj["status"])
	p := admin.payload()
	assert.ElementsMatch(t, []any{"admin", "member"}, p["st-role"].(map[string]any)["v"])
	assert.ElementsMatch(t, []any{"read", "write"}, p["st-perm"].(map[string]any)["v"])
	assert.Equal(t, http.StatusOK, admin.call("GET", "/admin", nil).status)

	member := a.frontend(t, "header")
	memberID := member.signUpVerified("member@example.com", "pass-word-1")
	r := member.call("GET", "/admin", nil)
	assert.Equal(t, http.StatusForbidden, r.status, r.raw)
	assert.Equal(t, "invalid claim", r.obj["message"])

	users, err := userroles.GetUsersThatHaveRole("public", "admin")
	require.NoError(t, err)
	assert.Equal(t, []string{adminID}, users.OK.Users)
	perms, err := userroles.GetPermissionsForRole("admin")
	require.NoError(t, err)
	assert.Equal(t, []string{"read", "write"}, perms.OK.Permissions)
	_, err = userroles.RemovePermissionsFromRole("admin", []string{"write"})
	require.NoError(t, err)
	roles, err := userroles.GetRolesThatHavePermission("read")
	require.NoError(t, err)
	assert.Equal(t, []string{"admin"}, roles.OK.Roles)

	meta, err := usermetadata.UpdateUserMetadata(memberID, map[string]any{"theme": "dark", "prefs": map[string]any{"a": 1}})
	require.NoError(t, err)
	assert.Equal(t, "dark", meta["theme"])
	meta, err = usermetadata.UpdateUserMetadata(memberID, map[string]any{"theme": nil, "lang": "ar"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"prefs": map[string]any{"a": float64(1)}, "lang": "ar"}, meta)
	got, err := usermetadata.GetUserMetadata(memberID)
	require.NoError(t, err)
	assert.Equal(t, meta, got)
	require.NoError(t, usermetadata.ClearUserMetadata(memberID))
	got, err = usermetadata.GetUserMetadata(memberID)
	require.NoError(t, err)
	assert.Empty(t, got)

	// Session helpers that call the core directly.
	handles, err := session.GetAllSessionHandlesForUser(adminID, nil)
	require.NoError(t, err)
	assert.Len(t, handles, 2, "the sign-up session and the sign-in session")
	info, err := session.GetSessionInformation(handles[0])
	require.NoError(t, err)
	require.NotNil(t, info)
	assert.Equal(t, adminID, info.UserId)
	okUpdate, err := session.UpdateSessionDataInDatabase(handles[0], map[string]any{"x": 1})
	require.NoError(t, err)
	assert.True(t, okUpdate)
	revoked, err := session.RevokeAllSessionsForUser(adminID, nil)
	require.NoError(t, err)
	assert.Len(t, revoked, 2, "an absent revokeAcrossAllTenants means every tenant")
	require.NoError(t, supertokens.DeleteUser(memberID))
	user, err := emailpassword.GetUserByID(memberID)
	require.NoError(t, err)
	assert.Nil(t, user)
}

func TestSDKSigningKeyRotation(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	f := a.frontend(t, "header")
	f.signUpVerified("keys@example.com", "pass-word-1")
	before, _, _ := decodeJWT(t, f.at)

	require.NoError(t, a.core.RotateSigningKey(t.Context()))
	assert.Equal(t, http.StatusOK, f.call("GET", "/me", nil).status, "a token of the old key keeps verifying")

	other := a.frontend(t, "header")
	require.Equal(t, "OK", other.signIn("keys@example.com", "pass-word-1").obj["status"])
	after, _, _ := decodeJWT(t, other.at)
	require.NotEqual(t, before["kid"], after["kid"])
	assert.Equal(t, http.StatusOK, other.call("GET", "/me", nil).status, "the SDK fetches the JWKS again for the unknown kid")
	assert.Equal(t, http.StatusOK, f.call("GET", "/me", nil).status)
	keys := a.jwks(t)
	assert.Contains(t, keys, before["kid"])
	assert.Contains(t, keys, after["kid"])

	// The SDK republishes the core's keys (through its querier, which reads all six fields).
	r := f.call("GET", "/auth/jwt/jwks.json", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var kids []any
	for _, k := range r.obj["keys"].([]any) {
		kids = append(kids, k.(map[string]any)["kid"])
	}
	assert.Contains(t, kids, before["kid"])
	assert.Contains(t, kids, after["kid"])
}

func TestSDKAPIKey(t *testing.T) {
	for _, tt := range []struct{ name, key string }{{"missing", "-"}, {"wrong", "wrong-key-0123456789abcdef"}} {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, newEnv(t), appOptions{apiKey: tt.key})
			f := a.frontend(t, "header")
			r := f.signUp("key@example.com", "pass-word-1")
			assert.Equal(t, http.StatusInternalServerError, r.status, r.raw)
			select {
			case err := <-a.apiErrs:
				assert.Contains(t, err.Error(), "status code: 401")
				assert.Contains(t, err.Error(), "Invalid API key")
			default:
				t.Fatal("the SDK reported no core error")
			}
		})
	}
}

// TestSDKCoreCallsEveryRecipe uses the SDK's own functions for what the HTTP journeys above do
// not reach, so that each recipe function meets the core at least once.
func TestSDKCoreCallsEveryRecipe(t *testing.T) {
	a := startApp(t, newEnv(t), appOptions{})
	signUp, err := emailpassword.SignUp("public", "fn@example.com", "pass-word-1")
	require.NoError(t, err)
	require.NotNil(t, signUp.OK)
	id := signUp.OK.User.ID
	assert.Equal(t, []string{"public"}, signUp.OK.User.TenantIds)

	byEmail, err := emailpassword.GetUserByEmail("public", "FN@example.com")
	require.NoError(t, err)
	require.NotNil(t, byEmail)
	newEmail := "fn2@example.com"
	upd, err := emailpassword.UpdateEmailOrPassword(id, &newEmail, nil, nil, nil)
	require.NoError(t, err)
	assert.NotNil(t, upd.OK)

	ev, err := emailverification.CreateEmailVerificationToken("public", id, nil)
	require.NoError(t, err)
	require.NotNil(t, ev.OK)
	verified, err := emailverification.VerifyEmailUsingToken("public", ev.OK.Token)
	require.NoError(t, err)
	require.NotNil(t, verified.OK)
	assert.Equal(t, newEmail, verified.OK.User.Email)
	isVerified, err := emailverification.IsEmailVerified(id, nil)
	require.NoError(t, err)
	assert.True(t, isVerified)
	_, err = emailverification.UnverifyEmail(id, nil)
	require.NoError(t, err)
	_, err = emailverification.RevokeEmailVerificationTokens("public", id, nil)
	require.NoError(t, err)
	isVerified, err = emailverification.IsEmailVerified(id, nil)
	require.NoError(t, err)
	assert.False(t, isVerified)

	s, err := session.CreateNewSessionWithoutRequestResponse("public", id, map[string]any{"k": "v"}, nil, nil)
	require.NoError(t, err)
	// Offline (by handle): the database changes, the client sees it at its next refresh.
	ok, err := session.MergeIntoAccessTokenPayload(s.GetHandle(), map[string]any{"k2": "v2"})
	require.NoError(t, err)
	assert.True(t, ok)
	info, err := session.GetSessionInformation(s.GetHandle())
	require.NoError(t, err)
	assert.Equal(t, "v2", info.CustomClaimsInAccessTokenPayload["k2"])
	tokens := s.GetAllSessionTokensDangerously()
	refreshed, err := session.RefreshSessionWithoutRequestResponse(*tokens.RefreshToken, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "v2", refreshed.GetAccessTokenPayload()["k2"])
	// Online (a session container): regenerate re-signs the token at once.
	require.NoError(t, refreshed.MergeIntoAccessTokenPayload(map[string]any{"k3": "v3"}))
	noClaims := &sessmodels.VerifySessionOptions{OverrideGlobalClaimValidators: func([]claims.SessionClaimValidator, sessmodels.SessionContainer, supertokens.UserContext) ([]claims.SessionClaimValidator, error) {
		return nil, nil // the email is unverified; this is about the core calls
	}}
	got, err := session.GetSessionWithoutRequestResponse(refreshed.GetAccessToken(), nil, noClaims)
	require.NoError(t, err)
	assert.Equal(t, "v3", got.GetAccessTokenPayload()["k3"])
	assert.Equal(t, "v2", got.GetAccessTokenPayload()["k2"])
	revoked, err := session.RevokeSession(s.GetHandle())
	require.NoError(t, err)
	assert.True(t, revoked)

	count, err := supertokens.GetUserCount(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, float64(1), count)
	// DeleteRole indexes its variadic user context without checking it: pass one.
	del, err := userroles.DeleteRole("nope", &map[string]any{})
	require.NoError(t, err)
	assert.False(t, del.OK.DidRoleExist)
	all, err := userroles.GetAllRoles()
	require.NoError(t, err)
	assert.Empty(t, all.OK.Roles)
	_, err = emailpassword.GetUserByID(id)
	require.NoError(t, err)
	assert.Equal(t, 1, a.count(t, `SELECT count(*) FROM authcore.users`))
}
