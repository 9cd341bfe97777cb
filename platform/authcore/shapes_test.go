package authcore_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kind is the JSON type the SDK asserts on a field (a wrong one panics its handler goroutine).
type kind string

const (
	kString       kind = "string"
	kNumber       kind = "number"
	kBool         kind = "bool"
	kObject       kind = "object"
	kStrings      kind = "[]string"
	kStringOrNull kind = "string|null"
	kAbsent       kind = "absent"
)

func assertShape(t *testing.T, obj map[string]any, want map[string]kind) {
	t.Helper()
	for path, k := range want {
		v, present := get(obj, path)
		if k == kAbsent {
			assert.False(t, present, "%s must be absent in %v", path, obj)
			continue
		}
		if !assert.True(t, present, "%s missing in %v", path, obj) {
			continue
		}
		switch k {
		case kString:
			assert.IsType(t, "", v, path)
		case kNumber:
			assert.IsType(t, float64(0), v, path)
		case kBool:
			assert.IsType(t, false, v, path)
		case kObject:
			assert.IsType(t, map[string]any{}, v, path)
		case kStringOrNull:
			if v != nil {
				assert.IsType(t, "", v, path)
			}
		case kStrings:
			list, ok := v.([]any)
			if assert.True(t, ok, "%s is %T, not a list", path, v) {
				for _, e := range list {
					assert.IsType(t, "", e, path)
				}
			}
		}
	}
}

var (
	userShape = map[string]kind{"user.id": kString, "user.email": kString, "user.timeJoined": kNumber, "user.tenantIds": kStrings}
	sessShape = map[string]kind{"session.handle": kString, "session.userId": kString, "session.userDataInJWT": kObject, "session.tenantId": kString}
	tokShape  = func(name string) map[string]kind {
		return map[string]kind{name + ".token": kString, name + ".expiry": kNumber, name + ".createdTime": kNumber}
	}
)

