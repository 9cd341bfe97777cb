package rest

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/platform/ratelimit"
)

// Hitter counts an event against a key's policy and says how long to wait when it is over
// (*ratelimit.Limiter).
type Hitter interface {
	Hit(ctx context.Context, key string, p ratelimit.Policy) (time.Duration, error)
}

// Throttle counts one request against key's policy. When the policy is spent it answers 429
// with Retry-After and message, and returns false; so does it when the count fails.
func Throttle(c *gin.Context, l Hitter, key string, p ratelimit.Policy, message string) bool {
	wait, err := l.Hit(c.Request.Context(), key, p)
	if err != nil {
		Fail(c, err)
		return false
	}
	if wait > 0 {
		e := errs.E(errs.RateLimited, "%s", message)
		e.RetryAfter = wait
		Fail(c, e)
		return false
	}
	return true
}
