package socketio

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/p2psandbox/hub/test/harness"
)

// notifyRoutes adds what the notifications suite needs to the control API.
//
// /invite {token} has the token's user (an admin) invite a new address on node 0 and signs the
// invitee up through the link in the mail, which notifies the inviter: {userId} of the invitee.
func (c *control) notifyRoutes(handle func(path string, fn func(in map[string]any) (any, error))) {
	handle("/invite", func(in map[string]any) (any, error) {
		c.mu.Lock()
		s := c.nodes[0]
		c.mu.Unlock()
		token, _ := in["token"].(string)
		admin := s.Client(c.t)
		admin.AccessToken = token
		email := harness.UniqueEmail("invitee")
		res := admin.Do(http.MethodPost, "/api/v1/organizations/current/invitations",
			map[string]any{"email": email, "firstName": "Ina", "lastName": "Vitee"})
		if res.Status != http.StatusCreated {
			return nil, fmt.Errorf("inviting: %s", res)
		}
		link, err := url.Parse(c.env.Mail.Wait(c.t, email, "invited you", 30*time.Second).Links[0])
		if err != nil {
			return nil, err
		}
		res = s.Client(c.t).Do(http.MethodPost, "/auth/signup", harness.Form(map[string]any{"email": email,
			"password": "Str0ng-pass", "firstName": "Ina", "lastName": "Vitee", "invitationToken": link.Query().Get("token")}))
		body := res.JSON()
		user, _ := body["user"].(map[string]any)
		if body["status"] != "OK" || user == nil {
			return nil, fmt.Errorf("accepting the invitation: %s", res)
		}
		return map[string]any{"userId": user["id"]}, nil
	})
}
