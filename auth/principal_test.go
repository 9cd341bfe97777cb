package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	sterrors "github.com/supertokens/supertokens-golang/recipe/session/errors"

	"github.com/p2psandbox/hub/domain/identity"
)

// parseError is the message the SDK wraps in TryRefreshTokenError when golang-jwt refuses token.
func parseError(t *testing.T, token string) string {
	t.Helper()
	_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte("the-right-key"), nil })
	if err == nil {
		t.Fatal("the token parsed")
	}
	return err.Error()
}

func signed(t *testing.T, key string, exp time.Time) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": exp.Unix()}).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTryRefreshIsOnlyForWhatARefreshHeals(t *testing.T) {
	hour := time.Hour
	tests := []struct {
		name string
		msg  string
		want error
	}{
		{"expired", parseError(t, signed(t, "the-right-key", time.Now().Add(-hour))), identity.ErrTokenExpired},
		{"expired by the SDK's own check", "Access token expired", identity.ErrTokenExpired},
		{"forged signature", parseError(t, signed(t, "a-forger's-key", time.Now().Add(hour))), identity.ErrUnauthenticated},
		{"malformed", parseError(t, "not.a.jwt"), identity.ErrUnauthenticated},
		{"no payload", "Invalid JWT", identity.ErrUnauthenticated},
		{"unknown key id", "the given key ID was not found in the JWKS", identity.ErrTokenExpired},
		{"missing anti-CSRF token", "Provided antiCsrfToken is undefined. If you do not want anti-csrf check for this API, please set doAntiCsrfCheck to false for this API", ErrAntiCSRF},
		{"wrong anti-CSRF token", "anti-csrf check failed", ErrAntiCSRF},
		{"missing rid header", "anti-csrf check failed. Please pass 'rid: \"session\"' header in the request", ErrAntiCSRF},
		{"two access cookies", "Multiple access tokens present in the request cookies.", identity.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sessionError(sterrors.TryRefreshTokenError{Msg: tt.msg}), tt.msg)
		})
	}
}
