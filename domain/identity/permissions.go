package identity

import (
	"slices"

	"github.com/p2psandbox/hub/domain/errs"
)

// Permission is something a role allows. REST routes and socket events name the permission they
// need, never a role, so a new role changes only the matrix below; docs/auth.md shows it.
type Permission string

// Permissions.
const (
	PermOrgRead           Permission = "org:read"
	PermOrgUpdate         Permission = "org:update"
	PermMembersRead       Permission = "members:read"
	PermMembersManage     Permission = "members:manage"
	PermInvitationsManage Permission = "invitations:manage"
	PermAuditRead         Permission = "audit:read"
	PermContentPublish    Permission = "content:publish"
	PermMessagesSend      Permission = "messages:send"
	// Platform permissions, of moderators: across organizations.
	PermOrganizationsModerate Permission = "organizations:moderate" // verify, suspend
	PermForumModerate         Permission = "forum:moderate"         // pin, lock, hide, categories
	PermUseCasesReview        Permission = "usecases:review"        // publish, send back or reject use cases
	// Events (domain/calendar): organization admins create their organization's events;
	// moderators create platform events and change or delete anyone's.
	PermEventsManage   Permission = "events:manage"
	PermEventsModerate Permission = "events:moderate"
)

// RolePermissions is the permission matrix of the organization roles and the platform role.
var RolePermissions = map[string][]Permission{
	RoleAdmin: {
		PermOrgRead, PermOrgUpdate, PermMembersRead, PermMembersManage, PermInvitationsManage,
		PermAuditRead, PermContentPublish, PermMessagesSend, PermEventsManage,
	},
	RoleMember:    {PermOrgRead, PermContentPublish, PermMessagesSend},
	RoleModerator: {PermOrganizationsModerate, PermForumModerate, PermUseCasesReview, PermEventsModerate},
}

// Can reports whether one of the principal's roles grants perm.
func (p Principal) Can(perm Permission) bool {
	for _, r := range p.Roles {
		if slices.Contains(RolePermissions[r], perm) {
			return true
		}
	}
	return false
}

// Require returns nil when the principal holds every permission, else the forbidden error both
// transports answer with.
func (p Principal) Require(perms ...Permission) error {
	for _, perm := range perms {
		if !p.Can(perm) {
			return errs.E(errs.Forbidden, "your role does not allow this (%s)", perm)
		}
	}
	return nil
}
