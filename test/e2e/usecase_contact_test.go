package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestUseCaseContact: "Contact {contactPerson}" opens a direct conversation with the publisher,
// with the reader's first message, and the same conversation the next time; contact details
// and the contact itself are for confirmed addresses; one's own use case, drafts and unknown ids
// are refused as the rest of the API refuses them.
func TestUseCaseContact(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("ct-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr := seed.Verified(t, env, srv, "ct-amal"), seed.Verified(t, env, srv, "ct-badr")
	unconfirmed := seed.Founder(t, srv, "ct-new")

	id := publishUseCase(t, amal, mod, nil)
	path := "/api/v1/use-cases/" + id
	assert.Equal(t, "Ahmed Al-Faisal", badr.Do(http.MethodGet, path, nil).JSON()["contactPerson"])
	assert.Equal(t, "", unconfirmed.Do(http.MethodGet, path, nil).JSON()["contactPerson"], "contact details wait for a confirmed address")
	res := unconfirmed.Do(http.MethodPost, path+"/contact", map[string]any{"message": "hi"})
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())

	res = badr.Do(http.MethodPost, path+"/contact", map[string]any{"message": "How long did the model take to train?"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	conv := res.JSON()["conversationId"].(string)
	assert.Equal(t, true, res.JSON()["created"])
	assert.Equal(t, "/api/v1/conversations/"+conv, res.Header.Get("Location"))
	history := amal.Do(http.MethodGet, "/api/v1/conversations/"+conv+"/messages", nil)
	require.Equal(t, http.StatusOK, history.Status, history.String())
	msgs := history.JSON()["items"].([]any)
	require.Len(t, msgs, 1)
	assert.Equal(t, "How long did the model take to train?", msgs[0].(map[string]any)["content"])

	res = badr.Do(http.MethodPost, path+"/contact", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, conv, res.JSON()["conversationId"], "the pair's one direct conversation")
	assert.Equal(t, false, res.JSON()["created"])

	res = amal.Do(http.MethodPost, path+"/contact", nil)
	assert.Equal(t, http.StatusConflict, res.Status, "one's own use case: %s", res.String())
	draft := draftUseCase(t, amal, nil)
	for _, p := range []string{"/api/v1/use-cases/" + draft, "/api/v1/use-cases/" + uuid.NewString(), "/api/v1/use-cases/nope"} {
		res = badr.Do(http.MethodPost, p+"/contact", nil)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s: %s", p, res.String())
	}
	res = badr.Do(http.MethodPost, path+"/contact", map[string]any{"message": strings.Repeat("ب", 4001)})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	res = badr.Do(http.MethodPost, path+"/contact", `{"message": 7}`)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	res = badr.Do(http.MethodPost, path+"/contact", `{"message": `)
	assert.Equal(t, http.StatusBadRequest, res.Status, res.String())
}
