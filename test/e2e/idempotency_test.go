package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// Creations retried with an Idempotency-Key run once, whoever's node answers the retry.
func TestIdempotencyKey(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal, badr, carl := seed.Verified(t, env, srv, "amal"), seed.Verified(t, env, srv, "badr"), seed.Verified(t, env, srv, "carl")
	const path = "/api/v1/conversations"
	group := func(title string) map[string]any {
		return map[string]any{"participantIds": []string{badr.ID, carl.ID}, "title": title}
	}
	groups := func(title string) int {
		var n int
		require.NoError(t, db(t, env).QueryRow(context.Background(),
			`SELECT count(*) FROM conversations WHERE kind = 'group' AND title = $1`, title).Scan(&n))
		return n
	}

	first := amal.Do(http.MethodPost, path, group("صيانة الخط ٣"), "Idempotency-Key: 6f1c1b2e-group-1")
	require.Equal(t, http.StatusCreated, first.Status, first.String())
	assert.Empty(t, first.Header.Get("Idempotent-Replayed"))
	again := amal.Do(http.MethodPost, path, group("صيانة الخط ٣"), "Idempotency-Key: 6f1c1b2e-group-1")
	require.Equal(t, http.StatusCreated, again.Status, again.String())
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, first.JSON()["id"], again.JSON()["id"])
	assert.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	assert.Equal(t, 1, groups("صيانة الخط ٣"), "the retry made nothing")

	cases := []struct {
		name   string
		who    seed.Account
		body   map[string]any
		key    string
		status int
		field  string
	}{
		{"the key with another body", amal, group("Another title"), "6f1c1b2e-group-1", http.StatusUnprocessableEntity, "Idempotency-Key"},
		{"a key of 256 characters", amal, group("Long key"), strings.Repeat("k", 256), http.StatusUnprocessableEntity, "Idempotency-Key"},
		{"a key with a space", amal, group("Spaced key"), "two words", http.StatusUnprocessableEntity, "Idempotency-Key"},
		{"another user's same key is theirs", badr, map[string]any{"participantIds": []string{amal.ID, carl.ID}, "title": "Badr's group"}, "6f1c1b2e-group-1", http.StatusCreated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.who.Do(http.MethodPost, path, tc.body, "Idempotency-Key: "+tc.key)
			require.Equal(t, tc.status, res.Status, res.String())
			if tc.field != "" {
				assert.Equal(t, tc.field, res.JSON()["errors"].([]any)[0].(map[string]any)["field"])
			}
		})
	}
	assert.Zero(t, groups("Another title")+groups("Long key")+groups("Spaced key"))

	// A failure keeps nothing: the same key with the mistake corrected runs.
	bad := amal.Do(http.MethodPost, path, map[string]any{"participantIds": []string{}}, "Idempotency-Key: fix-me")
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.String())
	fixed := amal.Do(http.MethodPost, path, group("Fixed"), "Idempotency-Key: fix-me")
	require.Equal(t, http.StatusCreated, fixed.Status, fixed.String())
	assert.Empty(t, fixed.Header.Get("Idempotent-Replayed"))

	// Eight copies at once: one runs, the others wait their turn (409) or get its answer.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		ids      = map[any]bool{}
	)
	for range 8 {
		wg.Go(func() {
			res := amal.Do(http.MethodPost, path, group("Burst"), "Idempotency-Key: burst-1")
			mu.Lock()
			defer mu.Unlock()
			statuses[res.Status]++
			switch res.Status {
			case http.StatusCreated:
				ids[res.JSON()["id"]] = true
			case http.StatusConflict:
				assert.Equal(t, "1", res.Header.Get("Retry-After"))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 8, statuses[http.StatusCreated]+statuses[http.StatusConflict], statuses)
	assert.Len(t, ids, 1, "every success is the same conversation")
	assert.Equal(t, 1, groups("Burst"))

	// An invitation retried after a lost answer: one invitation, the same answer.
	o := seed.Founder(t, srv, "dana")
	email := harness.UniqueEmail("invitee")
	invite := map[string]any{"email": email, "firstName": "Huda", "lastName": "Saleh", "role": "member"}
	one := o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations", invite, "Idempotency-Key: invite-huda")
	require.Equal(t, http.StatusCreated, one.Status, one.String())
	two := o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations", invite, "Idempotency-Key: invite-huda")
	require.Equal(t, http.StatusCreated, two.Status, two.String())
	assert.Equal(t, one.JSON()["id"], two.JSON()["id"])
	// Without the key the same request is the conflict it is.
	three := o.Client.Do(http.MethodPost, "/api/v1/organizations/current/invitations", invite)
	assert.Equal(t, http.StatusConflict, three.Status, three.String())
	var n int
	require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT count(*) FROM invitations WHERE email = $1`, email).Scan(&n))
	assert.Equal(t, 1, n)
	env.Mail.Wait(t, email, "invited you", mailWait)
}
