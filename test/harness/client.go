package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Client talks to a server like the React frontend does: SuperTokens in header mode (tokens in
// headers, "Authorization: Bearer") or cookie mode (a cookie jar and the anti-csrf header).
type Client struct {
	t       testing.TB
	Base    string
	HTTP    *http.Client
	Cookies bool // cookie mode

	AccessToken  string
	RefreshToken string
	AntiCSRF     string
}

// NoRedirects returns a copy of c that answers a redirect as it is, so a test sees its
// Location.
func (c *Client) NoRedirects() *Client {
	hc := *c.HTTP
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cp := *c
	cp.HTTP = &hc
	return &cp
}

// Client returns a header-mode client of s.
func (s *Server) Client(t testing.TB) *Client {
	return &Client{t: t, Base: s.URL, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// CookieClient returns a cookie-mode client of s.
func (s *Server) CookieClient(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, Base: s.URL, HTTP: &http.Client{Timeout: 30 * time.Second, Jar: jar}, Cookies: true}
}

// Response is a finished exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object (nil if it is not one).
func (r *Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// String is for failure messages.
func (r *Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// Do sends a request. body is marshalled unless it is a string or []byte. headers are
// "Name: value" strings.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("harness: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Cookies {
		req.Header.Set("st-auth-mode", "cookie")
		if c.AntiCSRF != "" {
			req.Header.Set("anti-csrf", c.AntiCSRF)
		}
	} else {
		req.Header.Set("st-auth-mode", "header")
		if c.AccessToken != "" {
			req.Header.Set("Authorization", "Bearer "+c.AccessToken)
		}
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("harness: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	c.keepTokens(res.Header)
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	contract, err := loadContract()
	if err != nil {
		c.t.Fatalf("harness: loading the OpenAPI document: %v", err)
	}
	contract.check(c.t, method, path, out)
	return out
}

func (c *Client) keepTokens(h http.Header) {
	if v := h.Get("st-access-token"); v != "" {
		c.AccessToken = v
	}
	if v := h.Get("st-refresh-token"); v != "" {
		c.RefreshToken = v
	}
	if v := h.Get("anti-csrf"); v != "" {
		c.AntiCSRF = v
	}
	if h.Get("front-token") == "remove" {
		c.AccessToken, c.RefreshToken, c.AntiCSRF = "", "", ""
	}
}

// Refresh calls the SDK's refresh endpoint with the refresh token (header mode) or cookie.
func (c *Client) Refresh() *Response {
	c.t.Helper()
	saved := c.AccessToken
	if !c.Cookies {
		c.AccessToken = c.RefreshToken
	}
	res := c.Do(http.MethodPost, "/auth/session/refresh", nil)
	if c.AccessToken == c.RefreshToken && !c.Cookies {
		c.AccessToken = saved // the refresh failed and did not hand out a new token
	}
	return res
}

var seq atomic.Int64

// UniqueEmail returns an address no other test uses.
func UniqueEmail(name string) string {
	return fmt.Sprintf("%s.%d.%d@example.com", name, time.Now().UnixNano(), seq.Add(1))
}

// Form is a SuperTokens form body.
func Form(fields map[string]any) map[string]any {
	var ff []map[string]any
	for id, v := range fields {
		ff = append(ff, map[string]any{"id": id, "value": v})
	}
	return map[string]any{"formFields": ff}
}

// SignUpFields is a valid sign-up; override entries to test others.
func SignUpFields(email string) map[string]any {
	return map[string]any{
		"email": email, "password": "Str0ng-pass", "firstName": "Sara", "lastName": "Al-Faisal",
		"organizationName": "Advanced Electronics Co.", "industry": "Electronics Manufacturing",
		"organizationSize": "medium", "country": "Saudi Arabia", "city": "Riyadh",
	}
}

// SignUp signs up with fields and fails the test unless it succeeds.
func (c *Client) SignUp(fields map[string]any) map[string]any {
	c.t.Helper()
	res := c.Do(http.MethodPost, "/auth/signup", Form(fields))
	body := res.JSON()
	if res.Status != http.StatusOK || body["status"] != "OK" {
		c.t.Fatalf("harness: sign-up failed: %s", res)
	}
	return body
}

// SignIn signs in and fails the test unless it succeeds.
func (c *Client) SignIn(email, password string) map[string]any {
	c.t.Helper()
	res := c.Do(http.MethodPost, "/auth/signin", Form(map[string]any{"email": email, "password": password}))
	body := res.JSON()
	if res.Status != http.StatusOK || body["status"] != "OK" {
		c.t.Fatalf("harness: sign-in failed: %s", res)
	}
	return body
}
