package rest

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// Authenticator verifies the session of a request (header or cookie mode) and says who it is.
// Failures are identity.ErrTokenExpired, identity.ErrUnauthenticated or another *errs.Error.
type Authenticator interface {
	Verify(w http.ResponseWriter, r *http.Request) (identity.Principal, error)
}

// Require verifies the session and the principal's permissions (identity.RolePermissions, the
// rule the socket events use too), and leaves the principal on the request.
func (r *Router) Require(perms ...identity.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if r.d.Auth == nil {
			Fail(c, identity.ErrUnauthenticated)
			return
		}
		p, err := r.d.Auth.Verify(c.Writer, c.Request)
		if err == nil {
			err = p.Require(perms...)
		}
		if err != nil {
			Fail(c, err)
			return
		}
		if r.d.Touch != nil {
			if err := r.d.Touch(c.Request.Context(), p.UserID); err != nil {
				r.d.Log.WarnContext(c.Request.Context(), "recording activity", "user", p.UserID, "err", err)
			}
		}
		c.Set(principalKey, p)
		// What a signed-in user sees is theirs: no shared cache on the way may keep it. A route
		// that serves something public and cacheable sets its own header after this.
		c.Header("Cache-Control", "no-store")
		c.Next()
	}
}

const principalKey = "principal"

// Principal returns the request's principal; routes without Require have none.
func Principal(c *gin.Context) identity.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(identity.Principal)
	return pr
}

// QueryInt reads an optional integer query parameter; a malformed one answers 422 and false.
func QueryInt(c *gin.Context, name string) (int, bool) {
	s := c.Query(name)
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		Fail(c, errs.Fields(errs.FieldError{Field: name, Message: "must be an integer"}))
		return 0, false
	}
	return n, true
}

// QueryBool reads an optional boolean query parameter.
func QueryBool(c *gin.Context, name string) (bool, bool) {
	s := c.Query(name)
	if s == "" {
		return false, true
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		Fail(c, errs.Fields(errs.FieldError{Field: name, Message: "must be true or false"}))
		return false, false
	}
	return b, true
}
