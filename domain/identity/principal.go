// Package identity holds users, organizations, invitations and who is acting: the principal.
package identity

import (
	"slices"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
)

// Organization roles.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Principal is the signed-in user on whose behalf a request or a socket acts.
type Principal struct {
	UserID         string
	OrganizationID string
	Roles          []string
	SessionHandle  string
	EmailVerified  bool
	// ExpiresAt is when the access token the principal was read from expires: a socket that has
	// not sent a fresh one by then is disconnected.
	ExpiresAt time.Time
}

// HasRole reports whether the principal holds role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// Authentication failures. Transports tell them apart: an expired token means "refresh and retry",
// anything else means "sign in".
var (
	ErrUnauthenticated = &errs.Error{Code: errs.Unauthenticated, Message: "sign in to continue"}
	ErrTokenExpired    = &errs.Error{Code: errs.TokenExpired, Message: "the access token has expired; refresh the session"}
)
