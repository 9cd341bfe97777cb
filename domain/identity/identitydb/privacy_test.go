package identitydb_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// privacyWorld is three organizations on one database: "ver" (verified), "plain" and "far".
type privacyWorld struct {
	ctx  context.Context
	pool *pgxpool.Pool
	svc  *identity.Service
}

func newPrivacyWorld(t *testing.T) *privacyWorld {
	pool, _ := pgtest.New(t)
	core := &coreCopy{roles: map[string]string{}}
	return &privacyWorld{ctx: context.Background(), pool: pool,
		svc: identity.NewService(identity.Deps{Store: identitydb.New(pool), Credentials: core})}
}

// founder signs up someone founding an organization and returns them as a principal.
func (w *privacyWorld) founder(t *testing.T, org string) identity.Principal {
	t.Helper()
	id := uuid.NewString()
	acc, err := w.svc.Register(w.ctx, identity.SignUp{UserID: id, Email: id + "@x.example", FirstName: "F", LastName: "L",
		OrganizationName: org, Industry: "Other", OrganizationSize: "small", City: "Riyadh"})
	require.NoError(t, err)
	return identity.Principal{UserID: id, OrganizationID: acc.Organization.ID, EmailVerified: true}
}

// set changes the user's own privacy settings through the service, as PATCH /me does.
func (w *privacyWorld) set(t *testing.T, p identity.Principal, visibility, allow string) {
	t.Helper()
	_, err := w.svc.UpdateProfile(w.ctx, p, identity.ProfileUpdate{ProfileVisibility: &visibility, AllowMessagesFrom: &allow})
	require.NoError(t, err)
}

func TestPrivacySettingsAreStoredAndValidated(t *testing.T) {
	w := newPrivacyWorld(t)
	p := w.founder(t, "Settings")
	acc, err := w.svc.Account(w.ctx, p.UserID)
	require.NoError(t, err)
	assert.Equal(t, identity.DefaultMessagesFrom, acc.User.AllowMessagesFrom, "a new user's default")

	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{identity.MessagesFromAnyone, true},
		{identity.MessagesFromVerified, true},
		{identity.MessagesFromOrganization, true},
		{identity.MessagesFromNobody, true},
		{"friends", false},
		{"", false},
		{"Anyone", false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			v := tt.value
			acc, err := w.svc.UpdateProfile(w.ctx, p, identity.ProfileUpdate{AllowMessagesFrom: &v})
			if !tt.ok {
				e, ok := errs.As(err)
				require.True(t, ok, "%v", err)
				require.Equal(t, errs.Validation, e.Code)
				require.Len(t, e.Fields, 1)
				assert.Equal(t, "allowMessagesFrom", e.Fields[0].Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.value, acc.User.AllowMessagesFrom)
			stored, err := w.svc.Account(w.ctx, p.UserID)
			require.NoError(t, err)
			assert.Equal(t, tt.value, stored.User.AllowMessagesFrom)
		})
	}
	vis := identity.VisibilityVerified
	acc, err = w.svc.UpdateProfile(w.ctx, p, identity.ProfileUpdate{ProfileVisibility: &vis})
	require.NoError(t, err, "verified_only is a visibility the database takes")
	assert.Equal(t, identity.VisibilityVerified, acc.User.ProfileVisibility)
}

