package auth

import (
	"fmt"

	"github.com/supertokens/supertokens-golang/recipe/userroles"

	"github.com/p2psandbox/hub/domain/identity"
)

// EnsureRoles creates the roles and grants their permissions in the core. It is idempotent and
// runs at every start, so the domain's matrix (identity.RolePermissions) is the only place to
// change them; the core keeps the roles for the token's role claim.
func (a *Auth) EnsureRoles() error {
	for role, perms := range identity.RolePermissions {
		names := make([]string, len(perms))
		for i, p := range perms {
			names[i] = string(p)
		}
		if _, err := userroles.CreateNewRoleOrAddPermissions(role, names); err != nil {
			return fmt.Errorf("auth: creating role %s: %w", role, err)
		}
	}
	return nil
}
