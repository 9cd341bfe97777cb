package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/supertokens/supertokens-golang/supertokens"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/text"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/rest"
)

// Limiter counts events per key across nodes.
type Limiter interface {
	Hit(ctx context.Context, key string, p ratelimit.Policy) (time.Duration, error)
	Peek(ctx context.Context, key string, p ratelimit.Policy) (time.Duration, error)
	Reset(ctx context.Context, key string) error
}

// Limits are the brute-force and mail limits of the auth flows.
type Limits struct {
	SignInPerAccount ratelimit.Policy // failed sign-ins of one email
	SignInPerIP      ratelimit.Policy // failed sign-ins from one address
	VerificationMail ratelimit.Policy // verification mails one user may ask for
}

// routes serves the SuperTokens frontend API under /auth, guarding the flows that need more than
// the SDK does.
type routes struct {
	a       *Auth
	limiter Limiter
	limits  Limits
	sdk     http.Handler
}

// Mount serves the SDK's routes under BasePath on r.
func (a *Auth) Mount(r *rest.Router, limiter Limiter, limits Limits) {
	h := &routes{a: a, limiter: limiter, limits: limits}
	// Requests under /auth the SDK does not handle fall through to a 404 problem.
	h.sdk = a.Middleware(http.HandlerFunc(rest.NotFound))
	r.Any(BasePath+"/*path", h.serveSDK)
}

// serveSDK passes /auth requests to the SDK, guarding the flows that need more than it does.
func (h *routes) serveSDK(c *gin.Context) {
	path := strings.TrimSuffix(c.Request.URL.Path, "/")
	if !cleanBody(c) {
		return
	}
	switch {
	case c.Request.Method == http.MethodPost && path == BasePath+"/signin":
		h.signIn(c)
	case c.Request.Method == http.MethodPost && path == BasePath+"/signup":
		h.signUp(c)
	case c.Request.Method == http.MethodPost && path == BasePath+"/user/email/verify/token":
		h.resendVerification(c)
	case c.Request.Method == http.MethodPost && path == BasePath+"/user/password/reset":
		h.resetPassword(c)
	default:
		h.sdk.ServeHTTP(c.Writer, c.Request)
	}
}

// signIn refuses attempts while the account or the address is locked out, counts failures, and
// adds the user's profile and organization to a successful answer.
func (h *routes) signIn(c *gin.Context) {
	ctx := c.Request.Context()
	email, ok := h.formEmail(c)
	if !ok {
		return
	}
	keys := []struct {
		key    string
		policy ratelimit.Policy
	}{
		{"signin:acct:" + email, h.limits.SignInPerAccount},
		{"signin:ip:" + c.ClientIP(), h.limits.SignInPerIP},
	}
	for _, k := range keys {
		wait, err := h.limiter.Peek(ctx, k.key, k.policy)
		if err != nil {
			rest.Fail(c, err)
			return
		}
		if wait > 0 {
			rest.Fail(c, &errs.Error{Code: errs.RateLimited, RetryAfter: wait,
				Message: "too many failed sign-ins; wait before trying again or reset your password"})
			return
		}
	}

	body, status := h.captureSDK(c)
	if status == http.StatusOK {
		switch body["status"] {
		case "WRONG_CREDENTIALS_ERROR":
			for _, k := range keys {
				if _, err := h.limiter.Hit(ctx, k.key, k.policy); err != nil {
					h.a.log.ErrorContext(ctx, "counting a failed sign-in", "err", err)
				}
			}
		case "OK":
			if err := h.limiter.Reset(ctx, keys[0].key); err != nil {
				h.a.log.ErrorContext(ctx, "resetting sign-in failures", "err", err)
			}
			h.addAccount(ctx, body)
		}
	}
	h.flush(c, status, body)
}

// signUp adds the new user's profile and organization to a successful answer, and counts the
// verification mail the sign-up sent against the resend limit.
func (h *routes) signUp(c *gin.Context) {
	ctx := c.Request.Context()
	var mailed bool
	c.Request = c.Request.WithContext(context.WithValue(ctx, signUpMailKey{}, &mailed))
	body, status := h.captureSDK(c)
	if status == http.StatusOK && body["status"] == "OK" {
		h.addAccount(ctx, body)
		user, _ := body["user"].(map[string]any)
		if id, _ := user["id"].(string); mailed && id != "" {
			if _, err := h.limiter.Hit(ctx, signUpMailLimit(id), h.limits.VerificationMail); err != nil {
				h.a.log.ErrorContext(ctx, "counting the sign-up's verification mail", "user", id, "err", err)
			}
		}
	}
	h.flush(c, status, body)
}

