package identitydb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// seed makes an organization of n members with varied names, roles, states and logins, next to a
// second organization of the same size (so that the organization filter matters).
func seed(tb testing.TB, n int) (*identity.Service, identity.Principal) {
	tb.Helper()
	ctx := context.Background()
	pool, _ := pgtest.New(tb)
	var orgs []string
	for range 2 {
		owner := uuid.NewString()
		org := uuid.NewString()
		tx, err := pool.Begin(ctx) // the owner's foreign key is checked at commit
		if err != nil {
			tb.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op; on Fatal it frees the connection
		if _, err := tx.Exec(ctx, `
			INSERT INTO organizations (id, name, industry, size, country, city, admin_user_id)
			VALUES ($1, 'Org', 'Other', 'large', 'Saudi Arabia', 'Riyadh', $2)`, org, owner); err != nil {
			tb.Fatal(err)
		}
		// Names from a few dozen syllables, so searches match realistic fractions of the table.
		if _, err := tx.Exec(ctx, `
			WITH s AS (SELECT ARRAY['ah','mad','sa','ra','fa','isal','no','ura','kha','lid','hu','da','ya','sir','mo','na','ta','rek','la','ila'] AS p)
			INSERT INTO users (id, organization_id, email, first_name, last_name, role, is_active, created_at, last_login_at)
			SELECT CASE WHEN i = 1 THEN $3::uuid ELSE gen_random_uuid() END, $1,
			       'member' || i || '.' || $2 || '@bench.example',
			       initcap(p[1 + i % 20] || p[1 + (i / 20) % 20]),
			       initcap(p[1 + (i / 7) % 20] || p[1 + (i / 400) % 20] || 'i'),
			       CASE WHEN i % 25 = 0 OR i = 1 THEN 'admin' ELSE 'member' END,
			       i % 10 <> 0,
			       now() - (i || ' minutes')::interval,
			       CASE WHEN i % 4 = 0 THEN NULL ELSE now() - ((i % 1000) || ' hours')::interval END
			FROM s, generate_series(1, $4) i`, org, strconv.Itoa(len(orgs)), owner, n); err != nil {
			tb.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			tb.Fatal(err)
		}
		orgs = append(orgs, org)
	}
	if _, err := pool.Exec(ctx, `ANALYZE users`); err != nil {
		tb.Fatal(err)
	}
	return identity.NewService(identity.Deps{Store: identitydb.New(pool)}), identity.Principal{OrganizationID: orgs[0]}
}

// BenchmarkMemberList is the admin's member table of an organization of 10,000 members: one page
// with the total matching the filters and the organization's totals (three queries), for the
// searches, filters and sorts the UI offers. It reports the p50 and p95 of one page.
func BenchmarkMemberList(b *testing.B) {
	svc, p := seed(b, 10_000)
	ctx := context.Background()
	queries := []identity.MemberQuery{
		{},
		{Search: "ah"},
		{Search: "faisal"},
		{Search: "member123"},
		{Role: identity.RoleAdmin},
		{Status: identity.StatusInactive},
		{Search: "mad", Role: identity.RoleMember, Status: identity.StatusActive},
		{Sort: identity.SortLastLogin, Desc: true},
		{Sort: identity.SortEmail, Search: "bench"},
		{Sort: identity.SortCreatedAt, Desc: true, Role: identity.RoleMember},
	}
	for _, q := range queries { // warm the caches and check every query works
		if _, err := svc.Members(ctx, p, q, 20, ""); err != nil {
			b.Fatal(err)
		}
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		start := time.Now()
		list, err := svc.Members(ctx, p, queries[i%len(queries)], 20, "")
		durations = append(durations, time.Since(start))
		if err != nil || list.Total == nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	pgtest.ReportLatencies(b, durations)
}
