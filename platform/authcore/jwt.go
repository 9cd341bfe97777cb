package authcore

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// protectedClaims are the access-token claims the core owns. The SDK strips them from what it
// sends as userDataInJWT; the core refuses them there (400) so that a custom claim can never
// overwrite the subject, the session or the expiry.
var protectedClaims = map[string]bool{
	"sub": true, "iat": true, "exp": true, "sessionHandle": true, "parentRefreshTokenHash1": true,
	"refreshTokenHash1": true, "antiCsrfToken": true, "rsub": true, "tId": true,
}

// accessToken is the content of a v4 access token.
type accessToken struct {
	kid           string
	userID        string // sub
	tenant        string // tId
	sessionHandle string
	rtHash1       string  // refreshTokenHash1
	parentRTHash1 *string // parentRefreshTokenHash1: set until the refresh that issued it is committed
	antiCSRF      *string
	iat, exp      int64 // seconds
	custom        map[string]json.RawMessage
}

type jwtHeader struct {
	Alg     string `json:"alg"`
	Typ     string `json:"typ"`
	Kid     string `json:"kid"`
	Version string `json:"version"` // a JSON string: the SDK rejects a number
}

var b64 = base64.RawURLEncoding

// sign encodes t as a JWS compact token signed by key. The custom claims are flattened into the
// payload next to the protected ones; the caller has refused protected names among them.
func (t *accessToken) sign(key *signingKey) (string, error) {
	header, err := json.Marshal(jwtHeader{Alg: "RS256", Typ: "JWT", Kid: key.kid, Version: "4"})
	if err != nil {
		return "", err
	}
	claims := make(map[string]any, len(t.custom)+9)
	for k, v := range t.custom {
		claims[k] = v
	}
	claims["sub"] = t.userID
	claims["tId"] = t.tenant
	claims["sessionHandle"] = t.sessionHandle
	claims["refreshTokenHash1"] = t.rtHash1
	claims["parentRefreshTokenHash1"] = t.parentRTHash1 // null is written: the key must be present
	claims["antiCsrfToken"] = t.antiCSRF
	claims["iat"] = t.iat
	claims["exp"] = t.exp
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding access token claims: %w", err)
	}
	signingInput := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.priv, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing access token: %w", err)
	}
	return signingInput + "." + b64.EncodeToString(sig), nil
}

var errBadToken = errors.New("invalid access token")

// parseAccessToken decodes raw without checking its signature and returns the token and the
// signing input and signature for verifySignature.
func parseAccessToken(raw string) (*accessToken, []byte, []byte, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, nil, errBadToken
	}
	headerJSON, err1 := b64.DecodeString(parts[0])
	payloadJSON, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, nil, errBadToken
	}
	var h jwtHeader
	if err := json.Unmarshal(headerJSON, &h); err != nil || h.Alg != "RS256" || h.Kid == "" {
		return nil, nil, nil, errBadToken
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payloadJSON, &claims); err != nil {
		return nil, nil, nil, errBadToken
	}
	t := &accessToken{kid: h.Kid, custom: map[string]json.RawMessage{}}
	ok := claimString(claims, "sub", &t.userID) &&
		claimString(claims, "tId", &t.tenant) &&
		claimString(claims, "sessionHandle", &t.sessionHandle) &&
		claimString(claims, "refreshTokenHash1", &t.rtHash1) &&
		claimNullableString(claims, "parentRefreshTokenHash1", &t.parentRTHash1) &&
		claimNullableString(claims, "antiCsrfToken", &t.antiCSRF) &&
		claimInt(claims, "iat", &t.iat) &&
		claimInt(claims, "exp", &t.exp)
	if !ok {
		return nil, nil, nil, errBadToken
	}
	for k, v := range claims {
		if !protectedClaims[k] {
			t.custom[k] = v
		}
	}
	return t, []byte(parts[0] + "." + parts[1]), sig, nil
}

func verifySignature(key *rsa.PublicKey, signingInput, sig []byte) error {
	digest := sha256.Sum256(signingInput)
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return errBadToken
	}
	return nil
}

func claimString(c map[string]json.RawMessage, name string, dst *string) bool {
	raw, ok := c[name]
	return ok && json.Unmarshal(raw, dst) == nil && *dst != ""
}

// claimNullableString accepts a string, null or (for tokens of other producers) an absent claim.
func claimNullableString(c map[string]json.RawMessage, name string, dst **string) bool {
	raw, ok := c[name]
	if !ok {
		return true
	}
	return json.Unmarshal(raw, dst) == nil
}

func claimInt(c map[string]json.RawMessage, name string, dst *int64) bool {
	raw, ok := c[name]
	if !ok {
		return false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil {
		return false
	}
	*dst = int64(f)
	return true
}

// customClaims decodes a userDataInJWT object and refuses protected names.
func customClaims(raw json.RawMessage) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, badRequest("userDataInJWT must be an object")
		}
	}
	for k := range m {
		if protectedClaims[k] {
			return nil, badRequest(fmt.Sprintf("The user payload contains protected field: %s", k))
		}
	}
	return m, nil
}
