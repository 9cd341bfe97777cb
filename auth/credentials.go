package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/supertokens/supertokens-golang/recipe/emailpassword"
	"github.com/supertokens/supertokens-golang/recipe/emailverification"
	"github.com/supertokens/supertokens-golang/recipe/emailverification/evclaims"
	"github.com/supertokens/supertokens-golang/recipe/session"
	"github.com/supertokens/supertokens-golang/recipe/session/claims"
	"github.com/supertokens/supertokens-golang/recipe/userroles"
	"github.com/supertokens/supertokens-golang/recipe/userroles/userrolesclaims"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// Credentials keeps the auth core's copy of what identity changes: emails, roles, sessions. It
// calls the SDK's package functions, so it needs no *Auth and can be built before it (the
// identity service needs it, and Auth needs the identity service). Revocations, when set, carries
// role changes to the tokens already handed out; ended sessions reach it through the SDK.
type Credentials struct {
	Revocations *Revocations
}

var _ identity.Credentials = Credentials{}

const tenant = "public"

// ChangeEmail moves the credentials to a new address.
func (Credentials) ChangeEmail(_ context.Context, userID, email string) error {
	res, err := emailpassword.UpdateEmailOrPassword(userID, &email, nil, nil, nil)
	switch {
	case err != nil:
		return fmt.Errorf("auth: changing the email of %s: %w", userID, err)
	case res.EmailAlreadyExistsError != nil:
		return errs.E(errs.Conflict, "%s already has an account", email)
	case res.UnknownUserIdError != nil:
		return errs.E(errs.NotFound, "no such user")
	case res.OK == nil:
		return fmt.Errorf("auth: changing the email of %s: unexpected answer", userID)
	}
	return nil
}

// SendVerification mails a verification link and marks the user's sessions unverified, so that
// publishing waits for the new address to be confirmed.
func (Credentials) SendVerification(_ context.Context, userID, email string) error {
	if _, err := emailverification.SendEmailVerificationEmail(tenant, userID, &email); err != nil {
		return fmt.Errorf("auth: sending verification to %s: %w", userID, err)
	}
	return refreshClaims(userID, evclaims.EmailVerificationClaim)
}

// SetRoles makes roles (an organization role and any platform role) the user's only roles and
// updates the claims of their sessions.
func (c Credentials) SetRoles(ctx context.Context, userID string, roles []string) error {
	for _, role := range roles {
		if _, err := userroles.AddRoleToUser(tenant, userID, role); err != nil {
			return fmt.Errorf("auth: giving %s the role %s: %w", userID, role, err)
		}
	}
	for other := range identity.RolePermissions {
		if slices.Contains(roles, other) {
			continue
		}
		if _, err := userroles.RemoveUserRole(tenant, userID, other); err != nil {
			return fmt.Errorf("auth: taking the role %s from %s: %w", other, userID, err)
		}
	}
	if err := errors.Join(refreshClaims(userID, userrolesclaims.UserRoleClaim), refreshClaims(userID, userrolesclaims.PermissionClaim)); err != nil {
		return err
	}
	if c.Revocations != nil {
		// The sessions carry the new roles from their next refresh; tokens with the old ones are
		// sent to refresh at once, and open sockets take them over.
		return c.Revocations.SetRoles(ctx, userID, roles)
	}
	return nil
}

// RevokeSessions signs the user out everywhere: refreshing fails from now on, and the access
// tokens in hand are refused on every node within seconds (Revocations, through the SDK).
func (Credentials) RevokeSessions(_ context.Context, userID string) error {
	if _, err := session.RevokeAllSessionsForUser(userID, nil); err != nil {
		return fmt.Errorf("auth: revoking the sessions of %s: %w", userID, err)
	}
	return nil
}

// refreshClaims recomputes a claim in every session of the user, in the core. Clients carry the
// new value from their next refresh on; checks that need the claim refetch it when it is stale
// (roles after five minutes, an unverified email after ten seconds) in any case.
func refreshClaims(userID string, claim *claims.TypeSessionClaim) error {
	handles, err := session.GetAllSessionHandlesForUser(userID, nil)
	if err != nil {
		return fmt.Errorf("auth: sessions of %s: %w", userID, err)
	}
	for _, h := range handles {
		if _, err := session.FetchAndSetClaim(h, claim); err != nil {
			return fmt.Errorf("auth: updating %s in session %s: %w", claim.Key, h, err)
		}
	}
	return nil
}
