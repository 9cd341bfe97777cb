package auth

import (
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/supertokens/supertokens-golang/recipe/session/sessmodels"

	"github.com/p2psandbox/hub/domain/identity"
)

// verified remembers access tokens the SDK has verified, until they expire. A session sends the
// same access token with every request for its lifetime (an hour), and the SDK's check costs
// about 110 µs (an RSA signature and several JSON round trips); a hit costs a hash and a map
// read. It changes no semantics: access tokens are stateless in the SDK too, valid until exp.
//
// Only tokens that need nothing else are cached: sent in the Authorization header (cookie mode
// may need a per-request anti-CSRF check), without a parent refresh token (whose first use
// commits a rotation in the core), and checked without requirements (role and email claims are
// refetched by the SDK when stale).
type verified struct {
	lru *lru.Cache[[32]byte, cachedPrincipal]
	now func() time.Time
}

type cachedPrincipal struct {
	p   identity.Principal
	exp time.Time
}

func newVerified(size int) *verified {
	c, _ := lru.New[[32]byte, cachedPrincipal](size) // only fails for size <= 0
	return &verified{lru: c, now: time.Now}
}

func (v *verified) get(token string) (identity.Principal, bool) {
	key := sha256.Sum256([]byte(token))
	e, ok := v.lru.Get(key)
	if !ok {
		return identity.Principal{}, false
	}
	if !v.now().Before(e.exp) {
		v.lru.Remove(key)
		return identity.Principal{}, false
	}
	return e.p, true
}

// remember caches a token the SDK accepted in session s.
func (v *verified) remember(token string, s sessmodels.SessionContainer, p identity.Principal) {
	v.put(token, s.GetAccessTokenPayload(), s.GetAllSessionTokensDangerously().AccessToken, p)
}

// put caches token with its payload, if it is of the kind that may be cached. current is the
// access token the session holds after the check.
func (v *verified) put(token string, payload map[string]any, current string, p identity.Principal) {
	if payload["parentRefreshTokenHash1"] != nil {
		return
	}
	if current != token {
		return // the SDK handed out a new token; the old one is on its way out
	}
	exp, ok := payload["exp"].(float64)
	if !ok {
		return
	}
	v.add(token, p, time.Unix(int64(exp), 0))
}

// add caches a token whose principal p was checked, until exp.
func (v *verified) add(token string, p identity.Principal, exp time.Time) {
	v.lru.Add(sha256.Sum256([]byte(token)), cachedPrincipal{p: p, exp: exp})
}
