package openapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/rest/openapi"
)

const testBase = `
openapi: 3.1.0
info: { title: Test, version: "1" }
tags:
  - name: operations
paths:
  /health:
    get:
      responses:
        "200": { description: ok }
components:
  schemas:
    Problem: { type: object }
  responses:
    NotFound:
      description: none
      content:
        application/problem+json:
          schema: { $ref: "#/components/schemas/Problem" }
`

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc
}

func at(doc map[string]any, keys ...string) any {
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func TestAssemble(t *testing.T) {
	tests := []struct {
		name      string
		fragments []string
		err       []string // substrings of the error; none means success
		check     func(t *testing.T, doc map[string]any)
	}{
		{
			name:      "base alone",
			fragments: nil,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, "3.1.0", doc["openapi"])
				assert.Equal(t, "Test", at(doc, "info", "title"))
				assert.NotNil(t, at(doc, "paths", "/health", "get"))
			},
		},
		{
			name: "paths and components merge",
			fragments: []string{`
tags: [{ name: a }]
paths:
  /things:
    get:
      responses:
        "200": { content: { application/json: { schema: { $ref: "#/components/schemas/Thing" } } } }
        "404": { $ref: "#/components/responses/NotFound" }
  /health:
    post:
      responses: { "204": { description: poked } }
components:
  schemas:
    Thing: { type: object }
  parameters:
    Q: { name: q, in: query }
`, `
paths:
  /things:
    post:
      parameters: [{ $ref: "#/components/parameters/Q" }]
      responses: { "201": { $ref: "#/components/responses/Created" } }
components:
  responses:
    Created: { description: made }
`},
			check: func(t *testing.T, doc map[string]any) {
				assert.NotNil(t, at(doc, "paths", "/things", "get"))
				assert.NotNil(t, at(doc, "paths", "/things", "post"))
				assert.NotNil(t, at(doc, "paths", "/health", "get"))
				assert.NotNil(t, at(doc, "paths", "/health", "post"))
				assert.NotNil(t, at(doc, "components", "schemas", "Problem"))
				assert.NotNil(t, at(doc, "components", "schemas", "Thing"))
				assert.NotNil(t, at(doc, "components", "responses", "NotFound"))
				assert.NotNil(t, at(doc, "components", "responses", "Created"))
				assert.NotNil(t, at(doc, "components", "parameters", "Q"))
			},
		},
		{
			name: "duplicate method",
			fragments: []string{`
tags: [{ name: first }]
paths:
  /things: { get: { responses: { "200": { description: one } } } }
`, `
tags: [{ name: second }]
paths:
  /things: { get: { responses: { "200": { description: two } } } }
`},
			err: []string{"GET /things", "fragment 1 (tags first)", "fragment 2 (tags second)"},
		},
		{
			name: "duplicate method against the base",
			fragments: []string{`
paths:
  /health: { get: { responses: { "200": { description: again } } } }
`},
			err: []string{"GET /health", "the base document", "fragment 1"},
		},
		{
			name: "conflicting component",
			fragments: []string{`
components:
  schemas:
    Problem: { type: string }
`},
			err: []string{"components.schemas.Problem", "the base document", "fragment 1"},
		},
		{
			name: "identical component accepted",
			fragments: []string{`
components:
  schemas:
    Problem: { type: object }
    Thing: { type: string }
`, `
components:
  schemas:
    Thing: { type: string }
`},
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, map[string]any{"type": "object"}, at(doc, "components", "schemas", "Problem"))
				assert.Equal(t, map[string]any{"type": "string"}, at(doc, "components", "schemas", "Thing"))
			},
		},
		{
			name: "tags concatenated, first of a name wins",
			fragments: []string{`
tags:
  - { name: a, description: first a }
  - { name: operations, description: not the base's }
`, `
tags:
  - { name: b }
  - { name: a, description: second a }
`},
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, []any{
					map[string]any{"name": "operations"},
					map[string]any{"name": "a", "description": "first a"},
					map[string]any{"name": "b"},
				}, doc["tags"])
			},
		},
		{
			name: "unresolved reference",
			fragments: []string{`
paths:
  /things:
    get:
      responses:
        "200": { content: { application/json: { schema: { $ref: "#/components/schemas/Nowhere" } } } }
        "404": { $ref: "#/components/responses/Gone" }
`},
			err: []string{"#/components/schemas/Nowhere", "#/components/responses/Gone"},
		},
		{
			name:      "forbidden top-level key",
			fragments: []string{"info: { title: Mine }\npaths: {}\n"},
			err:       []string{"fragment 1", `"info"`, "only paths, components and tags"},
		},
		{
			name:      "invalid YAML",
			fragments: []string{"paths: [\n"},
			err:       []string{"fragment 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := [][]byte{[]byte(testBase)}
			for _, f := range tt.fragments {
				parts = append(parts, []byte(f))
			}
			b, err := openapi.Assemble(parts...)
			if len(tt.err) > 0 {
				require.Error(t, err)
				for _, s := range tt.err {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, decode(t, b))
		})
	}
}

