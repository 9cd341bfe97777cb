package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/supertokens/supertokens-golang/recipe/emailverification"
	"github.com/supertokens/supertokens-golang/recipe/emailverification/evclaims"
	"github.com/supertokens/supertokens-golang/recipe/session"
	sterrors "github.com/supertokens/supertokens-golang/recipe/session/errors"
	"github.com/supertokens/supertokens-golang/recipe/session/sessmodels"
	"github.com/supertokens/supertokens-golang/recipe/userroles/userrolesclaims"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// Verify checks the request's session (header or cookie mode). A refreshed access token is
// written to w, as the SDK's frontend expects. Failures are identity.ErrTokenExpired,
// identity.ErrUnauthenticated or a forbidden *errs.Error. What the principal may do is the
// domain's matrix (identity.Principal.Require), checked by the transports.
func (a *Auth) Verify(w http.ResponseWriter, r *http.Request) (identity.Principal, error) {
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if bearer != "" {
		if p, ok := a.checkedToken(bearer); ok {
			return p, a.cfg.Revocations.Check(p)
		}
	}
	required := true
	s, err := session.GetSession(r, w, &sessmodels.VerifySessionOptions{SessionRequired: &required})
	if err != nil {
		return identity.Principal{}, sessionError(err)
	}
	p, err := principalOf(s)
	if err != nil {
		return p, err
	}
	if bearer != "" {
		a.verified.remember(bearer, s, p)
	}
	return p, a.cfg.Revocations.Check(p)
}

// PrincipalFromToken verifies an access token on its own: the realtime hub's handshake, which
// has no response to refresh tokens into.
func (a *Auth) PrincipalFromToken(_ context.Context, accessToken string) (identity.Principal, error) {
	if accessToken == "" {
		return identity.Principal{}, identity.ErrUnauthenticated
	}
	if p, ok := a.checkedToken(accessToken); ok {
		return p, a.cfg.Revocations.Check(p)
	}
	s, p, err := a.sdkPrincipal(accessToken)
	if err != nil {
		return p, err
	}
	a.verified.remember(accessToken, s, p)
	return p, a.cfg.Revocations.Check(p)
}

// sdkPrincipal is the SDK's check of an access token without a request (no anti-CSRF check).
func (a *Auth) sdkPrincipal(accessToken string) (sessmodels.SessionContainer, identity.Principal, error) {
	required, antiCSRF := true, false
	s, err := session.GetSessionWithoutRequestResponse(accessToken, nil,
		&sessmodels.VerifySessionOptions{SessionRequired: &required, AntiCsrfCheck: &antiCSRF})
	if err != nil {
		return nil, identity.Principal{}, sessionError(err)
	}
	p, err := principalOf(s)
	return s, p, err
}

// checkedToken is the principal of a token sent as a bearer (header mode, no anti-CSRF check)
// when it is already known or passes the one-pass check; false sends it to the SDK.
func (a *Auth) checkedToken(token string) (identity.Principal, bool) {
	if p, ok := a.verified.get(token); ok {
		return p, true
	}
	p, ok := a.tokens.principal(token)
	if ok {
		a.verified.add(token, p, p.ExpiresAt)
	}
	return p, ok
}

// sdkKeys are the keys of the SDK's JWKS cache (fetched from the core, refreshed by the SDK).
func sdkKeys() (map[string]any, error) {
	jwks, err := session.GetCombinedJWKS()
	if err != nil {
		return nil, err
	}
	return jwks.ReadOnlyKeys(), nil
}

func sessionError(err error) error {
	var (
		refresh sterrors.TryRefreshTokenError
		unauth  sterrors.UnauthorizedError
		theft   sterrors.TokenTheftDetectedError
		invalid sterrors.InvalidClaimError
	)
	switch {
	case errors.As(err, &refresh):
		return refreshError(refresh.Msg)
	case errors.As(err, &unauth), errors.As(err, &theft):
		return identity.ErrUnauthenticated
	case errors.As(err, &invalid):
		return errs.E(errs.Forbidden, "the session does not allow this")
	}
	return fmt.Errorf("auth: verifying the session: %w", err)
}

// ErrAntiCSRF answers a cookie-mode request without its anti-CSRF token (or rid header).
var ErrAntiCSRF = &errs.Error{Code: errs.Unauthenticated, Message: "the anti-CSRF token (or the rid header) is missing or wrong"}

// refreshError tells apart the SDK's "try refresh" answers: it gives the same one for an expired
// token and for a forged signature or a missing anti-CSRF token, and only the first is healed by a
// refresh. A client told token_expired for a forged token would refresh instead of signing in.
func refreshError(msg string) error {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "anti-csrf") || strings.Contains(m, "anticsrf"):
		return ErrAntiCSRF
	case strings.Contains(m, "expired"),
		// A key that left the JWKS, an old cookie layout or token version: a refresh heals them.
		strings.Contains(m, "key id"), strings.Contains(m, "kid"), strings.Contains(m, "legacy"),
		strings.Contains(m, "multiple access tokens"), strings.Contains(m, "dynamicaccesstokensigningkey"):
		return identity.ErrTokenExpired
	}
	return identity.ErrUnauthenticated // a bad signature, a malformed token, invalid claims
}

func principalOf(s sessmodels.SessionContainer) (identity.Principal, error) {
	payload := s.GetAccessTokenPayload()
	orgID, _ := payload[orgClaim].(string)
	if orgID == "" {
		// Every session we create carries the organization; one without it is not ours.
		return identity.Principal{}, identity.ErrUnauthenticated
	}
	p := identity.Principal{
		UserID:         s.GetUserID(),
		OrganizationID: orgID,
		SessionHandle:  s.GetHandle(),
	}
	if roles, ok := s.GetClaimValue(userrolesclaims.UserRoleClaim).([]interface{}); ok {
		for _, r := range roles {
			if role, ok := r.(string); ok {
				p.Roles = append(p.Roles, role)
			}
		}
	}
	p.EmailVerified, _ = s.GetClaimValue(evclaims.EmailVerificationClaim).(bool)
	if exp, ok := payload["exp"].(float64); ok {
		p.ExpiresAt = time.Unix(int64(exp), 0)
	}
	return p, nil
}

// EmailVerified asks the core whether the user confirmed email.
func (a *Auth) EmailVerified(_ context.Context, userID, email string) (bool, error) {
	ok, err := emailverification.IsEmailVerified(userID, &email)
	if err != nil {
		return false, fmt.Errorf("auth: is %s verified: %w", userID, err)
	}
	return ok, nil
}
