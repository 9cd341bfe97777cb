// Package identity holds users, organizations, invitations and who is acting: the principal.
package identity

import (
	"slices"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
)

// Organization roles: every user holds exactly one.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// RoleModerator is the platform's role: staff who verify and suspend organizations and moderate
// the forum, whatever their organization role (moderation.go).
const RoleModerator = "moderator"

// Roles are the roles u holds: their organization role and any platform role.
func (u User) Roles() []string {
	if u.PlatformRole != "" {
		return []string{u.Role, u.PlatformRole}
	}
	return []string{u.Role}
}

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
