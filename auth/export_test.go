package auth

import (
	"time"

	"github.com/p2psandbox/hub/domain/identity"
)

// ForgetVerified empties the verified-token cache, so a benchmark can measure the SDK's check.
func (a *Auth) ForgetVerified() { a.verified.lru.Purge() }

// CheckToken is the one-pass token check alone, at now.
func (a *Auth) CheckToken(token string, now time.Time) (identity.Principal, bool) {
	c := &tokenCheck{dynamic: a.tokens.dynamic, jwks: a.tokens.jwks, now: func() time.Time { return now }}
	return c.principal(token)
}

// SDKPrincipal is the SDK's check alone.
func (a *Auth) SDKPrincipal(token string) (identity.Principal, error) {
	_, p, err := a.sdkPrincipal(token)
	return p, err
}
