// Package rest is the HTTP layer's frame: the Gin router with its middleware (request ids,
// access log, metrics, recovery, security headers, CORS, body limits), sessions and permissions
// (Require), problem+json answers, strict JSON binding, idempotent creations, the health and
// metrics endpoints and the OpenAPI document. It knows no area: each area mounts its own routes
// on the Router (app/*app) and contributes its part of the document.
package rest

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/rest/openapi"
)

// HTTP configures the router's limits and trust.
type HTTP struct {
	MaxBodyBytes   int64
	CORSOrigins    []string
	TrustedProxies []string
}

// Deps is what the router needs from the process.
type Deps struct {
	Log          *slog.Logger
	HTTP         HTTP
	Production   bool
	Build        Build
	Checks       []HealthCheck
	CheckTimeout time.Duration
	Registry     *prometheus.Registry

	// The API. Without Auth only the operational endpoints are served (the worker's port).
	Auth Authenticator
	// Touch records that a signed-in user is active (last seen); optional.
	Touch func(ctx context.Context, userID string) error
	// CORSHeaders and ExposedHeaders are what the auth SDK's frontend sends and reads.
	CORSHeaders, ExposedHeaders []string
	// Idempotency keeps the answers of creations retried with an Idempotency-Key.
	Idempotency Idempotency
	// OpenAPI is the assembled document (JSON), served at /api/v1/openapi.json.
	OpenAPI []byte
	// OutboxDir, when set, serves the development mail outbox at /dev/outbox (only when the
	// configuration asks for development endpoints).
	OutboxDir string
	// MetricsToken, when set, is the bearer token /metrics asks for; without one /metrics is
	// open outside production and not served in production, except on an ops port.
	MetricsToken string
	// OpsPort marks the router of the standalone worker's port (worker.addr), which only the
	// operators' network reaches: /metrics is open there.
	OpsPort bool
}

// Router is the engine areas mount their routes on.
type Router struct {
	*gin.Engine
	// API is the /api/v1 group.
	API  *gin.RouterGroup
	d    Deps
	body map[string]int64 // body limits per route template (uploads)
}

// metricsHandler serves /metrics as the deployment allows: behind a bearer token when one is
// configured, open outside production and on the worker's ops port, absent otherwise: the serve
// port faces the internet, and metrics name routes, queues and error rates.
func metricsHandler(d Deps) gin.HandlerFunc {
	h := gin.WrapH(metrics.Handler(d.Registry))
	switch {
	case d.MetricsToken != "":
		want := []byte("Bearer " + d.MetricsToken)
		return func(c *gin.Context) {
			if subtle.ConstantTimeCompare([]byte(c.GetHeader("Authorization")), want) != 1 {
				Fail(c, errs.E(errs.Unauthenticated, "send the metrics token as a bearer token"))
				return
			}
			h(c)
		}
	case d.Production && !d.OpsPort:
		return nil
	}
	return h
}

// NewRouter builds the engine with the global middleware and the operational endpoints.
func NewRouter(d Deps) *Router {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(d.HTTP.TrustedProxies); err != nil {
		d.Log.Warn("ignoring invalid trusted proxies", "err", err)
	}
	r := &Router{Engine: e, d: d, body: map[string]int64{}}

	e.Use(
		withLogger(d.Log),
		requestID(),
		accessLog(d.Log),
		instrument(metrics.NewHTTP(d.Registry)),
		recovery(d.Log),
		securityHeaders(d.Production),
		cors.New(cors.Config{
			AllowOrigins:     d.HTTP.CORSOrigins,
			AllowMethods:     []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowHeaders:     append([]string{"Content-Type", "Authorization", requestIDHeader, "Idempotency-Key", "If-Match"}, d.CORSHeaders...),
			ExposeHeaders:    append([]string{requestIDHeader, "Retry-After", replayedHeader, "Location", "ETag"}, d.ExposedHeaders...),
			AllowCredentials: true,
			MaxAge:           12 * time.Hour,
		}),
		bodyLimit(d.HTTP.MaxBodyBytes, r.body),
		cleanInput(),
	)

	e.NoRoute(func(c *gin.Context) {
		writeProblem(c, routerProblem(http.StatusNotFound, "no resource at "+c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		writeProblem(c, routerProblem(http.StatusMethodNotAllowed,
			c.Request.Method+" is not supported on "+c.Request.URL.Path))
	})

	e.GET("/health", liveness(d.Build))
	e.GET("/health/ready", readiness(d.Checks, d.CheckTimeout))
	if h := metricsHandler(d); h != nil {
		e.GET("/metrics", h)
	}

	r.API = e.Group("/api/v1")
	if d.OpenAPI != nil {
		openapi.Mount(e, d.OpenAPI)
	}
	if d.OutboxDir != "" {
		e.GET("/dev/outbox", devOutbox(d.OutboxDir, d.Log))
	}
	return r
}

// Log is the router's logger.
func (r *Router) Log() *slog.Logger { return r.d.Log }

// LimitBody gives the route template (as Gin names it, "/api/v1/me/avatar") its own body limit:
// uploads. Call it before the router serves.
func (r *Router) LimitBody(route string, limit int64) { r.body[route] = limit }

// Retryable is the Idempotency-Key handling of a creation route; a router without a store
// serves none.
func (r *Router) Retryable() gin.HandlerFunc {
	if r.d.Idempotency == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return idempotent(r.d.Idempotency, r.d.Log)
}

const loggerKey = "p2p.log"

// withLogger leaves the logger on the request for the helpers that answer errors.
func withLogger(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(loggerKey, log)
		c.Next()
	}
}

// LogOf is the logger of the request (the router's), for handlers that log beside answering.
func LogOf(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		if log, ok := l.(*slog.Logger); ok {
			return log
		}
	}
	return slog.New(slog.DiscardHandler)
}
