package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/rest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newRouter(t *testing.T, checks []rest.HealthCheck) *rest.Router {
	t.Helper()
	return rest.NewRouter(rest.Deps{
		Log:          logging.Discard(),
		HTTP:         rest.HTTP{MaxBodyBytes: 1024, CORSOrigins: []string{"http://localhost:5173"}},
		Build:        rest.Build{Version: "test", Commit: "abc", Started: time.Now()},
		Checks:       checks,
		CheckTimeout: 300 * time.Millisecond,
		Registry:     metrics.NewRegistry(),
	})
}

func do(t *testing.T, h http.Handler, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	var body map[string]any
	if b, _ := io.ReadAll(res.Body); len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &body), "body %s", b)
	}
	return res, body
}

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func realChecks(t *testing.T) (pg, rd rest.HealthCheck) {
	pool, _ := pgtest.New(t)
	rdb, _ := redistest.New(t)
	return rest.HealthCheck{Name: "postgres", Check: pool.Ping},
		rest.HealthCheck{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}
}

func TestReadiness(t *testing.T) {
	pg, rd := realChecks(t)

	deadPool, err := pgxpool.New(context.Background(), "postgres://postgres@"+closedPort(t)+"/x?sslmode=disable&connect_timeout=1")
	require.NoError(t, err)
	t.Cleanup(deadPool.Close)
	deadPG := rest.HealthCheck{Name: "postgres", Check: deadPool.Ping}
	deadRedis := goredis.NewClient(&goredis.Options{Addr: closedPort(t), MaxRetries: -1})
	t.Cleanup(func() { deadRedis.Close() })
	deadRD := rest.HealthCheck{Name: "redis", Check: func(ctx context.Context) error { return deadRedis.Ping(ctx).Err() }}

	tests := []struct {
		name   string
		checks []rest.HealthCheck
		status int
		down   string
	}{
		{"all up", []rest.HealthCheck{pg, rd}, http.StatusOK, ""},
		{"redis down", []rest.HealthCheck{pg, deadRD}, http.StatusServiceUnavailable, "redis"},
		{"postgres down", []rest.HealthCheck{deadPG, rd}, http.StatusServiceUnavailable, "postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, newRouter(t, tt.checks), httptest.NewRequest(http.MethodGet, "/health/ready", nil))
			assert.Equal(t, tt.status, res.StatusCode)
			checks := body["checks"].(map[string]any)
			for _, name := range []string{"postgres", "redis"} {
				c := checks[name].(map[string]any)
				assert.Contains(t, c, "latencyMs")
				if name == tt.down {
					assert.Equal(t, "down", c["status"])
				} else {
					assert.Equal(t, "up", c["status"])
				}
			}
			if tt.down != "" {
				assert.Equal(t, rest.ProblemContentType, res.Header.Get("Content-Type"))
				assert.Equal(t, "unavailable", body["code"])
				assert.Contains(t, body["detail"], tt.down+":")
			}
		})
	}
}

func TestReadinessTimesOutSlowCheck(t *testing.T) {
	slow := rest.HealthCheck{Name: "slow", Check: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	start := time.Now()
	res, body := do(t, newRouter(t, []rest.HealthCheck{slow}), httptest.NewRequest(http.MethodGet, "/health/ready", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Contains(t, body["detail"], "slow: context deadline exceeded")
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestLiveness(t *testing.T) {
	res, body := do(t, newRouter(t, nil), httptest.NewRequest(http.MethodGet, "/health", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "test", body["version"])
	assert.Equal(t, "abc", body["commit"])
	assert.Contains(t, body, "uptimeSeconds")
}

func TestProblems(t *testing.T) {
	r := newRouter(t, nil)
	r.GET("/boom", func(*gin.Context) { panic("kaboom") })
	r.POST("/echo", func(c *gin.Context) {
		if _, err := io.ReadAll(c.Request.Body); err != nil {
			rest.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	big := strings.Repeat("x", 2048)

	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"unknown path", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/nowhere", nil) }, 404, "not_found"},
		{"wrong method", func() *http.Request { return httptest.NewRequest(http.MethodDelete, "/health", nil) }, 405, "method_not_allowed"},
		{"panic", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/boom", nil) }, 500, "internal"},
		{"declared body too large", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(big))
		}, 413, "payload_too_large"},
		{"streamed body too large", func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/echo", io.MultiReader(strings.NewReader(big)))
			req.ContentLength = -1 // chunked: the limit is found while reading
			return req
		}, 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, r, tt.req())
			assert.Equal(t, tt.status, res.StatusCode)
			assert.Equal(t, rest.ProblemContentType, res.Header.Get("Content-Type"))
			assert.Equal(t, tt.code, body["code"])
			assert.Equal(t, float64(tt.status), body["status"])
			assert.Equal(t, "urn:p2p:problem:"+tt.code, body["type"])
			assert.NotEmpty(t, body["title"])
			assert.NotEmpty(t, body["detail"])
			assert.Equal(t, res.Header.Get("X-Request-ID"), body["requestId"])
		})
	}

	// The process survives the panic: the next request is served.
	res, _ := do(t, r, httptest.NewRequest(http.MethodGet, "/health", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	// A body within the limit passes.
	res, _ = do(t, r, httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader("small")))
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
}

func TestRequestID(t *testing.T) {
	r := newRouter(t, nil)
	var seen string
	r.GET("/id", func(c *gin.Context) { seen = rest.RequestIDFrom(c.Request.Context()) })

	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"given id is kept", "req-123.abc", true},
		{"missing id is made", "", false},
		{"hostile id is replaced", "bad id\r\nSet-Cookie: x", false},
		{"overlong id is replaced", strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/id", nil)
			if tt.sent != "" {
				req.Header.Set("X-Request-ID", tt.sent)
			}
			res, _ := do(t, r, req)
			got := res.Header.Get("X-Request-ID")
			require.NotEmpty(t, got)
			assert.Equal(t, got, seen, "the handler's context carries the response's id")
			if tt.kept {
				assert.Equal(t, tt.sent, got)
			} else {
				assert.NotEqual(t, tt.sent, got)
				assert.Len(t, got, 36)
			}
		})
	}
}

func TestCORSAndSecurityHeaders(t *testing.T) {
	r := newRouter(t, nil)
	req := httptest.NewRequest(http.MethodOptions, "/health", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "GET")
	res, _ := do(t, r, req)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "http://localhost:5173", res.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", res.Header.Get("Access-Control-Allow-Credentials"))

	req = httptest.NewRequest(http.MethodGet, "/health", nil)
	req.Header.Set("Origin", "http://evil.example")
	res, _ = do(t, r, req)
	assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
}

func TestMetrics(t *testing.T) {
	r := newRouter(t, nil)
	do(t, r, httptest.NewRequest(http.MethodGet, "/health", nil))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	text := rec.Body.String()
	assert.Contains(t, text, `http_request_duration_seconds_count{method="GET",route="/health",status="200"} 1`)
	assert.Contains(t, text, "http_requests_in_flight")
	assert.Contains(t, text, "go_goroutines")
}

func TestFailHidesInternalErrors(t *testing.T) {
	r := newRouter(t, nil)
	r.GET("/fail", func(c *gin.Context) { rest.Fail(c, errors.New("pq: password=secret")) })
	res, body := do(t, r, httptest.NewRequest(http.MethodGet, "/fail", nil))
	assert.Equal(t, 500, res.StatusCode)
	assert.NotContains(t, body["detail"], "secret")
}
