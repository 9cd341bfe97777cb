package authcore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// refreshTokenPrefix versions the format, so that a later format can be told apart.
const refreshTokenPrefix = "v1."

// refreshAAD binds sealed payloads to their use: a ciphertext made for something else under the
// same key does not open as a refresh token.
var refreshAAD = []byte("authcore refresh token v1")

// refreshClaims is what a refresh token carries, sealed (AES-256-GCM) so that it can be neither
// read nor forged. Only sha256(sha256(token)) of the committed token is stored.
type refreshClaims struct {
	SessionHandle string  `json:"h"`
	UserID        string  `json:"u"`
	Tenant        string  `json:"t"`
	ParentRTHash1 *string `json:"p"` // hash1 of the token this one replaces, until it is committed
	AntiCSRF      *string `json:"a"`
}

type sealer struct{ aead cipher.AEAD }

// loadSealer reads the refresh-token secret, creating it on first start. Losing it would end
// every session, so it lives in the database with the sessions it protects.
func loadSealer(ctx context.Context, pool *pgxpool.Pool) (*sealer, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// Two nodes starting together: the second insert is a no-op and both read the first secret.
	if _, err := pool.Exec(ctx, `INSERT INTO authcore.refresh_secret (id, secret) VALUES (true, $1)
		ON CONFLICT (id) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("storing refresh-token secret: %w", err)
	}
	var secret []byte
	if err := pool.QueryRow(ctx, `SELECT secret FROM authcore.refresh_secret`).Scan(&secret); err != nil {
		return nil, fmt.Errorf("loading refresh-token secret: %w", err)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("refresh-token secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("refresh-token secret: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(c refreshClaims) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return refreshTokenPrefix + b64.EncodeToString(s.aead.Seal(nonce, nonce, plain, refreshAAD)), nil
}

var errBadRefreshToken = errors.New("invalid refresh token")

func (s *sealer) open(token string) (refreshClaims, error) {
	var c refreshClaims
	if len(token) <= len(refreshTokenPrefix) || token[:len(refreshTokenPrefix)] != refreshTokenPrefix {
		return c, errBadRefreshToken
	}
	raw, err := b64.DecodeString(token[len(refreshTokenPrefix):])
	if err != nil || len(raw) < s.aead.NonceSize() {
		return c, errBadRefreshToken
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], refreshAAD)
	if err != nil {
		return c, errBadRefreshToken
	}
	if err := json.Unmarshal(plain, &c); err != nil || c.SessionHandle == "" {
		return c, errBadRefreshToken
	}
	return c, nil
}

// hash is the lower-case hex sha256 of s: refreshTokenHash1 is hash(token), the stored value
// hash(hash(token)), and mailed tokens are stored as hash(token).
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