// Limiter keys of the verification mail: one counts the mails the sign-up sent, the other the
// resends a user asked for.
func signUpMailLimit(userID string) string { return "verifymail:signup:" + userID }
func resendMailLimit(userID string) string { return "verifymail:" + userID }

// resendVerification sends the verification mail again at most once per VerificationMail window.
// The frontend's verification screen asks for a mail as it opens, right after the sign-up sent
// one: that first request is answered OK without a second mail. A request over the limit is
// answered in the SDK's own form (200 GENERAL_ERROR with a message), which supertokens-web-js
// shows to the user; a 429 problem would be thrown as "Something went wrong". Whoever really did
// not get the mail can ask again once the window has passed.
func (h *routes) resendVerification(c *gin.Context) {
	p, err := h.a.Verify(c.Writer, c.Request)
	if err != nil {
		// Without a session the SDK answers with its own 401, which its frontend understands.
		h.sdk.ServeHTTP(c.Writer, c.Request)
		return
	}
	ctx := c.Request.Context()
	afterSignUp, err := h.limiter.Peek(ctx, signUpMailLimit(p.UserID), h.limits.VerificationMail)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	wait, err := h.limiter.Hit(ctx, resendMailLimit(p.UserID), h.limits.VerificationMail)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	if wait == 0 && afterSignUp == 0 {
		h.sdk.ServeHTTP(c.Writer, c.Request)
		return
	}
	// No mail goes out. An address confirmed meanwhile is the SDK's to answer: it says
	// EMAIL_ALREADY_VERIFIED_ERROR, which sends the frontend on, and updates the session's claim.
	if h.verifiedNow(ctx, p) {
		h.sdk.ServeHTTP(c.Writer, c.Request)
		return
	}
	c.Writer.Header().Del("Content-Length")
	if wait == 0 {
		c.JSON(http.StatusOK, gin.H{"status": "OK"}) // the sign-up's mail is the one to open
		return
	}
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	c.JSON(http.StatusOK, supertokens.ConvertGeneralErrorToJsonResponse(supertokens.GeneralErrorResponse{
		Message: "A verification mail was sent a moment ago. Check your inbox and spam folder, or ask again in " + roughly(wait) + ".",
	}))
}

// verifiedNow asks the core whether the principal's address is confirmed, when the session's
// claim does not say so already (it lags behind by up to its refetch interval).
func (h *routes) verifiedNow(ctx context.Context, p identity.Principal) bool {
	if p.EmailVerified {
		return true
	}
	acc, err := h.a.accounts.Account(ctx, p.UserID)
	if err != nil {
		h.a.log.WarnContext(ctx, "loading the account of a verification resend", "user", p.UserID, "err", err)
		return false
	}
	ok, err := h.a.EmailVerified(ctx, p.UserID, acc.User.Email)
	if err != nil {
		h.a.log.WarnContext(ctx, "checking email verification", "user", p.UserID, "err", err)
	}
	return ok
}

