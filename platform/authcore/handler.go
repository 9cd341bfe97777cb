package authcore

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// cdiVersion is the one interface version this core speaks.
const cdiVersion = "3.1"

// defaultTenant is the only tenant: the core has no multitenancy API, so like a fresh real core it
// knows "public" alone.
const defaultTenant = "public"

// maxBody bounds a request body; session data larger than this is a bug on the caller's side.
const maxBody = 1 << 20

type request struct {
	tenant string
	body   *body
	query  *query
}

// done reports bad input: a missing or mistyped field, or an unexpected one.
func (r *request) done() error {
	if r.body != nil {
		return r.body.done()
	}
	return r.query.err
}

type handlerFunc func(ctx context.Context, r *request) (any, error)

// routeTable maps each path (without a tenant prefix) and method to its handler. A tenant prefix
// is accepted on every path, and its absence means "public": the SDK calls app-wide APIs
// unprefixed and tenant APIs with "/public", and older callers may differ.
func (c *Core) routeTable() map[string]map[string]handlerFunc {
	return map[string]map[string]handlerFunc{
		// emailpassword
		"/recipe/signup":                    {http.MethodPost: c.signUp},
		"/recipe/signin":                    {http.MethodPost: c.signIn},
		"/recipe/user":                      {http.MethodGet: c.getUser, http.MethodPut: c.updateUser},
		"/recipe/user/password/reset/token": {http.MethodPost: c.createResetToken},
		"/recipe/user/password/reset":       {http.MethodPost: c.resetPassword},
		// session
		"/recipe/session":            {http.MethodPost: c.createSession, http.MethodGet: c.getSession},
		"/recipe/session/verify":     {http.MethodPost: c.verifySession},
		"/recipe/session/refresh":    {http.MethodPost: c.refreshSession},
		"/recipe/session/regenerate": {http.MethodPost: c.regenerateSession},
		"/recipe/session/remove":     {http.MethodPost: c.removeSessions},
		"/recipe/session/user":       {http.MethodGet: c.sessionHandlesForUser},
		"/recipe/session/data":       {http.MethodPut: c.updateSessionData},
		"/recipe/jwt/data":           {http.MethodPut: c.updateJWTData},
		// emailverification
		"/recipe/user/email/verify/token":        {http.MethodPost: c.createEVToken},
		"/recipe/user/email/verify":              {http.MethodPost: c.verifyEmail, http.MethodGet: c.isEmailVerified},
		"/recipe/user/email/verify/token/remove": {http.MethodPost: c.removeEVTokens},
		"/recipe/user/email/verify/remove":       {http.MethodPost: c.unverifyEmail},
		// userroles
		"/recipe/role":                    {http.MethodPut: c.putRole},
		"/recipe/role/permissions":        {http.MethodGet: c.rolePermissions},
		"/recipe/role/permissions/remove": {http.MethodPost: c.removeRolePermissions},
		"/recipe/permission/roles":        {http.MethodGet: c.permissionRoles},
		"/recipe/role/remove":             {http.MethodPost: c.removeRole},
		"/recipe/roles":                   {http.MethodGet: c.allRoles},
		"/recipe/user/role":               {http.MethodPut: c.addUserRole},
		"/recipe/user/role/remove":        {http.MethodPost: c.removeUserRole},
		"/recipe/user/roles":              {http.MethodGet: c.userRoles},
		"/recipe/role/users":              {http.MethodGet: c.roleUsers},
		// usermetadata
		"/recipe/user/metadata":        {http.MethodGet: c.getMetadata, http.MethodPut: c.updateMetadata},
		"/recipe/user/metadata/remove": {http.MethodPost: c.removeMetadata},
		// users
		"/user/remove": {http.MethodPost: c.deleteUser},
		"/users/count": {http.MethodGet: c.countUsers},
	}
}

