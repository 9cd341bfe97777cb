package peopledb_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/people/peopledb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func ids(pg []people.Person) []string {
	out := []string{}
	for _, p := range pg {
		out = append(out, p.ID)
	}
	return out
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	_, err := pool.Exec(context.Background(), sql, args...)
	require.NoError(t, err)
}

// TestDirectoryVisibility: each profile visibility, for each kind of viewer, lists and answers
// (follow, followers) exactly as identity.CanSeeProfile says; inactive and removed people never.
func TestDirectoryVisibility(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	svc := people.NewService(peopledb.New(pool))

	home := identitytest.NewOrg(t, pool)
	verified := identitytest.NewOrg(t, pool)
	plain := identitytest.NewOrg(t, pool)
	exec(t, pool, `UPDATE organizations SET verified_at = now() WHERE id = $1`, verified.ID)

	subjects := map[string]identity.Principal{}
	for _, v := range identity.Visibilities {
		subjects[v] = home.Member(t, pool, identitytest.Named("Subject", v), identitytest.Privacy(v, identity.MessagesFromAnyone))
	}
	inactive := home.Member(t, pool, identitytest.Named("Subject", "inactive"), identitytest.Inactive())
	removed := home.Member(t, pool, identitytest.Named("Subject", "removed"))
	exec(t, pool, `UPDATE users SET deleted_at = now() WHERE id = $1`, removed.UserID)

	viewers := map[string]identity.Principal{
		"colleague":         home.Owner,
		"verified outsider": verified.Owner,
		"plain outsider":    plain.Owner,
	}
	for _, tc := range []struct {
		viewer string
		sees   []string // visibilities listed
	}{
		{"colleague", []string{identity.VisibilityPublic, identity.VisibilityVerified, identity.VisibilityOrganization}},
		{"verified outsider", []string{identity.VisibilityPublic, identity.VisibilityVerified}},
		{"plain outsider", []string{identity.VisibilityPublic}},
	} {
		t.Run(tc.viewer, func(t *testing.T) {
			v := viewers[tc.viewer]
			pg, err := svc.Directory(ctx, v, people.Query{Q: "subject"}, 100, "")
			require.NoError(t, err)
			var want []string
			for _, vis := range tc.sees {
				want = append(want, subjects[vis].UserID)
			}
			assert.ElementsMatch(t, want, ids(pg.Items))
			for vis, s := range subjects {
				_, err := svc.Follow(ctx, v, s.UserID, true)
				if contains(tc.sees, vis) {
					assert.NoError(t, err, vis)
				} else {
					assert.Equal(t, errs.NotFound, errs.CodeOf(err), vis)
					_, err = svc.Follows(ctx, v, s.UserID, true, 10, "")
					assert.Equal(t, errs.NotFound, errs.CodeOf(err), vis)
				}
			}
			for _, hidden := range []string{inactive.UserID, removed.UserID, "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
				_, err := svc.Follow(ctx, v, hidden, true)
				assert.Equal(t, errs.NotFound, errs.CodeOf(err), hidden)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFollows: follows are idempotent, counted, listed newest first with cursors, recorded in
// the event log, and not of oneself.
func TestFollows(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	svc := people.NewService(peopledb.New(pool))
	org := identitytest.NewOrg(t, pool)
	star := org.Owner
	fans := org.Members(t, pool, 5)

	for _, f := range fans {
		for range 2 {
			st, err := svc.Follow(ctx, f, star.UserID, true)
			require.NoError(t, err)
			assert.True(t, st.FollowedByMe)
		}
	}
	c, err := svc.Counts(ctx, star.UserID)
	require.NoError(t, err)
	assert.Equal(t, people.Counts{Followers: 5}, c)
	c, err = svc.Counts(ctx, fans[0].UserID)
	require.NoError(t, err)
	assert.Equal(t, people.Counts{Following: 1}, c)

	var seen []string
	cursor := ""
	for {
		pg, err := svc.Follows(ctx, star, star.UserID, true, 2, cursor)
		require.NoError(t, err)
		seen = append(seen, ids(pg.Items)...)
		if pg.NextCursor == nil {
			break
		}
		cursor = *pg.NextCursor
	}
	assert.ElementsMatch(t, identitytest.IDs(fans), seen)
	assert.Len(t, seen, 5)

	st, err := svc.Follow(ctx, fans[0], star.UserID, false)
	require.NoError(t, err)
	assert.Equal(t, people.FollowState{FollowersCount: 4}, st)
	_, err = svc.Follow(ctx, fans[0], star.UserID, false)
	require.NoError(t, err)

	pg, err := svc.Directory(ctx, fans[1], people.Query{}, 10, "")
	require.NoError(t, err)
	for _, p := range pg.Items {
		assert.NotEqual(t, fans[1].UserID, p.ID, "the caller is left out")
		if p.ID == star.UserID {
			assert.True(t, p.FollowedByMe)
			assert.Equal(t, 4, p.FollowersCount)
		}
	}

	_, err = svc.Follow(ctx, star, star.UserID, true)
	assert.Equal(t, errs.Validation, errs.CodeOf(err))

	var followed, unfollowed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE name = 'people.followed'),
		count(*) FILTER (WHERE name = 'people.unfollowed') FROM domain_events`).Scan(&followed, &unfollowed))
	assert.Equal(t, 5, followed)
	assert.Equal(t, 1, unfollowed)
}

// TestDirectoryFilters: name part, every expertise tag, industry and city, each any case, and
// pages that follow each other without overlap.
func TestDirectoryFilters(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	svc := people.NewService(peopledb.New(pool))
	org := identitytest.NewOrg(t, pool)
	other := identitytest.NewOrg(t, pool)
	exec(t, pool, `UPDATE organizations SET industry = 'Food Processing' WHERE id = $1`, other.ID)
	a := org.Member(t, pool, identitytest.Named("Hala", "Qasim"))
	b := other.Member(t, pool, identitytest.Named("Omar", "Haddad"))
	exec(t, pool, `UPDATE users SET expertise_tags = '{IoT,PLC}', city = 'Jeddah', job_title = 'Engineer' WHERE id = $1`, a.UserID)
	exec(t, pool, `UPDATE users SET expertise_tags = '{IoT}', city = 'Riyadh' WHERE id = $1`, b.UserID)
	viewer := org.Owner

	for _, tc := range []struct {
		name string
		q    people.Query
		want []string
	}{
		{"name part", people.Query{Q: "ALA q"}, []string{a.UserID}},
		{"percent is literal", people.Query{Q: "%"}, nil},
		{"one tag", people.Query{Expertise: []string{"IoT"}}, []string{a.UserID, b.UserID}},
		{"every tag", people.Query{Expertise: []string{"IoT", "PLC"}}, []string{a.UserID}},
		{"industry", people.Query{Industry: "food processing"}, []string{b.UserID, other.Owner.UserID}},
		{"city", people.Query{City: "jeddah"}, []string{a.UserID}},
		{"combined", people.Query{City: "Riyadh", Expertise: []string{"IoT"}}, []string{b.UserID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg, err := svc.Directory(ctx, viewer, tc.q, 100, "")
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, ids(pg.Items))
		})
	}
	p1, err := svc.Directory(ctx, viewer, people.Query{}, 2, "")
	require.NoError(t, err)
	require.NotNil(t, p1.NextCursor)
	p2, err := svc.Directory(ctx, viewer, people.Query{}, 2, *p1.NextCursor)
	require.NoError(t, err)
	all := append(ids(p1.Items), ids(p2.Items)...)
	assert.ElementsMatch(t, []string{a.UserID, b.UserID, other.Owner.UserID}, all)

	for _, q := range []people.Query{{Q: string(make([]rune, 101))}, {Expertise: make11()}} {
		_, err := svc.Directory(ctx, viewer, q, 10, "")
		assert.Equal(t, errs.Validation, errs.CodeOf(err))
	}
	_, err = svc.Directory(ctx, viewer, people.Query{}, 10, "garbage!")
	assert.Equal(t, errs.Validation, errs.CodeOf(err))
}

func make11() []string {
	out := make([]string, 11)
	for i := range out {
		out[i] = string(rune('a' + i))
	}
	return out
}
