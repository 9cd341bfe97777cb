package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/platform/metrics"
)

const requestIDHeader = "X-Request-ID"

// validRequestID accepts the ids that proxies and clients commonly send, and nothing that could
// smuggle content into logs or headers.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID takes X-Request-ID from the request when it is well formed, otherwise makes one, and
// returns it on the response and through the request context.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if !validRequestID.MatchString(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		c.Set("requestId", id)
		c.Request = c.Request.WithContext(ids.WithRequestID(c.Request.Context(), id))
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

// RequestID returns the request's id.
func RequestID(c *gin.Context) string {
	return c.GetString("requestId")
}

// RequestIDFrom returns the request id carried by ctx, or "".
func RequestIDFrom(ctx context.Context) string { return ids.RequestID(ctx) }

// accessLog writes one line per request.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		log.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.String("route", c.FullPath()),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
			slog.String("user_agent", c.Request.UserAgent()),
		)
	}
}

// recovery turns a panic into a logged 500 problem and keeps the process alive.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec) // net/http's own signal to drop the connection silently
			}
			log.ErrorContext(c.Request.Context(), "panic in handler",
				"request_id", RequestID(c), "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			writeProblem(c, NewProblem(errs.Internal, "an unexpected error occurred; quote the request id when reporting it"))
		}()
		c.Next()
	}
}

// bodyLimit rejects bodies larger than limit (413), at once when Content-Length says so and while
// reading otherwise. Routes listed in perRoute get their own limit (uploads).
func bodyLimit(limit int64, perRoute map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := limit
		if l, ok := perRoute[c.FullPath()]; ok {
			n = l
		}
		if c.Request.ContentLength > n {
			writeProblem(c, NewProblem(errs.TooLarge, fmt.Sprintf("the request body exceeds %d bytes", n)))
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
		c.Next()
	}
}

// securityHeaders sets the headers every API response carries.
func securityHeaders(production bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-site")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if production {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		c.Next()
	}
}

// instrument records request metrics by route template, so ids in paths do not explode the series.
func instrument(m *metrics.HTTP) gin.HandlerFunc {
	return func(c *gin.Context) {
		m.InFlight.Inc()
		start := time.Now()
		defer func() {
			m.InFlight.Dec()
			route := c.FullPath()
			if route == "" {
				route = "unmatched"
			}
			m.Duration.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).
				Observe(time.Since(start).Seconds())
		}()
		c.Next()
	}
}
