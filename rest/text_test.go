package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/rest"
)

// profile is a body with the shapes handlers bind: strings, pointers, nested lists, a map, raw JSON.
type profile struct {
	Bio      *string           `json:"bio"`
	Age      int               `json:"age"`
	Tags     []string          `json:"tags"`
	Links    []link            `json:"links"`
	Settings map[string]string `json:"settings"`
	Extra    json.RawMessage   `json:"extra"`
}

type link struct {
	Label string `json:"label"`
}

// hygieneRouter binds profile on POST /bind and reads ?q= and ?n= on GET /query.
func hygieneRouter(t testing.TB) *rest.Router {
	r := newRouter(t.(*testing.T), nil)
	r.POST("/bind", func(c *gin.Context) {
		var p profile
		if rest.BindJSON(c, &p) {
			c.JSON(http.StatusOK, p)
		}
	})
	r.GET("/query", func(c *gin.Context) {
		n, ok := rest.QueryInt(c, "n")
		if !ok {
			return
		}
		b, ok := rest.QueryBool(c, "b")
		if !ok {
			return
		}
		c.JSON(http.StatusOK, gin.H{"q": c.Query("q"), "n": n, "b": b})
	})
	return r
}

func post(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/bind", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestBodiesWithBadText(t *testing.T) {
	r := hygieneRouter(t)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"plain", `{"bio":"hello","tags":["a"],"settings":{"k":"v"},"extra":{"x":"y"}}`, 200, ""},
		{"Arabic and emoji", `{"bio":"مرحبا 😀\nsecond line\ttab"}`, 200, ""},
		{"NUL escaped", `{"bio":"a\u0000b"}`, 422, "bio"},
		{"NUL in a list", `{"tags":["ok","a\u0000"]}`, 422, "tags[1]"},
		{"control in a nested object", `{"links":[{"label":"x"},{"label":"\u001b[31m"}]}`, 422, "links[1].label"},
		{"NUL in a map value", `{"settings":{"k":"\u0000"}}`, 422, "settings.k"},
		{"NUL in a map key", `{"settings":{"k\u0000":"v"}}`, 422, `settings."k\x00"`},
		{"NUL in raw JSON", `{"extra":{"deep":["\u0000"]}}`, 422, "extra.deep[0]"},
		{"invalid UTF-8", "{\"bio\":\"ab\xffcd\"}", 400, ""},
		{"truncated UTF-8", "{\"bio\":\"\xc3\x28abc\"}", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, r, post(tt.body))
			require.Equal(t, tt.status, res.StatusCode, "%v", body)
			if tt.field != "" {
				errors := body["errors"].([]any)
				assert.Equal(t, tt.field, errors[0].(map[string]any)["field"])
			}
		})
	}
}

func TestQueriesWithBadText(t *testing.T) {
	r := hygieneRouter(t)
	tests := []struct {
		query  string
		status int
	}{
		{"q=fine&n=3&b=true", 200},
		{"q=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7", 200}, // Arabic
		{"q=ab%00", 422},
		{"q=ab%00cd", 422},
		{"q=ab%FFcd", 422},
		{"q=%C3%28abc", 422},
		{"q=%07", 422},
		{"%00=x", 422},
		{"q=%ZZ", 400},
		{"n=1e400", 422},
		{"n=99999999999999999999999", 422},
		{"b=maybe", 422},
	}
	for _, tt := range tests {
		res, body := do(t, r, httptest.NewRequest(http.MethodGet, "/query?"+tt.query, nil))
		assert.Equal(t, tt.status, res.StatusCode, "%s: %v", tt.query, body)
		if tt.status >= 400 {
			assert.Equal(t, rest.ProblemContentType, res.Header.Get("Content-Type"))
		}
	}
	res, _ := do(t, r, httptest.NewRequest(http.MethodGet, "/query%00x", nil))
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "a NUL in the path")
}

// TestDatabaseDownIsUnavailable: a request that fails because PostgreSQL cannot be reached
// answers 503 with Retry-After, not 500.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+closedPort(t)+"/x?sslmode=disable&connect_timeout=1")
	require.NoError(t, err)
	defer pool.Close()
	r := newRouter(t, nil)
	r.GET("/db", func(c *gin.Context) {
		_, err := pool.Exec(c.Request.Context(), "SELECT 1")
		rest.Fail(c, err)
	})
	res, body := do(t, r, httptest.NewRequest(http.MethodGet, "/db", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "%v", body)
	assert.Equal(t, "unavailable", body["code"])
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
}

// FuzzBindJSON: whatever the body, BindJSON answers 2xx or 4xx, never 5xx or a panic.
func FuzzBindJSON(f *testing.F) {
	for _, seed := range []string{
		`{"bio":"x"}`, `{"bio":"a\u0000b"}`, "{\"bio\":\"\xff\"}", `{"age":1e400}`, `{"age":"1"}`,
		`{"tags":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		`{"links":[{"label":null}]}`, `{"settings":{"\u0000":"v"}}`, `{"extra":"\u0000"}`, `{"unknown":1}`,
		`{} {}`, `[]`, `null`, ``, `{"age":-99999999999999999999}`, `{"bio":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	r := hygieneRouter(&testing.T{})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, post(string(body)))
		if rec.Code >= 500 {
			t.Fatalf("%q answered %d: %s", body, rec.Code, rec.Body)
		}
	})
}

// FuzzQuery: whatever the query string, the middleware and the query binders answer 2xx or 4xx.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{"q=x", "q=%00", "q=%FF", "n=1e400", "n=-1", "b=%00", "%", "q=%C3%28", "&&&=&", "n=" + strings.Repeat("9", 400)} {
		f.Add(seed)
	}
	r := hygieneRouter(&testing.T{})
	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest(http.MethodGet, "/query", nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q answered %d: %s", query, rec.Code, rec.Body)
		}
	})
}
