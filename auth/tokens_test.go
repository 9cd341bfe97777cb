package auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The one-pass token check says yes only to tokens the SDK accepts, with the same principal.
// Every case is a token signed with the core's own keys (read from its table), so the SDK's
// verdict is about the one field each case changes, not about a signature.
func TestTokenCheckAgreesWithTheSDK(t *testing.T) {
	a, issued, pool := setup(t)
	dynamic, static := signingKeys(t, pool)
	header, payload := decodeToken(t, issued)
	now := time.Now()
	hour := float64(now.Add(time.Hour).Unix())

	tests := []struct {
		name string
		edit func(h, p map[string]any)
		key  *signing // nil: the newest dynamic key
		fast bool     // the one-pass check decides (otherwise the SDK does)
	}{
		{name: "as issued", fast: true},
		{name: "email verified", edit: func(_, p map[string]any) { p["st-ev"] = map[string]any{"v": true, "t": 1} }, fast: true},
		{name: "roles with a value of another type", edit: func(_, p map[string]any) {
			p["st-role"] = map[string]any{"v": []any{"admin", 5, "member"}, "t": 1}
		}, fast: true},
		{name: "a claim that is not an object", edit: func(_, p map[string]any) { p["st-ev"] = true }, fast: true},
		{name: "claim value under another case", edit: func(_, p map[string]any) { p["st-ev"] = map[string]any{"V": true} }, fast: true},
		{name: "explicit null parent refresh token", edit: func(_, p map[string]any) { p["parentRefreshTokenHash1"] = nil }, fast: true},
		{name: "parent refresh token", edit: func(_, p map[string]any) { p["parentRefreshTokenHash1"] = "abc" }},
		{name: "expired", edit: func(_, p map[string]any) { p["exp"] = float64(now.Add(-time.Minute).Unix()) }},
		{name: "expiring this second", edit: func(_, p map[string]any) { p["exp"] = float64(now.Unix()) }},
		{name: "fractional expiry", edit: func(_, p map[string]any) { p["exp"] = hour + 0.5 }},
		{name: "expiry as a string", edit: func(_, p map[string]any) { p["exp"] = "4102444800" }},
		{name: "issued in the future", edit: func(_, p map[string]any) { p["iat"] = hour }},
		{name: "not before", edit: func(_, p map[string]any) { p["nbf"] = hour }},
		{name: "no organization", edit: func(_, p map[string]any) { delete(p, "oid") }},
		{name: "organization of another type", edit: func(_, p map[string]any) { p["oid"] = 5 }},
		{name: "organization under another case", edit: func(_, p map[string]any) { p["OID"] = p["oid"]; delete(p, "oid") }},
		{name: "user under another case", edit: func(_, p map[string]any) { p["SUB"] = p["sub"]; delete(p, "sub") }},
		{name: "padded user id", edit: func(_, p map[string]any) { p["sub"] = " " + p["sub"].(string) }},
		{name: "no session handle", edit: func(_, p map[string]any) { delete(p, "sessionHandle") }},
		{name: "no refresh token hash", edit: func(_, p map[string]any) { delete(p, "refreshTokenHash1") }},
		{name: "no tenant", edit: func(_, p map[string]any) { delete(p, "tId") }},
		{name: "version 3", edit: func(h, _ map[string]any) { h["version"] = "3" }},
		{name: "version as a number", edit: func(h, _ map[string]any) { h["version"] = 4 }},
		{name: "HS256 in the header", edit: func(h, _ map[string]any) { h["alg"] = "HS256" }},
		{name: "unknown kid", edit: func(h, _ map[string]any) { h["kid"] = "d-00000000-0000-0000-0000-000000000000" }},
		{name: "the static key", key: &static},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := clone(t, header), clone(t, payload)
			key := dynamic
			if tt.key != nil {
				key = *tt.key
				h["kid"] = key.kid
			}
			if tt.edit != nil {
				tt.edit(h, p)
			}
			token := signToken(t, key.priv, h, p)
			fastP, fast := a.CheckToken(token, now)
			sdkP, sdkErr := a.SDKPrincipal(token)
			assert.Equal(t, tt.fast, fast)
			if fast {
				require.NoError(t, sdkErr, "the SDK refuses what the one-pass check accepted")
				assert.Equal(t, sdkP, fastP)
				assert.NotEmpty(t, fastP.UserID)
				assert.NotEmpty(t, fastP.OrganizationID)
			}
			// Whichever decides, the handshake's answer is the SDK's.
			a.ForgetVerified()
			full, err := a.PrincipalFromToken(context.Background(), token)
			assert.Equal(t, sdkErr, err)
			assert.Equal(t, sdkP, full)
		})
	}

	t.Run("forged signature", func(t *testing.T) {
		h, p := clone(t, header), clone(t, payload)
		p["oid"] = "another-organization"
		forger, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		token := signToken(t, forger, h, p)
		_, fast := a.CheckToken(token, now)
		assert.False(t, fast)
		_, err = a.SDKPrincipal(token)
		assert.Error(t, err)
		// The issued token with the other payload: its signature no longer matches.
		parts := strings.Split(issued, ".")
		tampered := parts[0] + "." + encodeSegment(t, p) + "." + parts[2]
		_, fast = a.CheckToken(tampered, now)
		assert.False(t, fast)
		_, err = a.SDKPrincipal(tampered)
		assert.Error(t, err)
	})
	t.Run("malformed", func(t *testing.T) {
		for _, token := range []string{"", "a", "a.b", "a.b.c.d", issued + ".x", "!!!." + strings.SplitN(issued, ".", 2)[1]} {
			_, fast := a.CheckToken(token, now)
			assert.False(t, fast, token)
		}
	})
	t.Run("the handshake's check", func(t *testing.T) {
		p, err := a.PrincipalFromToken(context.Background(), issued)
		require.NoError(t, err)
		want, err := a.SDKPrincipal(issued)
		require.NoError(t, err)
		assert.Equal(t, want, p)
	})
}

type signing struct {
	kid  string
	priv *rsa.PrivateKey
}

// signingKeys reads the core's newest dynamic key and its static key from its table.
func signingKeys(t *testing.T, pool *pgxpool.Pool) (dynamic, static signing) {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT DISTINCT ON (kind) kind, kid, private_pem FROM authcore.signing_keys ORDER BY kind, created_at DESC`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var kind, kid, text string
		require.NoError(t, rows.Scan(&kind, &kid, &text))
		block, _ := pem.Decode([]byte(text))
		require.NotNil(t, block)
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		require.NoError(t, err)
		s := signing{kid: kid, priv: k.(*rsa.PrivateKey)}
		if kind == "d" {
			dynamic = s
		} else {
			static = s
		}
	}
	require.NoError(t, rows.Err())
	require.NotNil(t, dynamic.priv)
	require.NotNil(t, static.priv)
	return dynamic, static
}

func decodeToken(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, dst))
	}
	return header, payload
}

func clone(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func signToken(t *testing.T, key *rsa.PrivateKey, header, payload map[string]any) string {
	t.Helper()
	input := encodeSegment(t, header) + "." + encodeSegment(t, payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
