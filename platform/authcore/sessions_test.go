package authcore_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func tokenOf(t *testing.T, obj map[string]any, name string) string { return str(t, obj, name+".token") }

func (e *env) refresh(t *testing.T, rt string, anti *string) reply {
	t.Helper()
	body := map[string]any{"refreshToken": rt, "enableAntiCsrf": anti != nil, "useDynamicSigningKey": true}
	if anti != nil && *anti != "" {
		body["antiCsrfToken"] = *anti
	}
	return e.call(t, "POST", "/recipe/session/refresh", body)
}

func (e *env) verify(t *testing.T, at string, checkDB bool) reply {
	t.Helper()
	return e.call(t, "POST", "/recipe/session/verify", map[string]any{
		"accessToken": at, "doAntiCsrfCheck": false, "enableAntiCsrf": false, "checkDatabase": checkDB})
}

func (e *env) storedHash2(t *testing.T, handle string) string {
	t.Helper()
	var h string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT rt_hash2 FROM authcore.sessions WHERE handle = $1`, handle).Scan(&h))
	return h
}

func (e *env) jwks(t *testing.T) map[string]*rsa.PublicKey {
	t.Helper()
	r := e.callWith(t, "GET", "/.well-known/jwks.json", nil, nil)
	require.Equal(t, 200, r.status)
	out := map[string]*rsa.PublicKey{}
	for _, k := range r.obj["keys"].([]any) {
		key := k.(map[string]any)
		n, err := base64.RawURLEncoding.DecodeString(key["n"].(string))
		require.NoError(t, err)
		out[key["kid"].(string)] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	}
	return out
}

// checkSignature verifies an access token against the published JWKS, as the SDK does.
func (e *env) checkSignature(t *testing.T, token string) {
	t.Helper()
	header, _, _ := decodeJWT(t, token)
	key := e.jwks(t)[header["kid"].(string)]
	require.NotNil(t, key, "kid %v is in the JWKS", header["kid"])
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	require.NoError(t, err)
	digest := sha256.Sum256([]byte(token[:i]))
	require.NoError(t, rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig))
}

func TestAccessTokenFormat(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "user-1", map[string]any{"iss": "http://api/auth", "st-ev": map[string]any{"v": false, "t": 1700000000000}}, false)
	at, rt := tokenOf(t, res, "accessToken"), tokenOf(t, res, "refreshToken")
	header, payload, rawHeader := decodeJWT(t, at)

	assert.Regexp(t, `^\{"alg":"RS256","typ":"JWT","kid":"d-[0-9a-f-]{36}","version":"4"\}$`, rawHeader)
	assert.Equal(t, "4", header["version"], "a JSON string")
	assert.Equal(t, "user-1", payload["sub"])
	assert.Equal(t, "public", payload["tId"])
	assert.Equal(t, str(t, res, "session.handle"), payload["sessionHandle"])
	assert.Equal(t, sha(rt), payload["refreshTokenHash1"])
	for _, name := range []string{"parentRefreshTokenHash1", "antiCsrfToken"} {
		v, present := payload[name]
		assert.True(t, present, "%s present", name)
		assert.Nil(t, v, "%s null", name)
	}
	assert.NotContains(t, payload, "rsub")
	assert.Equal(t, "http://api/auth", payload["iss"], "custom claims are flattened")
	assert.Equal(t, map[string]any{"v": false, "t": float64(1700000000000)}, payload["st-ev"])
	exp, iat := payload["exp"].(float64), payload["iat"].(float64)
	assert.Equal(t, float64(3600), exp-iat)
	assert.Equal(t, exp*1000, res["accessToken"].(map[string]any)["expiry"])
	assert.Nil(t, res["antiCsrfToken"])
	e.checkSignature(t, at)

	// The refresh token is sealed: it shows nothing of the session.
	assert.NotContains(t, rt, str(t, res, "session.handle"))
	assert.Equal(t, sha(sha(rt)), e.storedHash2(t, str(t, res, "session.handle")), "only sha256(sha256(rt)) is stored")

	// A static-key session, and anti-CSRF.
	res = e.call(t, "POST", "/public/recipe/session", map[string]any{"userId": "user-1", "userDataInJWT": map[string]any{},
		"userDataInDatabase": map[string]any{}, "enableAntiCsrf": true, "useDynamicSigningKey": false}).ok(t)
	header, payload, _ = decodeJWT(t, tokenOf(t, res, "accessToken"))
	assert.True(t, strings.HasPrefix(header["kid"].(string), "s-"), header["kid"])
	assert.Equal(t, res["antiCsrfToken"], payload["antiCsrfToken"])
	assert.IsType(t, "", res["antiCsrfToken"])
	e.checkSignature(t, tokenOf(t, res, "accessToken"))
}

func TestRefreshRotationAndTheft(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", nil, false)
	handle, rt0 := str(t, res, "session.handle"), tokenOf(t, res, "refreshToken")

	r1 := e.refresh(t, rt0, nil).ok(t)
	rt1 := tokenOf(t, r1, "refreshToken")
	_, p1, _ := decodeJWT(t, tokenOf(t, r1, "accessToken"))
	assert.Equal(t, sha(rt0), p1["parentRefreshTokenHash1"])
	assert.Equal(t, sha(rt1), p1["refreshTokenHash1"])
	assert.Equal(t, sha(sha(rt0)), e.storedHash2(t, handle), "a refresh commits nothing")

	// Refreshing the committed token again is allowed (two tabs refreshing at once).
	r1b := e.refresh(t, rt0, nil).ok(t)
	rt1b := tokenOf(t, r1b, "refreshToken")
	assert.NotEqual(t, rt1, rt1b)

	// Using the child commits it and issues a grandchild.
	r2 := e.refresh(t, rt1, nil).ok(t)
	assert.Equal(t, sha(sha(rt1)), e.storedHash2(t, handle))
	rt2 := tokenOf(t, r2, "refreshToken")

	// Older tokens are theft now: the parent, and the sibling of the committed child.
	for name, old := range map[string]string{"parent": rt0, "sibling": rt1b} {
		got := e.refresh(t, old, nil)
		require.Equal(t, "TOKEN_THEFT_DETECTED", got.obj["status"], name)
		assert.Equal(t, handle, str(t, got.obj, "session.handle"), name)
		assert.Equal(t, "u", str(t, got.obj, "session.userId"), name)
	}
	// The core does not revoke (the SDK does): the current token still works.
	e.refresh(t, rt2, nil).ok(t)
	e.call(t, "GET", "/recipe/session?sessionHandle="+handle, nil).ok(t)
}

func TestVerifyPromotesRefreshedToken(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", map[string]any{"c": 1}, false)
	handle, rt0 := str(t, res, "session.handle"), tokenOf(t, res, "refreshToken")

	// Two refreshes race; only the branch whose access token is used first wins.
	a := e.refresh(t, rt0, nil).ok(t)
	b := e.refresh(t, rt0, nil).ok(t)

	v := e.verify(t, tokenOf(t, a, "accessToken"), false).ok(t)
	promoted := tokenOf(t, v, "accessToken")
	_, p, _ := decodeJWT(t, promoted)
	assert.Nil(t, p["parentRefreshTokenHash1"], "the promoted token names no parent")
	assert.Equal(t, sha(tokenOf(t, a, "refreshToken")), p["refreshTokenHash1"])
	assert.Equal(t, float64(1), p["c"])
	assert.Equal(t, sha(sha(tokenOf(t, a, "refreshToken"))), e.storedHash2(t, handle))
	e.checkSignature(t, promoted)

	// Using the same unpromoted token again (a request in flight) is fine: it gets a fresh token.
	assert.Contains(t, e.verify(t, tokenOf(t, a, "accessToken"), false).ok(t), "accessToken")
	// The losing branch's access token stays valid until it expires but is never promoted.
	assert.NotContains(t, e.verify(t, tokenOf(t, b, "accessToken"), false).ok(t), "accessToken")
	// Its refresh token is now theft, and so is the original.
	assert.Equal(t, "TOKEN_THEFT_DETECTED", e.refresh(t, tokenOf(t, b, "refreshToken"), nil).obj["status"])
	assert.Equal(t, "TOKEN_THEFT_DETECTED", e.refresh(t, rt0, nil).obj["status"])
	e.refresh(t, tokenOf(t, a, "refreshToken"), nil).ok(t)
}

func TestVerifyCheckDatabase(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", map[string]any{"role": "member"}, false)
	handle, at := str(t, res, "session.handle"), tokenOf(t, res, "accessToken")

	assert.NotContains(t, e.verify(t, at, true).ok(t), "accessToken", "claims unchanged: no new token")

	// Claims changed offline reach the client at a database-checking verify.
	e.call(t, "PUT", "/recipe/jwt/data", map[string]any{"sessionHandle": handle, "userDataInJWT": map[string]any{"role": "admin"}}).ok(t)
	assert.NotContains(t, e.verify(t, at, false).ok(t), "accessToken", "stateless verify does not look")
	v := e.verify(t, at, true).ok(t)
	_, p, _ := decodeJWT(t, tokenOf(t, v, "accessToken"))
	assert.Equal(t, "admin", p["role"])
	assert.Equal(t, map[string]any{"role": "admin"}, v["session"].(map[string]any)["userDataInJWT"])

	// A revoked session: stateless verification still accepts the token, the database check not.
	e.call(t, "POST", "/recipe/session/remove", map[string]any{"sessionHandles": []string{handle}}).ok(t)
	e.verify(t, at, false).ok(t)
	got := e.verify(t, at, true)
	assert.Equal(t, "UNAUTHORISED", got.obj["status"], got.raw)
	assert.IsType(t, "", got.obj["message"])
	assert.Equal(t, "UNAUTHORISED", e.refresh(t, tokenOf(t, res, "refreshToken"), nil).obj["status"])
}

func TestAntiCSRF(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", nil, true)
	anti := str(t, res, "antiCsrfToken")
	at, rt := tokenOf(t, res, "accessToken"), tokenOf(t, res, "refreshToken")
	verify := func(token string) reply {
		return e.call(t, "POST", "/recipe/session/verify", map[string]any{
			"accessToken": at, "antiCsrfToken": token, "doAntiCsrfCheck": true, "enableAntiCsrf": true, "checkDatabase": false})
	}
	assert.Equal(t, "TRY_REFRESH_TOKEN", verify("wrong").obj["status"])
	verify(anti).ok(t)

	empty := ""
	wrong := "wrong"
	assert.Equal(t, "UNAUTHORISED", e.refresh(t, rt, &empty).obj["status"], "missing anti-csrf token")
	assert.Equal(t, "UNAUTHORISED", e.refresh(t, rt, &wrong).obj["status"])
	r := e.refresh(t, rt, &anti).ok(t)
	anti2 := str(t, r, "antiCsrfToken")
	assert.NotEqual(t, anti, anti2)
	_, p, _ := decodeJWT(t, tokenOf(t, r, "accessToken"))
	assert.Equal(t, anti2, p["antiCsrfToken"])
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", nil, false)
	handle, at, rt := str(t, res, "session.handle"), tokenOf(t, res, "accessToken"), tokenOf(t, res, "refreshToken")

	e.clock.Advance(time.Hour + time.Second)
	got := e.verify(t, at, false)
	assert.Equal(t, "TRY_REFRESH_TOKEN", got.obj["status"], got.raw)
	r := e.refresh(t, rt, nil).ok(t)

	// The session ends with its refresh token: 100 days after its last commit.
	e.clock.Advance(authcore.DefaultRefreshTokenValidity)
	assert.Equal(t, "UNAUTHORISED", e.refresh(t, tokenOf(t, r, "refreshToken"), nil).obj["status"])
	assert.Equal(t, "UNAUTHORISED", e.call(t, "GET", "/recipe/session?sessionHandle="+handle, nil).obj["status"])
	assert.Equal(t, []any{}, e.call(t, "GET", "/public/recipe/session/user?userId=u", nil).ok(t)["sessionHandles"])

	// The worker's periodic sweep removes the dead row (the core already refuses it).
	n, err := postgres.ExpiredRows{Pool: e.pool, Table: "authcore.sessions", Column: "expires_at"}.Sweep(context.Background(), e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func TestRegenerate(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", map[string]any{"a": 1}, false)
	handle, rt := str(t, res, "session.handle"), tokenOf(t, res, "refreshToken")
	r1 := e.refresh(t, rt, nil).ok(t)
	at1 := tokenOf(t, r1, "accessToken")
	_, before, _ := decodeJWT(t, at1)

	g := e.call(t, "POST", "/recipe/session/regenerate", map[string]any{"accessToken": at1, "userDataInJWT": map[string]any{"b": 2}}).ok(t)
	_, after, _ := decodeJWT(t, tokenOf(t, g, "accessToken"))
	assert.Equal(t, before["exp"], after["exp"], "the expiry is kept")
	assert.Equal(t, before["refreshTokenHash1"], after["refreshTokenHash1"])
	assert.Equal(t, before["parentRefreshTokenHash1"], after["parentRefreshTokenHash1"])
	assert.Equal(t, float64(2), after["b"])
	assert.NotContains(t, after, "a", "the payload is replaced, not merged")
	info := e.call(t, "GET", "/recipe/session?sessionHandle="+handle, nil).ok(t)
	assert.Equal(t, map[string]any{"b": float64(2)}, info["userDataInJWT"])

	// An expired token: the claims are stored, no token comes back (the client refreshes).
	e.clock.Advance(2 * time.Hour)
	g = e.call(t, "POST", "/recipe/session/regenerate", map[string]any{"accessToken": at1, "userDataInJWT": map[string]any{"c": 3}}).ok(t)
	assert.NotContains(t, g, "accessToken")
	_, p, _ := decodeJWT(t, tokenOf(t, e.refresh(t, tokenOf(t, r1, "refreshToken"), nil).ok(t), "accessToken"))
	assert.Equal(t, float64(3), p["c"])

	// A token with a forged signature is refused.
	forged := at1[:strings.LastIndexByte(at1, '.')] + ".AAAA"
	assert.Equal(t, "UNAUTHORISED", e.call(t, "POST", "/recipe/session/regenerate",
		map[string]any{"accessToken": forged, "userDataInJWT": map[string]any{}}).obj["status"])
}

func TestForgedTokens(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	res := e.session(t, "u", nil, false)
	rt, at := tokenOf(t, res, "refreshToken"), tokenOf(t, res, "accessToken")

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	plain := "v1." + base64.RawURLEncoding.EncodeToString([]byte(`{"h":"`+str(t, res, "session.handle")+`","u":"u","t":"public"}`))
	for name, tok := range map[string]string{
		"tampered":        flip(rt, len(rt)/2),
		"plain json":      plain,
		"other core's":    tokenOf(t, other.session(t, "u", nil, false), "refreshToken"),
		"an access token": at,
		"no version":      strings.TrimPrefix(rt, "v1."),
		"prefix only":     "v1.",
	} {
		got := e.refresh(t, tok, nil)
		assert.Equal(t, "UNAUTHORISED", got.obj["status"], name)
	}
	// Access tokens: a bad signature, another core's key, a claim changed.
	parts := strings.Split(at, ".")
	_, claims, _ := decodeJWT(t, at)
	claims["sub"] = "someone-else"
	for name, tok := range map[string]string{
		"signature":      parts[0] + "." + parts[1] + "." + flip(parts[2], 10),
		"other core's":   tokenOf(t, other.session(t, "u", nil, false), "accessToken"),
		"changed claims": parts[0] + "." + encodeJSON(t, claims) + "." + parts[2],
	} {
		assert.Equal(t, "TRY_REFRESH_TOKEN", e.verify(t, tok, false).obj["status"], name)
	}
}

func TestRestartKeepsKeysAndSecret(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", nil, false)
	kids := e.jwks(t)

	// A second core on the same database: another node, or this one after a restart.
	again, err := authcore.New(context.Background(), e.pool, e.cfg)
	require.NoError(t, err)
	second := &env{core: again, pool: e.pool, clock: e.clock, cfg: e.cfg}
	srv := serveHandler(t, again)
	second.url = srv
	assert.Equal(t, keysOf(kids), keysOf(second.jwks(t)), "no new keys")
	second.verify(t, tokenOf(t, res, "accessToken"), true).ok(t)
	second.refresh(t, tokenOf(t, res, "refreshToken"), nil).ok(t)

	// A key one node made signs on the other within a minute, and verifies there at once.
	require.NoError(t, e.core.RotateSigningKey(context.Background()))
	fresh := e.session(t, "u", nil, false)
	newKid, _, _ := decodeJWT(t, tokenOf(t, fresh, "accessToken"))
	stale, _, _ := decodeJWT(t, tokenOf(t, second.session(t, "u", nil, false), "accessToken"))
	assert.NotEqual(t, newKid["kid"], stale["kid"], "not re-read yet")
	e.clock.Advance(time.Minute)
	late, _, _ := decodeJWT(t, tokenOf(t, second.session(t, "u", nil, false), "accessToken"))
	assert.Equal(t, newKid["kid"], late["kid"])
	second.verify(t, tokenOf(t, fresh, "accessToken"), false).ok(t)
	assert.Len(t, second.jwks(t), 3)
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	old := e.session(t, "u", nil, false)
	oldHeader, _, _ := decodeJWT(t, tokenOf(t, old, "accessToken"))

	require.NoError(t, e.core.RotateSigningKey(context.Background()))
	fresh := e.session(t, "u", nil, false)
	freshHeader, _, _ := decodeJWT(t, tokenOf(t, fresh, "accessToken"))
	assert.NotEqual(t, oldHeader["kid"], freshHeader["kid"])
	keys := e.jwks(t)
	assert.Len(t, keys, 3, "both dynamic keys and the static key")
	assert.Contains(t, keys, oldHeader["kid"])
	e.verify(t, tokenOf(t, old, "accessToken"), false).ok(t)
	e.checkSignature(t, tokenOf(t, old, "accessToken"))

	// Once every token the old key signed has expired, it leaves the JWKS (a minute later than
	// that, for nodes that learn of the new key late).
	e.clock.Advance(time.Hour + time.Second)
	assert.Len(t, e.jwks(t), 3)
	e.clock.Advance(time.Minute)
	keys = e.jwks(t)
	assert.Len(t, keys, 2)
	assert.NotContains(t, keys, oldHeader["kid"])
	assert.Contains(t, keys, freshHeader["kid"])

	// Time-based rotation: after a week the next token is signed by a new key.
	e.clock.Advance(authcore.DefaultSigningKeyRotation)
	week := e.session(t, "u", nil, false)
	weekHeader, _, _ := decodeJWT(t, tokenOf(t, week, "accessToken"))
	assert.NotEqual(t, freshHeader["kid"], weekHeader["kid"])
	assert.Len(t, e.jwks(t), 3)
	e.checkSignature(t, tokenOf(t, week, "accessToken"))
}

// TestConcurrentRefresh commits one refresh from several requests at once: the row lock makes
// each see a consistent session, so none reports theft.
func TestConcurrentRefresh(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", nil, false)
	rt0 := tokenOf(t, res, "refreshToken")
	// One refresh: its refresh token and its access token each try to commit it, many times.
	refreshed := e.refresh(t, rt0, nil).ok(t)
	child := tokenOf(t, refreshed, "refreshToken")

	const n = 4
	var wg sync.WaitGroup
	statuses := make(chan any, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			statuses <- e.refresh(t, child, nil).obj["status"]
		}()
		go func() {
			defer wg.Done()
			statuses <- e.verify(t, tokenOf(t, refreshed, "accessToken"), false).obj["status"]
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		assert.Equal(t, "OK", s)
	}
}

// TestSingleConnectionPool runs every session operation on a pool of one connection, with the
// keys due for a re-read and a rotation: no transaction may wait for a second connection.
func TestSingleConnectionPool(t *testing.T) {
	_, url := pgtest.NewWith(t, authcore.Migrations())
	pool, err := postgres.Connect(context.Background(), url, 1)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	clk := &clock{}
	core, err := authcore.New(context.Background(), pool, testConfig(clk))
	require.NoError(t, err)
	e := &env{core: core, pool: pool, clock: clk, url: serveHandler(t, core)}

	res := e.session(t, "u", nil, false)
	clk.Advance(authcore.DefaultSigningKeyRotation)
	r := e.refresh(t, tokenOf(t, res, "refreshToken"), nil).ok(t)
	clk.Advance(2 * time.Minute)
	e.verify(t, tokenOf(t, r, "accessToken"), true).ok(t)
	clk.Advance(authcore.DefaultSigningKeyRotation)
	e.refresh(t, tokenOf(t, r, "refreshToken"), nil).ok(t)
}