// TestReachableAndVisibleUsers runs the rule on stored users: the organization's verification,
// removal and deactivation come from the database, and a hidden user reads like an unknown id.
func TestReachableAndVisibleUsers(t *testing.T) {
	w := newPrivacyWorld(t)
	ver, plain, far := w.founder(t, "Verified"), w.founder(t, "Plain"), w.founder(t, "Far")
	_, err := w.pool.Exec(w.ctx, `UPDATE organizations SET verified_at = now() WHERE id = $1`, ver.OrganizationID)
	require.NoError(t, err)

	// People of "far", each with other settings.
	person := func(visibility, allow string) string {
		return identitytest.Org{ID: far.OrganizationID}.Member(t, w.pool, identitytest.Privacy(visibility, allow)).UserID
	}
	open := person(identity.VisibilityPublic, identity.MessagesFromAnyone)
	verifiedOnly := person(identity.VisibilityPublic, identity.MessagesFromVerified)
	shownToVerified := person(identity.VisibilityVerified, identity.MessagesFromAnyone)
	colleaguesOnly := person(identity.VisibilityPublic, identity.MessagesFromOrganization)
	private := person(identity.VisibilityPrivate, identity.MessagesFromAnyone)
	nobody := person(identity.VisibilityPublic, identity.MessagesFromNobody)
	deactivated := person(identity.VisibilityPublic, identity.MessagesFromAnyone)
	removed := person(identity.VisibilityPublic, identity.MessagesFromAnyone)
	_, err = w.pool.Exec(w.ctx, `UPDATE users SET is_active = false WHERE id = $1`, deactivated)
	require.NoError(t, err)
	_, err = w.pool.Exec(w.ctx, `UPDATE users SET is_active = false, deleted_at = now() WHERE id = $1`, removed)
	require.NoError(t, err)
	unknown, malformed := uuid.NewString(), "not-an-id"
	asked := []string{open, verifiedOnly, shownToVerified, colleaguesOnly, private, nobody, deactivated, removed, unknown, malformed}

	tests := []struct {
		name      string
		viewer    identity.Principal
		reachable []string
		visible   []string
	}{
		{"a verified organization", ver,
			[]string{open, verifiedOnly, shownToVerified},
			[]string{open, verifiedOnly, shownToVerified, colleaguesOnly, nobody, deactivated}},
		{"an organization not verified", plain,
			[]string{open},
			[]string{open, verifiedOnly, colleaguesOnly, nobody, deactivated}},
		{"a colleague", far,
			[]string{open, verifiedOnly, shownToVerified, colleaguesOnly, private},
			[]string{open, verifiedOnly, shownToVerified, colleaguesOnly, nobody, deactivated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reach, err := w.svc.Reachable(w.ctx, tt.viewer, asked)
			require.NoError(t, err)
			var got []string
			for _, id := range asked {
				if reach[id] {
					got = append(got, id)
				}
			}
			assert.Equal(t, tt.reachable, got, "reachable")
			assert.Len(t, reach, len(asked), "an answer for every id, unknown ones included")

			visible, err := w.svc.VisibleUsers(w.ctx, tt.viewer, asked)
			require.NoError(t, err)
			assert.Equal(t, tt.visible, visible, "visible, in the order asked")

			// The profile says the same, and a hidden one answers exactly like an unknown one.
			_, unknownErr := w.svc.PublicProfileOf(w.ctx, tt.viewer, unknown)
			for _, id := range []string{open, private, shownToVerified} {
				pp, err := w.svc.PublicProfileOf(w.ctx, tt.viewer, id)
				if err != nil {
					assert.NotContains(t, tt.visible, id)
					assert.Equal(t, unknownErr, err)
					continue
				}
				assert.Contains(t, tt.visible, id)
				assert.Equal(t, reach[id], pp.CanMessage)
			}
		})
	}

	// Settings changed through the service take effect at once.
	w.set(t, ver, identity.VisibilityOrganization, identity.MessagesFromNobody)
	reach, err := w.svc.Reachable(w.ctx, far, []string{ver.UserID})
	require.NoError(t, err)
	assert.False(t, reach[ver.UserID])
	visible, err := w.svc.VisibleUsers(w.ctx, far, []string{ver.UserID})
	require.NoError(t, err)
	assert.Empty(t, visible)
	visible, err = w.svc.VisibleUsers(w.ctx, ver, []string{ver.UserID})
	require.NoError(t, err)
	assert.Equal(t, []string{ver.UserID}, visible, "oneself")
}
