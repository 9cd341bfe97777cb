// Package seed creates the people end-to-end tests act as, through the same doors users take:
// the real sign-up (founding an organization), the confirmation mail, and invitations with a
// role. Each Account holds its live session (tokens in headers, as the frontend's header mode).
// Store and service tests that only need rows seed with domain/identity/identitytest instead.
package seed

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/p2psandbox/hub/test/harness"
)

// MailWait bounds the wait for a confirmation or invitation mail.
const MailWait = 20 * time.Second

// Password is every seeded account's password.
const Password = "Str0ng-pass"

// Account is a signed-in user: a client holding the session, the user's and organization's ids
// and the address they signed up with.
type Account struct {
	*harness.Client
	ID    string
	OrgID string
	Email string
}

// Founder signs someone up, founding an organization named after them; they are its admin and
// owner, with an unconfirmed address.
func Founder(t testing.TB, srv *harness.Server, name string) Account {
	t.Helper()
	c := srv.Client(t)
	email := harness.UniqueEmail(name)
	fields := harness.SignUpFields(email)
	fields["organizationName"] = name + " Industries"
	body := c.SignUp(fields)
	return Account{Client: c, Email: email, ID: field(t, body, "user"), OrgID: field(t, body, "organization")}
}

// Verified is Founder with the address confirmed through the link of the confirmation mail, as
// messaging asks: the confirmation answers with an access token that carries it.
func Verified(t testing.TB, env *harness.Env, srv *harness.Server, name string) Account {
	t.Helper()
	a := Founder(t, srv, name)
	a.Confirm(t, env)
	return a
}

// Confirm follows the link of the account's confirmation mail.
func (a Account) Confirm(t testing.TB, env *harness.Env) {
	t.Helper()
	link := env.Mail.Wait(t, a.Email, "Confirm your email", MailWait).Links[0]
	res := a.Do(http.MethodPost, "/auth/user/email/verify", map[string]any{"method": "token", "token": TokenOf(t, link)})
	if res.JSON()["status"] != "OK" {
		t.Fatalf("seed: confirming %s: %s", a.Email, res)
	}
}

// Invite has admin invite someone with role and signs them up through the link in the mail.
func Invite(t testing.TB, env *harness.Env, srv *harness.Server, admin Account, name, role string) Account {
	t.Helper()
	email := harness.UniqueEmail(name)
	res := admin.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
		map[string]any{"email": email, "firstName": strings.ToUpper(name[:1]) + name[1:], "lastName": "Tester", "role": role})
	if res.Status != http.StatusCreated {
		t.Fatalf("seed: inviting %s: %s", email, res)
	}
	token := TokenOf(t, env.Mail.Wait(t, email, "invited you", MailWait).Links[0])
	c := srv.Client(t)
	body := c.SignUp(map[string]any{"email": email, "password": Password, "firstName": "Joined",
		"lastName": "Tester", "invitationToken": token})
	return Account{Client: c, Email: email, ID: field(t, body, "user"), OrgID: admin.OrgID}
}

// TokenOf is the token a mailed link carries.
func TokenOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatalf("seed: no token in %s", link)
	}
	return tok
}

// field is the id of body's object under key.
func field(t testing.TB, body map[string]any, key string) string {
	t.Helper()
	obj, _ := body[key].(map[string]any)
	id, _ := obj["id"].(string)
	if id == "" {
		t.Fatalf("seed: the sign-up answered no %s id: %v", key, body)
	}
	return id
}
