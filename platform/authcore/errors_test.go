package authcore_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/platform/authcore"
)

// TestTransportErrors covers the real core's HTTP conventions: failures are 4xx/5xx with a text
// body, never a business status the SDK would misread.
func TestTransportErrors(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, "err@example.com", "pw-123456")
	good := map[string]string{"api-key": testAPIKey, "cdi-version": "3.1"}
	signin := map[string]any{"email": "err@example.com", "password": "pw-123456"}

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers map[string]string
		status  int
		text    string // exact body; "" = not checked
	}{
		{"no api key", "POST", "/public/recipe/signin", signin, map[string]string{"cdi-version": "3.1"}, 401, "Invalid API key"},
		{"wrong api key", "POST", "/public/recipe/signin", signin, map[string]string{"api-key": "wrong-key-0123456789abc"}, 401, "Invalid API key"},
		{"bearer api key", "POST", "/public/recipe/signin", signin, map[string]string{"Authorization": "Bearer " + testAPIKey}, 200, ""},
		{"apiversion needs the key", "GET", "/apiversion", nil, nil, 401, "Invalid API key"},
		{"apiversion without cdi-version", "GET", "/apiversion", nil, map[string]string{"api-key": testAPIKey}, 200, `{"versions":["3.1"]}`},
		{"jwks is public", "GET", "/.well-known/jwks.json", nil, nil, 200, ""},
		{"hello is public", "GET", "/hello", nil, nil, 200, "Hello"},
		{"missing cdi-version means 3.1", "POST", "/public/recipe/signin", signin, map[string]string{"api-key": testAPIKey}, 200, ""},
		{"newer cdi-version", "POST", "/public/recipe/signin", signin, map[string]string{"api-key": testAPIKey, "cdi-version": "5.0"}, 400, "cdi-version 5.0 not supported"},
		{"unknown path", "GET", "/recipe/nothing", nil, good, 404, "Not found"},
		{"unknown path without key", "GET", "/recipe/nothing", nil, nil, 404, "Not found"},
		{"wrong method", "DELETE", "/public/recipe/signin", nil, good, 405, "Method not supported"},
		{"jwks wrong method", "POST", "/.well-known/jwks.json", nil, nil, 405, "Method not supported"},
		{"bad json", "POST", "/public/recipe/signin", "{not json", good, 400, "Invalid Json Input"},
		{"two json values", "POST", "/public/recipe/signin", `{} {}`, good, 400, "Invalid Json Input"},
		{"missing field", "POST", "/public/recipe/signin", map[string]any{"email": "a@b.c"}, good, 400, "Field name 'password' is invalid in JSON input"},
		{"mistyped field", "POST", "/public/recipe/signin", map[string]any{"email": 1, "password": "x"}, good, 400, "Field name 'email' is invalid in JSON input"},
		{"unexpected field", "POST", "/public/recipe/signin", map[string]any{"email": "a@b.c", "password": "x", "extra": 1}, good, 400, "Field name 'extra' is not expected in JSON input"},
		{"missing query parameter", "GET", "/recipe/session", nil, good, 400, "Field name 'sessionHandle' is missing in GET request"},
		{"user by neither id nor email", "GET", "/recipe/user", nil, good, 400, ""},
		{"unknown tenant", "POST", "/acme/recipe/signin", signin, good, 400, "AppId or tenantId not found => Tenant with the following connectionURIDomain, appId and tenantId combination not found: (, public, acme)"},
		{"protected claim", "POST", "/public/recipe/session", map[string]any{"userId": "u", "userDataInJWT": map[string]any{"sub": "evil"},
			"userDataInDatabase": map[string]any{}, "enableAntiCsrf": false, "useDynamicSigningKey": true}, good, 400, "The user payload contains protected field: sub"},
		{"protected claim in jwt data", "PUT", "/recipe/jwt/data", map[string]any{"sessionHandle": "h", "userDataInJWT": map[string]any{"exp": 1}}, good, 400, ""},
		{"protected claim in regenerate", "POST", "/recipe/session/regenerate", map[string]any{"accessToken": "a.b.c", "userDataInJWT": map[string]any{"tId": "x"}}, good, 400, ""},
		{"userDataInJWT not an object", "POST", "/public/recipe/session", map[string]any{"userId": "u", "userDataInJWT": []int{1},
			"userDataInDatabase": map[string]any{}}, good, 400, "Field name 'userDataInJWT' is invalid in JSON input"},
		{"update without email or password", "PUT", "/recipe/user", map[string]any{"userId": "u"}, good, 400, ""},
		{"remove without handles or user", "POST", "/recipe/session/remove", map[string]any{}, good, 400, ""},
		{"reset with another method", "POST", "/public/recipe/user/password/reset", map[string]any{"method": "code", "token": "t", "newPassword": "p"}, good, 400, ""},
		{"trailing slash and capitals", "POST", "/Public/Recipe/Signin/", signin, good, 200, ""},
		{"unprefixed tenant API means public", "POST", "/recipe/signin", signin, good, 200, ""},
		{"prefixed app-wide API", "GET", "/public/recipe/roles", nil, good, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.callWith(t, tt.method, tt.path, tt.body, tt.headers)
			assert.Equal(t, tt.status, r.status, r.raw)
			if tt.text != "" {
				assert.Equal(t, tt.text, r.raw)
			}
		})
	}
}

func TestNoAPIKeyConfigured(t *testing.T) {
	e := newEnv(t, func(c *authcore.Config) { c.APIKeys = nil })
	r := e.callWith(t, "GET", "/recipe/roles", nil, nil)
	assert.Equal(t, http.StatusOK, r.status, r.raw)
}

func TestSeveralAPIKeys(t *testing.T) {
	e := newEnv(t, func(c *authcore.Config) { c.APIKeys = []string{"first-key-0123456789abc", testAPIKey} })
	for _, key := range []string{"first-key-0123456789abc", testAPIKey} {
		assert.Equal(t, http.StatusOK, e.callWith(t, "GET", "/recipe/roles", nil, map[string]string{"api-key": key}).status)
	}
	assert.Equal(t, http.StatusUnauthorized, e.callWith(t, "GET", "/recipe/roles", nil, map[string]string{"api-key": "first-key"}).status)
}

// TestStorageFailureIs500 pins pitfall 2 of the spec: a failure is an HTTP error, never a business
// status that the SDK would read as "wrong credentials" or "token theft".
func TestStorageFailureIs500(t *testing.T) {
	e := newEnv(t)
	res := e.session(t, "u", nil, false)
	e.pool.Close()
	for name, r := range map[string]reply{
		"signin":  e.call(t, "POST", "/public/recipe/signin", map[string]any{"email": "a@b.c", "password": "p"}),
		"signup":  e.call(t, "POST", "/public/recipe/signup", map[string]any{"email": "a@b.c", "password": "p"}),
		"refresh": e.refresh(t, tokenOf(t, res, "refreshToken"), nil),
	} {
		assert.Equal(t, http.StatusInternalServerError, r.status, name)
		assert.Equal(t, "Internal Error", r.raw, name)
	}
	// The JWKS answers from the keys in memory: without it every SDK request would fail.
	r := e.callWith(t, "GET", "/.well-known/jwks.json", nil, nil)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Len(t, r.obj["keys"], 2)
}
