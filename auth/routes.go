package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
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
	switch {
	case c.Request.Method == http.MethodPost && path == BasePath+"/signin":
		h.signIn(c)
	case c.Request.Method == http.MethodPost && path == BasePath+"/signup":
		h.signUp(c)
	case c.Request.Method == http.MethodPost && path == BasePath+"/user/email/verify/token":
		h.resendVerification(c)
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

// signUp adds the new user's profile and organization to a successful answer.
func (h *routes) signUp(c *gin.Context) {
	body, status := h.captureSDK(c)
	if status == http.StatusOK && body["status"] == "OK" {
		h.addAccount(c.Request.Context(), body)
	}
	h.flush(c, status, body)
}

// resendVerification limits how often a user can have the verification mail sent.
func (h *routes) resendVerification(c *gin.Context) {
	p, err := h.a.Verify(c.Writer, c.Request)
	if err == nil {
		wait, lerr := h.limiter.Hit(c.Request.Context(), "verifymail:"+p.UserID, h.limits.VerificationMail)
		if lerr != nil {
			rest.Fail(c, lerr)
			return
		}
		if wait > 0 {
			rest.Fail(c, &errs.Error{Code: errs.RateLimited, RetryAfter: wait,
				Message: "a verification mail was sent a moment ago; check your inbox or try again shortly"})
			return
		}
	}
	// Without a session the SDK answers with its own 401, which its frontend understands.
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
			return strings.ToLower(strings.TrimSpace(s)), true
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