func merge(shapes ...map[string]kind) map[string]kind {
	out := map[string]kind{}
	for _, s := range shapes {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// shapeState carries what earlier steps produced to later ones.
type shapeState struct {
	userID, handle, at, rt, rt2, at2, resetToken, evToken string
}

// TestEndpointShapes walks every endpoint in an order that gives each one real data, and checks
// the status and the JSON type of every field the SDK reads.
func TestEndpointShapes(t *testing.T) {
	e := newEnv(t)
	s := &shapeState{}
	const email = "shape@example.com"

	steps := []struct {
		name   string
		method string
		path   func(*shapeState) string
		body   func(*shapeState) any
		status string // business status; "" = HTTP status only
		http   int    // 0 = 200
		shape  map[string]kind
		after  func(*shapeState, map[string]any)
	}{
		{name: "apiversion", method: "GET", path: fixed("/apiversion"), shape: map[string]kind{"versions": kStrings}},
		{name: "signup", method: "POST", path: fixed("/public/recipe/signup"),
			body:   static(map[string]any{"email": " Shape@Example.com ", "password": "pw-123456"}),
			status: "OK", shape: userShape,
			after: func(s *shapeState, o map[string]any) {
				s.userID = o["user"].(map[string]any)["id"].(string)
				assert.Equal(t, email, o["user"].(map[string]any)["email"], "trimmed and lower-cased")
				assert.Equal(t, []any{"public"}, o["user"].(map[string]any)["tenantIds"])
			}},
		{name: "signup duplicate", method: "POST", path: fixed("/public/recipe/signup"),
			body: static(map[string]any{"email": "SHAPE@example.com", "password": "x"}), status: "EMAIL_ALREADY_EXISTS_ERROR"},
		{name: "signin", method: "POST", path: fixed("/public/recipe/signin"),
			body: static(map[string]any{"email": "shape@EXAMPLE.com", "password": "pw-123456"}), status: "OK", shape: userShape},
		{name: "signin wrong password", method: "POST", path: fixed("/public/recipe/signin"),
			body: static(map[string]any{"email": email, "password": "nope"}), status: "WRONG_CREDENTIALS_ERROR"},
		{name: "signin unknown email", method: "POST", path: fixed("/public/recipe/signin"),
			body: static(map[string]any{"email": "who@example.com", "password": "nope"}), status: "WRONG_CREDENTIALS_ERROR"},
		{name: "user by id", method: "GET", path: func(s *shapeState) string { return "/recipe/user?userId=" + s.userID },
			status: "OK", shape: userShape},
		{name: "user by unknown id", method: "GET", path: fixed("/recipe/user?userId=nope"), status: "UNKNOWN_USER_ID_ERROR"},
		{name: "user by email", method: "GET", path: fixed("/public/recipe/user?email=SHAPE%40example.com"), status: "OK", shape: userShape},
		{name: "user by unknown email", method: "GET", path: fixed("/public/recipe/user?email=x%40y.z"), status: "UNKNOWN_EMAIL_ERROR"},
		{name: "update password", method: "PUT", path: fixed("/recipe/user"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID, "password": "pw-abcdef"} }, status: "OK"},
		{name: "update unknown user", method: "PUT", path: fixed("/recipe/user"),
			body: static(map[string]any{"userId": "nope", "email": "a@b.c"}), status: "UNKNOWN_USER_ID_ERROR"},
		{name: "reset token", method: "POST", path: fixed("/public/recipe/user/password/reset/token"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID} }, status: "OK",
			shape: map[string]kind{"token": kString}, after: func(s *shapeState, o map[string]any) { s.resetToken = o["token"].(string) }},
		{name: "reset token unknown user", method: "POST", path: fixed("/public/recipe/user/password/reset/token"),
			body: static(map[string]any{"userId": "nope"}), status: "UNKNOWN_USER_ID_ERROR"},
		{name: "reset", method: "POST", path: fixed("/public/recipe/user/password/reset"),
			body: func(s *shapeState) any {
				return map[string]any{"method": "token", "token": s.resetToken, "newPassword": "pw-reset-1"}
			}, status: "OK", shape: map[string]kind{"userId": kString}},
		{name: "reset reused", method: "POST", path: fixed("/public/recipe/user/password/reset"),
			body: func(s *shapeState) any {
				return map[string]any{"method": "token", "token": s.resetToken, "newPassword": "pw-reset-2"}
			}, status: "RESET_PASSWORD_INVALID_TOKEN_ERROR"},

		{name: "create session", method: "POST", path: fixed("/public/recipe/session"),
			body: func(s *shapeState) any {
				return map[string]any{"userId": s.userID, "userDataInJWT": map[string]any{"k": "v"},
					"userDataInDatabase": map[string]any{}, "enableAntiCsrf": false, "useDynamicSigningKey": true}
			}, status: "OK", shape: merge(sessShape, tokShape("accessToken"), tokShape("refreshToken"), map[string]kind{"antiCsrfToken": kStringOrNull}),
			after: func(s *shapeState, o map[string]any) {
				s.handle = o["session"].(map[string]any)["handle"].(string)
				s.at = o["accessToken"].(map[string]any)["token"].(string)
				s.rt = o["refreshToken"].(map[string]any)["token"].(string)
			}},
		{name: "verify (committed token: no new token)", method: "POST", path: fixed("/recipe/session/verify"),
			body: func(s *shapeState) any {
				return map[string]any{"accessToken": s.at, "doAntiCsrfCheck": false, "enableAntiCsrf": false, "checkDatabase": true}
			}, status: "OK", shape: merge(sessShape, map[string]kind{"accessToken": kAbsent})},
		{name: "verify garbage", method: "POST", path: fixed("/recipe/session/verify"),
			body:   static(map[string]any{"accessToken": "a.b.c", "doAntiCsrfCheck": false, "enableAntiCsrf": false, "checkDatabase": false}),
			status: "TRY_REFRESH_TOKEN", shape: map[string]kind{"message": kString}},
		{name: "refresh", method: "POST", path: fixed("/recipe/session/refresh"),
			body: func(s *shapeState) any {
				return map[string]any{"refreshToken": s.rt, "enableAntiCsrf": false, "useDynamicSigningKey": true}
			}, status: "OK", shape: merge(sessShape, tokShape("accessToken"), tokShape("refreshToken"), map[string]kind{"antiCsrfToken": kStringOrNull}),
			after: func(s *shapeState, o map[string]any) {
				s.at2 = o["accessToken"].(map[string]any)["token"].(string)
				s.rt2 = o["refreshToken"].(map[string]any)["token"].(string)
			}},
		{name: "refresh garbage", method: "POST", path: fixed("/recipe/session/refresh"),
			body:   static(map[string]any{"refreshToken": "v1.garbage", "enableAntiCsrf": false, "useDynamicSigningKey": true}),
			status: "UNAUTHORISED", shape: map[string]kind{"message": kString}},
		{name: "verify refreshed token promotes it", method: "POST", path: fixed("/recipe/session/verify"),
			body: func(s *shapeState) any {
				return map[string]any{"accessToken": s.at2, "doAntiCsrfCheck": true, "enableAntiCsrf": false, "checkDatabase": false}
			}, status: "OK", shape: merge(sessShape, tokShape("accessToken"))},
		{name: "replayed refresh token", method: "POST", path: fixed("/recipe/session/refresh"),
			body: func(s *shapeState) any {
				return map[string]any{"refreshToken": s.rt, "enableAntiCsrf": false, "useDynamicSigningKey": true}
			}, status: "TOKEN_THEFT_DETECTED", shape: map[string]kind{"session.handle": kString, "session.userId": kString}},
		{name: "regenerate", method: "POST", path: fixed("/recipe/session/regenerate"),
			body: func(s *shapeState) any {
				return map[string]any{"accessToken": s.at2, "userDataInJWT": map[string]any{"n": 2}}
			},
			status: "OK", shape: merge(sessShape, tokShape("accessToken"))},
		{name: "regenerate unknown", method: "POST", path: fixed("/recipe/session/regenerate"),
			body:   static(map[string]any{"accessToken": "x.y.z", "userDataInJWT": map[string]any{}}),
			status: "UNAUTHORISED", shape: map[string]kind{"message": kString}},
		{name: "session info", method: "GET", path: func(s *shapeState) string { return "/recipe/session?sessionHandle=" + s.handle },
			status: "OK", shape: map[string]kind{"sessionHandle": kString, "userId": kString, "userDataInDatabase": kObject,
				"expiry": kNumber, "timeCreated": kNumber, "userDataInJWT": kObject, "tenantId": kString}},
		{name: "session info unknown", method: "GET", path: fixed("/recipe/session?sessionHandle=nope"),
			status: "UNAUTHORISED", shape: map[string]kind{"message": kString}},
		{name: "session handles of user", method: "GET",
			path: func(s *shapeState) string {
				return "/public/recipe/session/user?userId=" + s.userID + "&fetchAcrossAllTenants=true"
			},
			status: "OK", shape: map[string]kind{"sessionHandles": kStrings},
			after: func(s *shapeState, o map[string]any) { assert.Equal(t, []any{s.handle}, o["sessionHandles"]) }},
		{name: "session data", method: "PUT", path: fixed("/recipe/session/data"),
			body: func(s *shapeState) any {
				return map[string]any{"sessionHandle": s.handle, "userDataInDatabase": map[string]any{"a": 1}}
			}, status: "OK"},
		{name: "session data unknown", method: "PUT", path: fixed("/recipe/session/data"),
			body: static(map[string]any{"sessionHandle": "nope", "userDataInDatabase": map[string]any{}}), status: "UNAUTHORISED"},
		{name: "jwt data", method: "PUT", path: fixed("/recipe/jwt/data"),
			body: func(s *shapeState) any {
				return map[string]any{"sessionHandle": s.handle, "userDataInJWT": map[string]any{"b": 2}}
			}, status: "OK"},
		{name: "jwt data unknown", method: "PUT", path: fixed("/recipe/jwt/data"),
			body: static(map[string]any{"sessionHandle": "nope", "userDataInJWT": map[string]any{}}), status: "UNAUTHORISED"},
		{name: "remove by handles", method: "POST", path: fixed("/recipe/session/remove"),
			body:   func(s *shapeState) any { return map[string]any{"sessionHandles": []string{s.handle, "nope"}} },
			status: "OK", shape: map[string]kind{"sessionHandlesRevoked": kStrings},
			after: func(s *shapeState, o map[string]any) { assert.Equal(t, []any{s.handle}, o["sessionHandlesRevoked"]) }},
		{name: "remove by user", method: "POST", path: fixed("/public/recipe/session/remove"),
			body:   func(s *shapeState) any { return map[string]any{"userId": s.userID} },
			status: "OK", shape: map[string]kind{"sessionHandlesRevoked": kStrings}},

		{name: "ev token", method: "POST", path: fixed("/public/recipe/user/email/verify/token"),
			body:   func(s *shapeState) any { return map[string]any{"userId": s.userID, "email": email} },
			status: "OK", shape: map[string]kind{"token": kString}, after: func(s *shapeState, o map[string]any) { s.evToken = o["token"].(string) }},
		{name: "ev verify", method: "POST", path: fixed("/public/recipe/user/email/verify"),
			body:   func(s *shapeState) any { return map[string]any{"method": "token", "token": s.evToken} },
			status: "OK", shape: map[string]kind{"userId": kString, "email": kString}},
		{name: "ev verify reused", method: "POST", path: fixed("/public/recipe/user/email/verify"),
			body:   func(s *shapeState) any { return map[string]any{"method": "token", "token": s.evToken} },
			status: "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"},
		{name: "ev token when verified", method: "POST", path: fixed("/public/recipe/user/email/verify/token"),
			body:   func(s *shapeState) any { return map[string]any{"userId": s.userID, "email": email} },
			status: "EMAIL_ALREADY_VERIFIED_ERROR"},
		{name: "is verified", method: "GET", path: func(s *shapeState) string { return "/recipe/user/email/verify?userId=" + s.userID + "&email=" + email },
			status: "OK", shape: map[string]kind{"isVerified": kBool},
			after: func(s *shapeState, o map[string]any) { assert.Equal(t, true, o["isVerified"]) }},
		{name: "ev remove tokens", method: "POST", path: fixed("/public/recipe/user/email/verify/token/remove"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID, "email": email} }, status: "OK"},
		{name: "unverify", method: "POST", path: fixed("/recipe/user/email/verify/remove"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID, "email": email} }, status: "OK"},
		{name: "is verified after unverify", method: "GET", path: func(s *shapeState) string { return "/recipe/user/email/verify?userId=" + s.userID + "&email=" + email },
			status: "OK", after: func(s *shapeState, o map[string]any) { assert.Equal(t, false, o["isVerified"]) }},

		{name: "create role, permissions null", method: "PUT", path: fixed("/recipe/role"),
			body: static(map[string]any{"role": "admin", "permissions": nil}), status: "OK", shape: map[string]kind{"createdNewRole": kBool},
			after: func(_ *shapeState, o map[string]any) { assert.Equal(t, true, o["createdNewRole"]) }},
		{name: "add permissions", method: "PUT", path: fixed("/recipe/role"),
			body: static(map[string]any{"role": "admin", "permissions": []string{"read", "write"}}), status: "OK",
			after: func(_ *shapeState, o map[string]any) { assert.Equal(t, false, o["createdNewRole"]) }},
		{name: "role permissions", method: "GET", path: fixed("/recipe/role/permissions?role=admin"), status: "OK",
			shape: map[string]kind{"permissions": kStrings},
			after: func(_ *shapeState, o map[string]any) { assert.Equal(t, []any{"read", "write"}, o["permissions"]) }},
		{name: "unknown role permissions", method: "GET", path: fixed("/recipe/role/permissions?role=nope"), status: "UNKNOWN_ROLE_ERROR"},
		{name: "remove permission", method: "POST", path: fixed("/recipe/role/permissions/remove"),
			body: static(map[string]any{"role": "admin", "permissions": []string{"write"}}), status: "OK"},
		{name: "remove permission unknown role", method: "POST", path: fixed("/recipe/role/permissions/remove"),
			body: static(map[string]any{"role": "nope", "permissions": nil}), status: "UNKNOWN_ROLE_ERROR"},
		{name: "roles with permission", method: "GET", path: fixed("/recipe/permission/roles?permission=read"), status: "OK",
			shape: map[string]kind{"roles": kStrings}, after: func(_ *shapeState, o map[string]any) { assert.Equal(t, []any{"admin"}, o["roles"]) }},
		{name: "all roles", method: "GET", path: fixed("/recipe/roles"), status: "OK", shape: map[string]kind{"roles": kStrings}},
		{name: "add user role", method: "PUT", path: fixed("/public/recipe/user/role"),
			body:   func(s *shapeState) any { return map[string]any{"userId": s.userID, "role": "admin"} },
			status: "OK", shape: map[string]kind{"didUserAlreadyHaveRole": kBool}},
		{name: "add unknown role", method: "PUT", path: fixed("/public/recipe/user/role"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID, "role": "nope"} }, status: "UNKNOWN_ROLE_ERROR"},
		{name: "user roles", method: "GET", path: func(s *shapeState) string { return "/public/recipe/user/roles?userId=" + s.userID },
			status: "OK", shape: map[string]kind{"roles": kStrings}},
		{name: "role users", method: "GET", path: fixed("/public/recipe/role/users?role=admin"), status: "OK",
			shape: map[string]kind{"users": kStrings}},
		{name: "role users unknown role", method: "GET", path: fixed("/public/recipe/role/users?role=nope"), status: "UNKNOWN_ROLE_ERROR"},
		{name: "remove user role", method: "POST", path: fixed("/public/recipe/user/role/remove"),
			body:   func(s *shapeState) any { return map[string]any{"userId": s.userID, "role": "admin"} },
			status: "OK", shape: map[string]kind{"didUserHaveRole": kBool}},
		{name: "remove user role unknown role", method: "POST", path: fixed("/public/recipe/user/role/remove"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID, "role": "nope"} }, status: "UNKNOWN_ROLE_ERROR"},
		{name: "remove role", method: "POST", path: fixed("/recipe/role/remove"),
			body: static(map[string]any{"role": "admin"}), status: "OK", shape: map[string]kind{"didRoleExist": kBool}},

		{name: "metadata empty", method: "GET", path: func(s *shapeState) string { return "/recipe/user/metadata?userId=" + s.userID },
			status: "OK", shape: map[string]kind{"metadata": kObject}},
		{name: "metadata update", method: "PUT", path: fixed("/recipe/user/metadata"),
			body: func(s *shapeState) any {
				return map[string]any{"userId": s.userID, "metadataUpdate": map[string]any{"a": 1}}
			},
			status: "OK", shape: map[string]kind{"metadata": kObject}},
		{name: "metadata remove", method: "POST", path: fixed("/recipe/user/metadata/remove"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID} }, status: "OK"},

		{name: "users count", method: "GET", path: fixed("/public/users/count"), status: "OK", shape: map[string]kind{"count": kNumber},
			after: func(_ *shapeState, o map[string]any) { assert.Equal(t, float64(1), o["count"]) }},
		{name: "user remove", method: "POST", path: fixed("/user/remove"),
			body: func(s *shapeState) any { return map[string]any{"userId": s.userID} }, status: "OK"},
		{name: "users count after remove", method: "GET", path: fixed("/public/users/count?includeAllTenants=true"), status: "OK",
			after: func(_ *shapeState, o map[string]any) { assert.Equal(t, float64(0), o["count"]) }},
	}
	for _, st := range steps {
		var body any
		if st.body != nil {
			body = st.body(s)
		}
		r := e.call(t, st.method, st.path(s), body)
		want := st.http
		if want == 0 {
			want = http.StatusOK
		}
		require.Equal(t, want, r.status, "%s: %s", st.name, r.raw)
		if st.status != "" {
			require.Equal(t, st.status, r.obj["status"], "%s: %s", st.name, r.raw)
		}
		t.Run(st.name, func(t *testing.T) { assertShape(t, r.obj, st.shape) })
		if st.after != nil {
			st.after(s, r.obj)
		}
	}
}

