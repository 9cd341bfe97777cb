package identitydb_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// coreCopy records what the service asks of the auth core.
type coreCopy struct {
	mu    sync.Mutex
	roles map[string]string
}

func (c *coreCopy) ChangeEmail(context.Context, string, string) error      { return nil }
func (c *coreCopy) SendVerification(context.Context, string, string) error { return nil }
func (c *coreCopy) RevokeSessions(context.Context, string) error           { return nil }
func (c *coreCopy) SetRoles(_ context.Context, userID string, roles []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roles[userID] = roles[0]
	return nil
}

// TestLastActiveAdmin covers the rule on its own: with the owner gone (data from before the
// owner rule, or removed by hand), the last active admin still cannot step down, and two admins
// demoting each other at once leave one of them admin.
func TestLastActiveAdmin(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	store := identitydb.New(pool)
	core := &coreCopy{roles: map[string]string{}}
	svc := identity.NewService(identity.Deps{Store: store, Credentials: core})

	owner := uuid.NewString()
	acc, err := svc.Register(ctx, identity.SignUp{UserID: owner, Email: "o@x.example", FirstName: "O", LastName: "W",
		OrganizationName: "Org", Industry: "Other", OrganizationSize: "small", City: "Riyadh"})
	require.NoError(t, err)
	orgID := acc.Organization.ID
	seeded := identitytest.IDs(identitytest.Org{ID: orgID}.Members(t, pool, 2, identitytest.Role(identity.RoleAdmin)))
	a, b := seeded[0], seeded[1]
	_, err = pool.Exec(ctx, `UPDATE users SET is_active = false, deleted_at = now() WHERE id = $1`, owner)
	require.NoError(t, err)
	as := func(id string) identity.Principal { return identity.Principal{UserID: id, OrganizationID: orgID} }
	member := identity.RoleMember

	// Two admins demote each other at the same moment: the organization's lock lets one through.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i, pair := range [][2]string{{a, b}, {b, a}} {
		wg.Go(func() {
			_, results[i] = svc.UpdateMember(ctx, as(pair[0]), pair[1], identity.MemberUpdate{Role: &member})
		})
	}
	wg.Wait()
	var ok, refused int
	for _, err := range results {
		if err == nil {
			ok++
		} else if errs.CodeOf(err) == errs.Conflict {
			refused++
			assert.Contains(t, err.Error(), "last active admin")
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, 1, refused)

	var admins int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE organization_id = $1 AND role = 'admin' AND is_active AND deleted_at IS NULL`, orgID).Scan(&admins))
	assert.Equal(t, 1, admins)
	var last string
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM users WHERE organization_id = $1 AND role = 'admin' AND deleted_at IS NULL`, orgID).Scan(&last))

	inactive := false
	_, err = svc.UpdateMember(ctx, as(last), last, identity.MemberUpdate{IsActive: &inactive})
	assert.Equal(t, errs.Conflict, errs.CodeOf(err), "nor deactivate themselves")
	assert.Equal(t, errs.Conflict, errs.CodeOf(svc.DeleteMember(ctx, as(last), last)), "nor leave")
	assert.Len(t, core.roles, 1, "the core heard only of the change that happened")
}
