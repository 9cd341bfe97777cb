package auth

import (
	"fmt"

	"github.com/supertokens/supertokens-golang/recipe/userroles"

	"github.com/p2psandbox/hub/domain/identity"
)

// Permissions of the organization roles. docs/auth.md shows this matrix; routes check a
// permission rather than a role wherever one exists, so a new role needs no route changes.
const (
	PermOrgRead           = "org:read"
	PermOrgUpdate         = "org:update"
	PermMembersRead       = "members:read"
	PermMembersManage     = "members:manage"
	PermInvitationsManage = "invitations:manage"
	PermAuditRead         = "audit:read"
	PermContentPublish    = "content:publish"
	PermMessagesSend      = "messages:send"
)

// RolePermissions is the permission matrix.
var RolePermissions = map[string][]string{
	identity.RoleAdmin: {
		PermOrgRead, PermOrgUpdate, PermMembersRead, PermMembersManage, PermInvitationsManage,
		PermAuditRead, PermContentPublish, PermMessagesSend,
	},
	identity.RoleMember: {PermOrgRead, PermContentPublish, PermMessagesSend},
}

// EnsureRoles creates the roles and grants their permissions in the core. It is idempotent and
// runs at every start, so the matrix above is the only place to change them.
func (a *Auth) EnsureRoles() error {
	for role, perms := range RolePermissions {
		if _, err := userroles.CreateNewRoleOrAddPermissions(role, perms); err != nil {
			return fmt.Errorf("auth: creating role %s: %w", role, err)
		}
	}
	return nil
}
