package e2e

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestTextHygiene: NUL bytes, bytes that are not UTF-8 and control characters in bodies,
// queries and cursors answer a 4xx problem naming the field; before, PostgreSQL refused them
// and the answer was 500 (SQLSTATE 22021).
func TestTextHygiene(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	o := seed.Founder(t, srv, "hygiene")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"name":"a\u0000b","id":"x"}`))
	tests := []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodPatch, "/api/v1/me", map[string]any{"bio": "a\u0000b"}, 422},
		{http.MethodPatch, "/api/v1/me", map[string]any{"bio": "bell\a"}, 422},
		{http.MethodPatch, "/api/v1/me", "{\"bio\":\"ab\xffcd\"}", 400},
		{http.MethodGet, "/api/v1/organizations/current/users?search=ab%00", nil, 422},
		{http.MethodGet, "/api/v1/organizations/current/users?cursor=" + forged, nil, 422},
		{http.MethodGet, "/api/v1/messages/search?q=ab%00cd", nil, 422},
		{http.MethodGet, "/api/v1/messages/search?q=ab%FFcd", nil, 422},
		{http.MethodGet, "/api/v1/messages/search?q=%C3%28abc", nil, 422},
		{http.MethodGet, "/auth/signup/email/exists?email=%00", nil, 422},
		{http.MethodPost, "/auth/signup", `{"formFields":[{"id":"email","value":"x@example.com"},{"id":"firstName","value":"a\u0000"}]}`, 400},
	}
	for _, tt := range tests {
		res := o.Client.Do(tt.method, tt.path, tt.body)
		assert.Equal(t, tt.status, res.Status, "%s %s: %s", tt.method, tt.path, res)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "%s %s", tt.method, tt.path)
	}
	res := o.Client.Do(http.MethodGet, "/api/v1/me", nil)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "a profile is not cached on the way")
}
