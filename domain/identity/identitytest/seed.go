// Package identitytest seeds organizations and users straight into the identity tables, for the
// store and service tests and benchmarks of every area that needs people to act. End-to-end tests
// seed through the real sign-up instead (test/seed), since there the sessions and tokens matter.
package identitytest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/identity"
)

// DB is where the rows go: a pool or a connection of a per-test database.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Person is how a seeded user is set up; the zero value (after defaults) is an active member
// with a public profile, open to messages from anyone, whose address is confirmed.
type Person struct {
	FirstName    string
	LastName     string
	Language     string // "en" or "ar"
	Role         string
	Visibility   string
	MessagesFrom string
	Inactive     bool
	Unverified   bool // the principal carries an unconfirmed address
}

// Option changes a Person.
type Option func(*Person)

// Named gives the user a name (notifications and mails show it).
func Named(first, last string) Option {
	return func(p *Person) { p.FirstName, p.LastName = first, last }
}

// Language sets the user's language preference.
func Language(lang string) Option { return func(p *Person) { p.Language = lang } }

// Role gives the user a role (identity.RoleAdmin or identity.RoleMember).
func Role(r string) Option { return func(p *Person) { p.Role = r } }

// Privacy sets who sees the profile and who may open a conversation.
func Privacy(visibility, messagesFrom string) Option {
	return func(p *Person) { p.Visibility, p.MessagesFrom = visibility, messagesFrom }
}

// Inactive seeds a deactivated user.
func Inactive() Option { return func(p *Person) { p.Inactive = true } }

// Unverified hands out a principal without a confirmed address.
func Unverified() Option { return func(p *Person) { p.Unverified = true } }

func person(role string, opts []Option) Person {
	p := Person{FirstName: "Sara", LastName: "Al-Faisal", Language: "en", Role: role, Visibility: identity.VisibilityPublic, MessagesFrom: identity.MessagesFromAnyone}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// Org is a seeded organization: its id and its founder, an admin.
type Org struct {
	ID    string
	Owner identity.Principal
}

// NewOrg seeds an organization and its founder (set up by opts, an admin unless a Role says
// otherwise).
func NewOrg(tb testing.TB, db DB, opts ...Option) Org {
	tb.Helper()
	o := Org{ID: uuid.NewString()}
	owner := person(identity.RoleAdmin, opts)
	o.Owner = principal(uuid.NewString(), o.ID, owner)
	inTx(tb, db, func(ctx context.Context, tx pgx.Tx) error {
		// The organization names its owner and the owner its organization: the owner's foreign
		// key is checked at commit.
		if _, err := tx.Exec(ctx, `
			INSERT INTO organizations (id, name, industry, size, country, city, admin_user_id)
			VALUES ($1, 'Advanced Electronics Co.', 'Electronics Manufacturing', 'medium', 'Saudi Arabia', 'Riyadh', $2)`,
			o.ID, o.Owner.UserID); err != nil {
			return fmt.Errorf("organization: %w", err)
		}
		return insertUsers(ctx, tx, o.ID, []string{o.Owner.UserID}, owner)
	})
	return o
}

// Members seeds n users of the organization, set up by opts (members unless a Role says
// otherwise), and returns them as principals.
func (o Org) Members(tb testing.TB, db DB, n int, opts ...Option) []identity.Principal {
	tb.Helper()
	p := person(identity.RoleMember, opts)
	ids := make([]string, n)
	out := make([]identity.Principal, n)
	for i := range ids {
		ids[i] = uuid.NewString()
		out[i] = principal(ids[i], o.ID, p)
	}
	inTx(tb, db, func(ctx context.Context, tx pgx.Tx) error { return insertUsers(ctx, tx, o.ID, ids, p) })
	return out
}

// Member seeds one user of the organization.
func (o Org) Member(tb testing.TB, db DB, opts ...Option) identity.Principal {
	tb.Helper()
	return o.Members(tb, db, 1, opts...)[0]
}

// Users seeds an organization of n people and returns their ids, the first being its owner: for
// tests that only need ids to act with.
func Users(tb testing.TB, db DB, n int, opts ...Option) []string {
	tb.Helper()
	o := NewOrg(tb, db, opts...)
	ids := []string{o.Owner.UserID}
	for _, m := range o.Members(tb, db, n-1, opts...) {
		ids = append(ids, m.UserID)
	}
	return ids
}

// Email is the address of a seeded user.
func Email(id string) string { return id + "@seed.example" }

// IDs are the principals' user ids.
func IDs(ps []identity.Principal) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.UserID
	}
	return out
}

func principal(id, org string, p Person) identity.Principal {
	return identity.Principal{UserID: id, OrganizationID: org, Roles: []string{p.Role}, EmailVerified: !p.Unverified}
}

func insertUsers(ctx context.Context, tx pgx.Tx, org string, ids []string, p Person) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO users (id, organization_id, email, first_name, last_name, language_preference, role,
		                   is_active, profile_visibility, allow_messages_from)
		SELECT u, $1, u || '@seed.example', $3, $4, $5, $6, $7, $8, $9 FROM unnest($2::uuid[]) u`,
		org, ids, p.FirstName, p.LastName, p.Language, p.Role, !p.Inactive, p.Visibility, p.MessagesFrom); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	return nil
}

func inTx(tb testing.TB, db DB, fn func(context.Context, pgx.Tx) error) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		tb.Fatalf("identitytest: %v", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit; on failure it frees the connection
	if err := fn(ctx, tx); err != nil {
		tb.Fatalf("identitytest: seeding: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatalf("identitytest: seeding: %v", err)
	}
}
