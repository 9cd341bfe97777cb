package authcore

import (
	"errors"
	"log/slog"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config tunes a Core. The zero value is usable: every zero field takes the real core's default.
type Config struct {
	// APIKeys lists the accepted API keys. Empty: no key is required. Otherwise every request
	// except the JWKS and /hello must carry one in "api-key" or "Authorization: Bearer".
	APIKeys []string

	AccessTokenValidity            time.Duration // default 1 h
	RefreshTokenValidity           time.Duration // default 100 days; a session ends with its refresh token
	PasswordResetTokenLifetime     time.Duration // default 1 h
	EmailVerificationTokenLifetime time.Duration // default 24 h
	// SigningKeyRotation is the age after which the dynamic (d-) signing key is replaced. Default 168 h.
	SigningKeyRotation time.Duration
	// BcryptCost of new password hashes, default 11 (the real core's). Hashes are "$2a$", so users
	// can move to the real core and back.
	BcryptCost int

	// Now is the clock of every expiry decision; nil means time.Now. Tests move it.
	Now func() time.Time
	Log *slog.Logger
}

// Defaults of the real core (its config.yaml).
const (
	DefaultAccessTokenValidity            = time.Hour
	DefaultRefreshTokenValidity           = 100 * 24 * time.Hour
	DefaultPasswordResetTokenLifetime     = time.Hour
	DefaultEmailVerificationTokenLifetime = 24 * time.Hour
	DefaultSigningKeyRotation             = 168 * time.Hour
	DefaultBcryptCost                     = 11
)

func (c Config) withDefaults() (Config, error) {
	setDuration := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDuration(&c.AccessTokenValidity, DefaultAccessTokenValidity)
	setDuration(&c.RefreshTokenValidity, DefaultRefreshTokenValidity)
	setDuration(&c.PasswordResetTokenLifetime, DefaultPasswordResetTokenLifetime)
	setDuration(&c.EmailVerificationTokenLifetime, DefaultEmailVerificationTokenLifetime)
	setDuration(&c.SigningKeyRotation, DefaultSigningKeyRotation)
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.AccessTokenValidity < time.Second || c.RefreshTokenValidity < time.Second:
		return c, errors.New("authcore: token validities must be at least a second (JWT times are whole seconds)")
	case c.PasswordResetTokenLifetime < 0 || c.EmailVerificationTokenLifetime < 0 || c.SigningKeyRotation < 0:
		return c, errors.New("authcore: lifetimes must be positive")
	case c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost:
		return c, errors.New("authcore: bcrypt cost out of range")
	}
	for _, k := range c.APIKeys {
		if k == "" {
			return c, errors.New("authcore: empty API key")
		}
	}
	return c, nil
}
