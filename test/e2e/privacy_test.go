package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// An id no user has.
const nobodysID = "0190f0a0-0000-7000-8000-000000000001"

// problemWithout is an answer's problem body with its requestId dropped and every occurrence of
// id (the refused user's, which the answer names) replaced, so that two refusals of two ids
// compare whole.
func problemWithout(t *testing.T, res *harness.Response, id string) string {
	t.Helper()
	body := res.JSON()
	require.NotNil(t, body, res.String())
	delete(body, "requestId")
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), id, "<id>")
}

// assertLikeUnknown asserts that asking for hidden answers exactly as asking for an id that
// does not exist, and that nothing of hidden's shows in the answer.
func assertLikeUnknown(t *testing.T, ask func(id string) *harness.Response, hidden string, secrets ...string) {
	t.Helper()
	unknown := ask(nobodysID)
	res := ask(hidden)
	require.NotEqual(t, http.StatusCreated, res.Status, res.String())
	require.NotEqual(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, unknown.Status, res.Status, "%s\nagainst %s", res, unknown)
	assert.Equal(t, problemWithout(t, unknown, nobodysID), problemWithout(t, res, hidden))
	for _, s := range secrets {
		assert.NotContains(t, res.String(), s)
	}
}

func patchMe(t *testing.T, c *harness.Client, fields map[string]any) map[string]any {
	t.Helper()
	res := c.Do(http.MethodPatch, "/api/v1/me", fields)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	return res.JSON()["user"].(map[string]any)
}

// TestPrivateProfilesAnswerLikeUnknownIds: a user in another organization whose profile is
// private cannot be put in a conversation, and the refusal tells nothing an unknown id would not.
func TestPrivateProfilesAnswerLikeUnknownIds(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal, open := seed.Verified(t, env, srv, "amal"), seed.Verified(t, env, srv, "open")
	hidden := seed.Verified(t, env, srv, "hidden")
	me := patchMe(t, hidden.Client, map[string]any{"firstName": "Zubaida", "lastName": "Quraishi", "profileVisibility": "private"})
	orgName := hidden.Do(http.MethodGet, "/api/v1/me", nil).JSON()["organization"].(map[string]any)["name"].(string)
	secrets := []string{me["firstName"].(string), me["lastName"].(string), orgName}

	assertLikeUnknown(t, func(id string) *harness.Response {
		return amal.Do(http.MethodGet, "/api/v1/users/"+id, nil)
	}, hidden.ID)
	assertLikeUnknown(t, func(id string) *harness.Response {
		return amal.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{id}})
	}, hidden.ID, secrets...)
	assertLikeUnknown(t, func(id string) *harness.Response {
		return amal.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{open.ID, id}, "title": "Line 2"})
	}, hidden.ID, secrets...)
	assertLikeUnknown(t, func(id string) *harness.Response {
		return amal.Do(http.MethodPut, "/api/v1/users/"+id+"/block", nil)
	}, hidden.ID, secrets...)
	list := amal.Do(http.MethodGet, "/api/v1/conversations", nil).String()
	for _, s := range append(secrets, hidden.ID) {
		assert.NotContains(t, list, s)
	}

	// The hidden user may still write to whoever admits them; the conversation shows them then.
	res := hidden.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{amal.ID}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	res = amal.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{hidden.ID}})
	assert.Equal(t, http.StatusOK, res.Status, "the pair's conversation goes on: %s", res)
}

