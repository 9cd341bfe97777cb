package auth

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/p2psandbox/hub/domain/identity"
)

// tokenCheck verifies the common access token in one pass: the RS256 token the core signs
// for a session that is not mid-refresh, its key in the SDK's own JWKS cache. The SDK's check
// of the same token costs about 110 µs and 600 allocations (a generic JWT library's parse, the
// payload decoded twice into maps, a session container and a front token built and dropped);
// this one is the RSA signature plus one read of header and payload. It is what a socket handshake
// pays for a token the node has not seen, which the hub does thousands of times a second when
// a node restarts (docs/perf.md, "Realtime hub").
//
// It only ever says yes to a token the SDK would accept with the same principal, and sends
// everything else to the SDK (ok false), which decides and words the error: another algorithm,
// header or version, a kid that is not in the SDK's JWKS or of the other kind than the session
// recipe signs with (static or dynamic keys), a bad signature, a missing or mistyped field,
// an expiry within a second, an issue date in the future, a parent refresh token (the first
// use of a refreshed token commits the rotation in the core), no organization, padded ids.
// TestTokenCheckAgreesWithTheSDK compares the two on real tokens and on forgeries.
type tokenCheck struct {
	dynamic bool // the session recipe signs with dynamic keys (the SDK's default)
	jwks    func() (map[string]any, error)
	now     func() time.Time

	mu     sync.Mutex
	keys   map[string]*rsa.PublicKey
	loaded time.Time
}

// keysFresh is how long a copy of the SDK's keys serves before it is read again, and how often
// at most an unknown kid makes it read them: a key that leaves the SDK's JWKS stops verifying
// here at most that much later (the SDK itself refreshes its JWKS every few hours).
const keysFresh = 30 * time.Second

// principal returns the token's principal and true, or false when the SDK is to decide.
//
// Header and payload are read as maps of raw values looked up by exact name, as the SDK and its
// JWT library read them: decoding into a struct would match names case-insensitively and could
// read a field the SDK does not see.
func (c *tokenCheck) principal(token string) (identity.Principal, bool) {
	h64, rest, ok := strings.Cut(token, ".")
	if !ok {
		return identity.Principal{}, false
	}
	p64, s64, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(s64, ".") {
		return identity.Principal{}, false
	}
	var alg, typ, kid, version string
	h, ok := segment(h64)
	if !ok || !field(h, "alg", &alg) || !field(h, "typ", &typ) || !field(h, "kid", &kid) || !field(h, "version", &version) ||
		alg != "RS256" || typ != "JWT" || kid == "" {
		return identity.Principal{}, false
	}
	if v, err := strconv.Atoi(version); err != nil || v < 4 || strings.HasPrefix(kid, "d-") != c.dynamic {
		return identity.Principal{}, false
	}
	key := c.key(kid)
	if key == nil {
		return identity.Principal{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(s64)
	if err != nil {
		return identity.Principal{}, false
	}
	digest := sha256.Sum256([]byte(token[:len(h64)+1+len(p64)]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return identity.Principal{}, false
	}
	pl, ok := segment(p64)
	if !ok || present(pl, "nbf") || present(pl, "parentRefreshTokenHash1") {
		return identity.Principal{}, false
	}
	var (
		sub, handle, refreshHash, tenant, org string
		exp, iat                              float64
	)
	if !field(pl, "sub", &sub) || !field(pl, "sessionHandle", &handle) || !field(pl, "refreshTokenHash1", &refreshHash) ||
		!field(pl, "tId", &tenant) || !field(pl, orgClaim, &org) || !field(pl, "exp", &exp) || !field(pl, "iat", &iat) {
		return identity.Principal{}, false
	}
	now := c.now()
	switch {
	case org == "", sub == "" || strings.TrimSpace(sub) != sub, handle == "" || strings.TrimSpace(handle) != handle,
		// Whole seconds as the core writes them; an expiry within a second or an issue date
		// ahead of this clock is left to the SDK's exact checks.
		exp != float64(int64(exp)) || !time.Unix(int64(exp), 0).After(now.Add(time.Second)),
		time.Unix(int64(iat), 0).After(now):
		return identity.Principal{}, false
	}
	p := identity.Principal{UserID: sub, OrganizationID: org, SessionHandle: handle, ExpiresAt: time.Unix(int64(exp), 0)}
	// The SDK's claims: {"v": value, "t": fetched at}; anything else reads as no value.
	if roles, ok := claimValue(pl, "st-role").([]any); ok {
		for _, r := range roles {
			if role, ok := r.(string); ok {
				p.Roles = append(p.Roles, role)
			}
		}
	}
	p.EmailVerified, _ = claimValue(pl, "st-ev").(bool)
	return p, true
}

// claimValue is the value of a SuperTokens claim in the payload, read as the SDK reads it:
// member "v" of the claim's object, nil when the claim is not an object.
func claimValue(pl map[string]json.RawMessage, name string) any {
	var claim map[string]any
	if !field(pl, name, &claim) {
		return nil
	}
	return claim["v"]
}

// key is the public key of kid from the SDK's JWKS, read again when the copy is old or the kid
// is new to it (once per keysFresh at most).
func (c *tokenCheck) key(kid string) *rsa.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	fresh := !c.loaded.IsZero() && now.Sub(c.loaded) < keysFresh
	if k, ok := c.keys[kid]; ok && fresh {
		return k
	}
	if fresh {
		return nil // unknown, and read recently
	}
	raw, err := c.jwks()
	if err != nil {
		return nil
	}
	keys := make(map[string]*rsa.PublicKey, len(raw))
	for id, v := range raw {
		if pub, ok := v.(*rsa.PublicKey); ok {
			keys[id] = pub
		}
	}
	c.keys, c.loaded = keys, now
	return keys[kid]
}

// segment decodes a JWT segment into its JSON object's raw members.
func segment(seg string) (map[string]json.RawMessage, bool) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, false
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m) == nil && m != nil
}

// field decodes member name into dst: false when it is missing, null or of another type.
func field(m map[string]json.RawMessage, name string, dst any) bool {
	return present(m, name) && json.Unmarshal(m[name], dst) == nil
}

// present reports a member that is there and not null.
func present(m map[string]json.RawMessage, name string) bool {
	raw, ok := m[name]
	return ok && !bytes.Equal(raw, []byte("null"))
}