func (c *Core) serveHTTP(w http.ResponseWriter, req *http.Request) {
	path := strings.ToLower(strings.TrimRight(req.URL.Path, "/"))

	// The public endpoints: no API key, no cdi-version (the SDK sends neither to the JWKS).
	switch path {
	case "/.well-known/jwks.json":
		if req.Method != http.MethodGet {
			writeText(w, http.StatusMethodNotAllowed, "Method not supported")
			return
		}
		c.serveJWKS(w, req)
		return
	case "/hello":
		writeText(w, http.StatusOK, "Hello")
		return
	case "/apiversion":
		if req.Method != http.MethodGet {
			writeText(w, http.StatusMethodNotAllowed, "Method not supported")
			return
		}
		if !c.apiKeyOK(req) {
			writeText(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		writeJSON(w, map[string]any{"versions": []string{cdiVersion}})
		return
	}

	tenant, rest := defaultTenant, path
	methods, ok := c.routes[rest]
	if !ok {
		if i := strings.IndexByte(path[min(1, len(path)):], '/'); i > 0 {
			tenant, rest = path[1:i+1], path[i+1:]
			methods, ok = c.routes[rest]
		}
	}
	if !ok {
		writeText(w, http.StatusNotFound, "Not found")
		return
	}
	fn := methods[req.Method]
	if fn == nil {
		writeText(w, http.StatusMethodNotAllowed, "Method not supported")
		return
	}
	if !c.apiKeyOK(req) {
		writeText(w, http.StatusUnauthorized, "Invalid API key")
		return
	}
	if v := req.Header.Get("cdi-version"); v != "" && v != cdiVersion {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("cdi-version %s not supported", v))
		return
	}
	if tenant != defaultTenant {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("AppId or tenantId not found => Tenant with the following connectionURIDomain, appId and tenantId combination not found: (, public, %s)", tenant))
		return
	}

	r := &request{tenant: tenant}
	if req.Method == http.MethodGet {
		r.query = &query{v: req.URL.Query()}
	} else {
		raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
		if err != nil {
			writeText(w, http.StatusBadRequest, "Request body too large or unreadable")
			return
		}
		if r.body, err = parseBody(raw); err != nil {
			writeText(w, http.StatusBadRequest, err.Error())
			return
		}
	}

	resp, err := fn(req.Context(), r)
	var bad *errBadRequest
	switch {
	case errors.As(err, &bad):
		writeText(w, http.StatusBadRequest, bad.msg)
	case err != nil:
		c.cfg.Log.ErrorContext(req.Context(), "authcore: request failed",
			"method", req.Method, "path", path, "err", err)
		writeText(w, http.StatusInternalServerError, "Internal Error")
	default:
		writeJSON(w, resp)
	}
}

// apiKeyOK checks the api-key header (or a bearer token, which the real core also accepts)
// against every configured key in constant time.
func (c *Core) apiKeyOK(req *http.Request) bool {
	if len(c.cfg.APIKeys) == 0 {
		return true
	}
	given := req.Header.Get("api-key")
	if given == "" {
		given, _ = strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	}
	if given == "" {
		return false
	}
	match := 0
	for _, k := range c.cfg.APIKeys {
		match |= subtle.ConstantTimeCompare([]byte(given), []byte(k))
	}
	return match == 1
}

// jwksMaxAge is what clients may cache the JWKS for. The SDK refetches on an unknown kid anyway,
// so a short age only bounds how long other readers miss a new key.
const jwksMaxAge = 60

func (c *Core) serveJWKS(w http.ResponseWriter, req *http.Request) {
	keys, err := c.keys.jwks(req.Context())
	if err != nil {
		c.cfg.Log.ErrorContext(req.Context(), "authcore: jwks", "err", err)
		writeText(w, http.StatusInternalServerError, "Internal Error")
		return
	}
	w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(jwksMaxAge)+", must-revalidate")
	writeJSON(w, map[string]any{"keys": keys})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "Internal Error")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// status builds a business answer: HTTP 200 with "status" and the given fields.
func status(s string, kv ...any) map[string]any {
	m := map[string]any{"status": s}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func ok(kv ...any) map[string]any { return status("OK", kv...) }