// TestAllowMessagesFrom: the setting's default, its validation, and what each value lets in.
func TestAllowMessagesFrom(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	outsider := seed.Verified(t, env, srv, "outsider")
	o := seed.Founder(t, srv, "closed")
	colleague := seed.Invite(t, env, srv, o, "colleague", "member")
	link := env.Mail.Wait(t, o.Email, "Confirm your email", mailWait).Links[0]
	res := o.Client.Do(http.MethodPost, "/auth/user/email/verify", map[string]any{"method": "token", "token": seed.TokenOf(t, link)})
	require.Equal(t, "OK", res.JSON()["status"], res.String())

	me := o.Client.Do(http.MethodGet, "/api/v1/me", nil).JSON()["user"].(map[string]any)
	assert.Equal(t, "anyone", me["allowMessagesFrom"], "the default")

	for _, bad := range []string{"friends", "", "Anyone", "verified_only"} {
		res := o.Client.Do(http.MethodPatch, "/api/v1/me", map[string]any{"allowMessagesFrom": bad})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%q: %s", bad, res)
		assert.Equal(t, "validation_failed", code(res))
		errors := res.JSON()["errors"].([]any)
		require.Len(t, errors, 1, res.String())
		assert.Equal(t, "allowMessagesFrom", errors[0].(map[string]any)["field"])
	}
	assert.Equal(t, "organization", patchMe(t, o.Client, map[string]any{"allowMessagesFrom": "organization"})["allowMessagesFrom"])
	assert.Equal(t, "organization", o.Client.Do(http.MethodGet, "/api/v1/me", nil).JSON()["user"].(map[string]any)["allowMessagesFrom"])

	// Another organization's direct message is refused like an unknown id; a colleague's is not.
	assertLikeUnknown(t, func(id string) *harness.Response {
		return outsider.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{id}})
	}, o.ID)
	assert.Equal(t, false, outsider.Do(http.MethodGet, "/api/v1/users/"+o.ID, nil).JSON()["canMessage"],
		"the profile stays public and says a message would be refused")
	res = colleague.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{o.ID}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	conv := "/api/v1/conversations/" + res.JSON()["id"].(string)

	// nobody: no new conversation, not even a colleague's; the existing one goes on.
	patchMe(t, o.Client, map[string]any{"allowMessagesFrom": "nobody"})
	other := seed.Invite(t, env, srv, o, "other", "member")
	assertLikeUnknown(t, func(id string) *harness.Response {
		return other.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{id}})
	}, o.ID)
	res = colleague.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{o.ID}})
	assert.Equal(t, http.StatusOK, res.Status, "asking again finds the pair's conversation: %s", res)
	assert.Equal(t, http.StatusCreated, colleague.Do(http.MethodPost, conv+"/messages", map[string]any{"content": "still on"}).Status)
	assert.Equal(t, http.StatusCreated, o.Client.Do(http.MethodPost, conv+"/messages", map[string]any{"content": "yes"}).Status)
}

// TestGroupAddRespectsPrivacy: an admin adds to a group only whom they may reach; anyone else is
// refused like an unknown id, and nothing of them shows.
func TestGroupAddRespectsPrivacy(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	lead, first, later := seed.Verified(t, env, srv, "lead"), seed.Verified(t, env, srv, "first"), seed.Verified(t, env, srv, "later")
	private, closed := seed.Verified(t, env, srv, "private"), seed.Verified(t, env, srv, "closed")
	patchMe(t, private.Client, map[string]any{"profileVisibility": "private"})
	patchMe(t, closed.Client, map[string]any{"allowMessagesFrom": "organization"})

	res := lead.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{first.ID}, "title": "Retrofit"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	path := "/api/v1/conversations/" + res.JSON()["id"].(string) + "/participants"
	add := func(id string) *harness.Response {
		return lead.Do(http.MethodPost, path, map[string]any{"userIds": []string{id}})
	}
	assertLikeUnknown(t, add, private.ID, private.Email)
	assertLikeUnknown(t, add, closed.ID, closed.Email)
	res = add(later.ID)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	var in []string
	for _, p := range res.JSON()["participants"].([]any) {
		in = append(in, p.(map[string]any)["userId"].(string))
	}
	assert.ElementsMatch(t, []string{lead.ID, first.ID, later.ID}, in)
}

// TestMessageSearchInAForeignConversation: someone else's conversation is not found, as the
// document says, exactly like one that does not exist.
func TestMessageSearchInAForeignConversation(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	a, b, outsider := seed.Verified(t, env, srv, "searcha"), seed.Verified(t, env, srv, "searchb"), seed.Verified(t, env, srv, "searchc")
	res := a.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{b.ID}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	require.Equal(t, http.StatusCreated, a.Do(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"content": "calibration of the sensors"}).Status)

	assert.Len(t, items(t, b.Do(http.MethodGet, "/api/v1/messages/search?q=sensors&conversationId="+id, nil)), 1)
	search := func(conv string) *harness.Response {
		return outsider.Do(http.MethodGet, "/api/v1/messages/search?q=sensors&conversationId="+conv, nil)
	}
	res = search(id)
	assert.Equal(t, http.StatusNotFound, res.Status, res.String())
	assert.Equal(t, "not_found", code(res))
	assertLikeUnknown(t, search, id)
}
