package rest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
)

// Build identifies the running binary.
type Build struct {
	Version string
	Commit  string
	Started time.Time
}

// HealthCheck is one dependency the readiness probe pings.
type HealthCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

type checkResult struct {
	Status    string  `json:"status"` // up | down
	LatencyMs float64 `json:"latencyMs"`
	Error     string  `json:"error,omitempty"`
}

func liveness(b Build) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{
			"status":        "ok",
			"version":       b.Version,
			"commit":        b.Commit,
			"startedAt":     b.Started.UTC().Format(time.RFC3339),
			"uptimeSeconds": math.Round(time.Since(b.Started).Seconds()),
		})
	}
}

// readiness pings every dependency at once, each under timeout, and answers 200 or a 503 problem
// naming what failed.
func readiness(checks []HealthCheck, timeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		results := make(map[string]checkResult, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, hc := range checks {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
				defer cancel()
				start := time.Now()
				err := hc.Check(ctx)
				r := checkResult{Status: "up", LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
				if err != nil {
					r.Status, r.Error = "down", err.Error()
				}
				mu.Lock()
				results[hc.Name] = r
				mu.Unlock()
			})
		}
		wg.Wait()

		var failed []string
		for name, r := range results {
			if r.Status != "up" {
				failed = append(failed, fmt.Sprintf("%s: %s", name, r.Error))
			}
		}
		c.Header("Cache-Control", "no-store")
		if len(failed) > 0 {
			sort.Strings(failed)
			p := NewProblem(errs.Unavailable, "not ready: "+strings.Join(failed, "; "))
			p.Extra = map[string]any{"checks": results}
			writeProblem(c, p)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": results})
	}
}