func fixed(p string) func(*shapeState) string { return func(*shapeState) string { return p } }
func static(v any) func(*shapeState) any      { return func(*shapeState) any { return v } }

func TestJWKSShape(t *testing.T) {
	e := newEnv(t)
	// Public: no api-key, no cdi-version, as the SDK's keyfunc fetch sends neither.
	r := e.callWith(t, "GET", "/.well-known/jwks.json", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "max-age=60, must-revalidate", r.header.Get("Cache-Control"))
	keys, ok := r.obj["keys"].([]any)
	require.True(t, ok, r.raw)
	require.Len(t, keys, 2, "one dynamic key and the static key")
	prefixes := map[string]bool{}
	for _, k := range keys {
		key := k.(map[string]any)
		assertShape(t, key, map[string]kind{"kty": kString, "kid": kString, "n": kString, "e": kString, "alg": kString, "use": kString})
		assert.Equal(t, "RSA", key["kty"])
		assert.Equal(t, "AQAB", key["e"])
		assert.Equal(t, "RS256", key["alg"])
		assert.Equal(t, "sig", key["use"])
		assert.Len(t, key["n"], 342, "2048-bit modulus, base64url without padding")
		prefixes[key["kid"].(string)[:2]] = true
	}
	assert.Equal(t, map[string]bool{"d-": true, "s-": true}, prefixes)
	// Also through the querier, which adds api-key and cdi-version.
	assert.Equal(t, http.StatusOK, e.call(t, "GET", "/.well-known/jwks.json", nil).status)
}