func TestAssembleNeedsBase(t *testing.T) {
	_, err := openapi.Assemble()
	assert.Error(t, err)
}

// areaFragments reads the areas' parts of the document, as the composition root embeds them.
func areaFragments(t *testing.T) [][]byte {
	t.Helper()
	var parts [][]byte
	for _, area := range []string{"identityapp", "messagingapp", "mediaapp", "notifyapp"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "app", area, "openapi.yaml"))
		require.NoError(t, err)
		parts = append(parts, b)
	}
	return parts
}

func TestAssembleRealDocument(t *testing.T) {
	b, err := openapi.Assemble(append([][]byte{openapi.Base()}, areaFragments(t)...)...)
	require.NoError(t, err)
	doc := decode(t, b)
	assert.Equal(t, "3.1.0", doc["openapi"])
	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok)
	for _, p := range []string{
		"/health", "/health/ready", "/api/v1/me", "/auth/signup", "/auth/signin",
		"/api/v1/conversations", "/api/v1/notifications", "/api/v1/me/avatar",
	} {
		assert.Contains(t, paths, p)
	}
	var tags []string
	for _, tag := range doc["tags"].([]any) {
		tags = append(tags, tag.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"operations", "auth", "identity", "moderation", "messaging", "media", "notifications"}, tags)
}

func TestMount(t *testing.T) {
	gin.SetMode(gin.TestMode)
	doc := []byte(`{"openapi":"3.1.0"}`)
	e := gin.New()
	openapi.Mount(e, doc)
	srv := httptest.NewServer(e)
	defer srv.Close()

	get := func(t *testing.T, path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}

	t.Run("document", func(t *testing.T) {
		res, body := get(t, "/api/v1/openapi.json")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		assert.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"))
		assert.JSONEq(t, string(doc), body)
	})

	t.Run("docs page", func(t *testing.T) {
		res, body := get(t, "/docs")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
		csp := res.Header.Get("Content-Security-Policy")
		require.NotEmpty(t, csp)
		assert.NotRegexp(t, `https?:`, csp)
		assert.Contains(t, csp, "script-src 'self';")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.Contains(t, csp, "worker-src blob:")
		assert.Contains(t, csp, "connect-src 'self'")

		scripts := regexp.MustCompile(`<script[^>]*\ssrc="([^"]*)"`).FindAllStringSubmatch(body, -1)
		require.Len(t, scripts, 1)
		assert.Equal(t, "/docs/redoc.standalone.js", scripts[0][1])
		assert.Contains(t, body, `spec-url="/api/v1/openapi.json"`)
		assert.NotRegexp(t, `(src|href)="(https?:)?//`, body)
		assert.NotContains(t, body, "googleapis")
	})

	t.Run("redoc bundle", func(t *testing.T) {
		res, body := get(t, "/docs/redoc.standalone.js")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
		assert.Contains(t, res.Header.Get("Cache-Control"), "max-age=")
		assert.Greater(t, len(body), 100_000)

		etag := res.Header.Get("ETag")
		require.NotEmpty(t, etag)
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/docs/redoc.standalone.js", nil)
		require.NoError(t, err)
		req.Header.Set("If-None-Match", etag)
		again, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer again.Body.Close()
		assert.Equal(t, http.StatusNotModified, again.StatusCode)
	})
}

func TestAssembleAddsTheResponsesEveryOperationMayGive(t *testing.T) {
	base := []byte(`
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200": {description: ok}
        "400": {description: its own}
components:
  responses:
    BadRequest: {description: bad}
    Validation: {description: invalid}
    Unavailable: {description: away}
`)
	out, err := openapi.Assemble(base)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(out, &doc))
	responses := doc["paths"].(map[string]any)["/a"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)
	assert.Equal(t, map[string]any{"description": "its own"}, responses["400"], "an operation's own answer stays")
	assert.Equal(t, map[string]any{"$ref": "#/components/responses/Validation"}, responses["422"])
	assert.Equal(t, map[string]any{"$ref": "#/components/responses/Unavailable"}, responses["503"])
}
