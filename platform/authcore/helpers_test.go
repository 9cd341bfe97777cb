package authcore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testAPIKey satisfies the real core's key rules (20+ characters of [A-Za-z0-9=-]).
const testAPIKey = "test-api-key-0123456789abcdef"

// clock is the core's injected clock: real time plus an offset that tests move. Real time, not
// a frozen one, because the SDK checks expiries against its own time.Now.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func (c *clock) Set(offset time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = offset
}

// env is one core on a fresh database, served over HTTP on a loopback port.
type env struct {
	core  *authcore.Core
	pool  *pgxpool.Pool
	clock *clock
	url   string
	cfg   authcore.Config
}

func testConfig(c *clock) authcore.Config {
	return authcore.Config{
		APIKeys:    []string{testAPIKey},
		BcryptCost: 4,
		Now:        c.Now,
		Log:        logging.Discard(),
	}
}

// newEnv starts a core with cfg adjusted by the options, serving through Core.Serve.
func newEnv(t *testing.T, adjust ...func(*authcore.Config)) *env {
	t.Helper()
	pool, _ := pgtest.NewWith(t, authcore.Migrations())
	clk := &clock{}
	cfg := testConfig(clk)
	for _, f := range adjust {
		f(&cfg)
	}
	ctx := context.Background()
	core, err := authcore.New(ctx, pool, cfg)
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srvCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Serve(srvCtx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &env{core: core, pool: pool, clock: clk, url: "http://" + ln.Addr().String(), cfg: cfg}
}

// testClient bounds every request, so that a core that hangs fails its test instead of the run.
var testClient = &http.Client{Timeout: 30 * time.Second}

// reply is a core response: the HTTP status, the raw body and, when it is JSON, the object.
type reply struct {
	status int
	header http.Header
	raw    string
	obj    map[string]any
}

// call sends one CDI request the way the SDK does (api-key, cdi-version 3.1, JSON body).
func (e *env) call(t *testing.T, method, path string, body any) reply {
	t.Helper()
	return e.callWith(t, method, path, body, map[string]string{"api-key": testAPIKey, "cdi-version": "3.1"})
}

func (e *env) callWith(t *testing.T, method, path string, body any, headers map[string]string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.obj)
	return r
}

// ok asserts an HTTP 200 with status OK and returns the object.
func (r reply) ok(t *testing.T) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Equal(t, "OK", r.obj["status"], r.raw)
	return r.obj
}

// get follows a dotted path ("session.handle") into a decoded JSON object.
func get(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func str(t *testing.T, obj map[string]any, path string) string {
	t.Helper()
	v, ok := get(obj, path)
	require.True(t, ok, "missing %s in %v", path, obj)
	s, ok := v.(string)
	require.True(t, ok, "%s is %T, not a string", path, v)
	return s
}

// decodeJWT returns the header and the payload of a compact JWT, unverified.
func decodeJWT(t *testing.T, token string) (header, payload map[string]any, rawHeader string) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(h, &header))
	require.NoError(t, json.Unmarshal(p, &payload))
	return header, payload, string(h)
}

// session creates a session through the CDI and returns the response object.
func (e *env) session(t *testing.T, userID string, jwtData map[string]any, antiCSRF bool) map[string]any {
	t.Helper()
	if jwtData == nil {
		jwtData = map[string]any{}
	}
	return e.call(t, "POST", "/public/recipe/session", map[string]any{
		"userId": userID, "userDataInJWT": jwtData, "userDataInDatabase": map[string]any{"db": 1},
		"enableAntiCsrf": antiCSRF, "useDynamicSigningKey": true,
	}).ok(t)
}

func (e *env) signUp(t *testing.T, email, password string) string {
	t.Helper()
	res := e.call(t, "POST", "/public/recipe/signup", map[string]any{"email": email, "password": password}).ok(t)
	return str(t, res, "user.id")
}

func encodeJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// serveHandler serves a core's handler on a test server and returns its URL.
func serveHandler(t testing.TB, core *authcore.Core) string {
	t.Helper()
	srv := httptest.NewServer(core.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}
