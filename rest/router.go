// Package rest is the HTTP layer: the Gin router, its middleware, the handlers of each area and
// the OpenAPI document. Handlers translate between HTTP and the domain services; the rules live
// in domain/.
package rest

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/platform/auth"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/metrics"
)

// Deps is what the router needs from the process.
type Deps struct {
	Log          *slog.Logger
	HTTP         config.HTTP
	Production   bool
	Build        Build
	Checks       []HealthCheck
	CheckTimeout time.Duration
	Registry     *prometheus.Registry
	// BodyLimits overrides HTTP.MaxBodyBytes for the listed route templates (uploads).
	BodyLimits map[string]int64

	// The API. Without Auth only the operational endpoints are served (the worker's port).
	Auth       Authenticator
	CORSAuth   []string // request headers the auth SDK's frontend sends
	Identity   Identity
	Limiter    Limiter
	AuthLimits AuthLimits
	// OutboxDir, when set, serves the development mail outbox at /dev/outbox.
	OutboxDir string
	// Media serves the image uploads, and Blobs the processed images at /media/.
	Media Media
	Blobs Blobs
	// Messaging serves conversations and messages.
	Messaging Messaging
	// Notifications serves the signed-in user's notifications and preferences.
	Notifications Notifications
	// Idempotency keeps the answers of creations retried with an Idempotency-Key.
	Idempotency Idempotency
}

// retryable is the Idempotency-Key handling of a creation route; a router without a store (the
// worker's) serves none.
func (d Deps) retryable() gin.HandlerFunc {
	if d.Idempotency == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return idempotent(d.Idempotency, d.Log)
}

// NewRouter builds the engine with the global middleware and the operational endpoints. Areas add
// their routes to the returned engine's /api/v1 group through Mount.
func NewRouter(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(d.HTTP.TrustedProxies); err != nil {
		d.Log.Warn("ignoring invalid trusted proxies", "err", err)
	}

	r.Use(
		requestID(),
		accessLog(d.Log),
		instrument(metrics.NewHTTP(d.Registry)),
		recovery(d.Log),
		securityHeaders(d.Production),
		cors.New(cors.Config{
			AllowOrigins:     d.HTTP.CORSOrigins,
			AllowMethods:     []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowHeaders:     append([]string{"Content-Type", "Authorization", requestIDHeader, "Idempotency-Key"}, d.CORSAuth...),
			ExposeHeaders:    append([]string{requestIDHeader, "Retry-After", replayedHeader, "Location"}, auth.ExposedHeaders()...),
			AllowCredentials: true,
			MaxAge:           12 * time.Hour,
		}),
		bodyLimit(d.HTTP.MaxBodyBytes, d.BodyLimits),
	)

	r.NoRoute(func(c *gin.Context) {
		writeProblem(c, routerProblem(http.StatusNotFound, "no resource at "+c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, routerProblem(http.StatusMethodNotAllowed,
			c.Request.Method+" is not supported on "+c.Request.URL.Path))
	})

	r.GET("/health", liveness(d.Build))
	r.GET("/health/ready", readiness(d.Checks, d.CheckTimeout))
	r.GET("/metrics", gin.WrapH(metrics.Handler(d.Registry)))

	if d.Auth != nil {
		if err := mountOpenAPI(r); err != nil {
			panic(err) // the document is embedded: a broken one never passes the tests
		}
		api := r.Group("/api/v1")
		h := mountAuth(r, api, d)
		mountIdentity(api, h, d)
		mountMedia(r, api, h, d)
		mountNotifications(api, h, d)
		if d.Messaging != nil {
			mountMessaging(api, h, d)
		}
	}
	if d.OutboxDir != "" {
		r.GET("/dev/outbox", devOutbox(d.OutboxDir, d.Log))
	}
	return r
}