// roughly says how long d is for a person: whole seconds under two minutes, else whole minutes,
// rounded up.
func roughly(d time.Duration) string {
	if d < 2*time.Minute {
		n := max(int(math.Ceil(d.Seconds())), 1)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " minutes"
}

// resetPassword answers a reset whose token is JSON null as the SDK answers any other token that
// is not a string (400 with its message): the SDK's own check calls reflect.TypeOf(nil).Kind()
// and panics. Everything else is the SDK's.
func (h *routes) resetPassword(c *gin.Context) {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	var body map[string]json.RawMessage
	if json.Unmarshal(raw, &body) == nil {
		if token, ok := body["token"]; ok && string(bytes.TrimSpace(token)) == "null" {
			c.Writer.Header().Del("Content-Length")
			c.JSON(http.StatusBadRequest, gin.H{"message": "The password reset token must be a string"})
			return
		}
	}
	// A body that is not a JSON object is the SDK's to refuse, in its order of checks.
	h.sdk.ServeHTTP(c.Writer, c.Request)
}

// formEmail reads the email of a SuperTokens form body and puts the body back for the SDK.
func (h *routes) formEmail(c *gin.Context) (string, bool) {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		rest.Fail(c, err)
		return "", false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	var form struct {
		FormFields []struct {
			ID    string `json:"id"`
			Value any    `json:"value"`
		} `json:"formFields"`
	}
	if err := json.Unmarshal(raw, &form); err != nil {
		rest.Fail(c, errs.E(errs.Invalid, "the body is not a JSON sign-in form: %v", err))
		return "", false
	}
	for _, f := range form.FormFields {
		if s, ok := f.Value.(string); ok && f.ID == "email" {
			// The account's key is the address the core looks up: its normal form. One that
			// has none is refused by the SDK's validator before any password is checked.
			email, _ := identity.CheckEmail(s)
			return strings.ToLower(email), true
		}
	}
	return "", true // the SDK reports the missing field in its own format
}

// captureWriter holds the SDK's body back so that it can be amended; headers (the session
// tokens) go straight to the real writer.
type captureWriter struct {
	gin.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int)              { w.status = code }
func (w *captureWriter) WriteHeaderNow()                   {}
func (w *captureWriter) Write(b []byte) (int, error)       { return w.buf.Write(b) }
func (w *captureWriter) WriteString(s string) (int, error) { return w.buf.WriteString(s) }
func (w *captureWriter) Status() int                       { return w.status }
func (w *captureWriter) Written() bool                     { return w.status != 0 }

// captureSDK runs the SDK and returns its JSON body (nil when it is not a JSON object).
func (h *routes) captureSDK(c *gin.Context) (map[string]any, int) {
	real := c.Writer
	cw := &captureWriter{ResponseWriter: real}
	c.Writer = cw
	h.sdk.ServeHTTP(cw, c.Request)
	c.Writer = real
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	var body map[string]any
	if json.Unmarshal(cw.buf.Bytes(), &body) != nil {
		body = nil
		// Not JSON: pass it on untouched.
		real.Header().Del("Content-Length")
		real.WriteHeader(cw.status)
		real.Write(cw.buf.Bytes()) //nolint:errcheck // the client went away
		c.Abort()
	}
	return body, cw.status
}

func (h *routes) flush(c *gin.Context, status int, body map[string]any) {
	if body == nil || c.IsAborted() {
		return
	}
	c.Writer.Header().Del("Content-Length")
	c.JSON(status, body)
}

// addAccount merges the domain's user into the SDK's user and adds the organization: the
// frontend's sign-in and sign-up expect both.
func (h *routes) addAccount(ctx context.Context, body map[string]any) {
	user, _ := body["user"].(map[string]any)
	id, _ := user["id"].(string)
	email, _ := user["email"].(string)
	acc, err := h.a.accounts.Account(ctx, id)
	if err != nil {
		h.a.log.ErrorContext(ctx, "loading the account for a sign-in answer", "user", id, "err", err)
		return
	}
	verified, err := h.a.EmailVerified(ctx, id, email)
	if err != nil {
		h.a.log.WarnContext(ctx, "checking email verification", "user", id, "err", err)
	}
	acc.User.EmailVerified = verified
	var merged map[string]any
	b, _ := json.Marshal(acc.User)
	_ = json.Unmarshal(b, &merged)
	for k, v := range user { // the SDK's own fields (timeJoined, tenantIds) stay
		merged[k] = v
	}
	body["user"] = merged
	body["organization"] = acc.Organization
}

// cleanBody refuses a body with text no field takes (domain/text: NUL, bytes that are not UTF-8,
// control characters) before the SDK hands it to the core or the identity domain, and puts the
// body back for the SDK to read.
func cleanBody(c *gin.Context) bool {
	if c.Request.Body == nil || c.Request.Method == http.MethodGet {
		return true
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		rest.Fail(c, err) // over the body limit: 413
		return false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if p := text.JSONProblem(body); p != "" {
		rest.Fail(c, errs.E(errs.Invalid, "the body %s", p))
		return false
	}
	return true
}
