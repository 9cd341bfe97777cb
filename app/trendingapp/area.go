// Package trendingapp is the trending area. Trending topics and use cases, computed on a schedule
// by the worker (domain/trending): the periodic task trending:compute (one run at a time across
// workers), its metrics, and GET /api/v1/trending.
package trendingapp

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/trending"
	"github.com/p2psandbox/hub/domain/trending/trendingdb"
	"github.com/p2psandbox/hub/domain/trending/trendingredis"
	"github.com/p2psandbox/hub/rest"
)

//go:embed openapi.yaml
var openAPI []byte

// TypeCompute is the periodic task that computes the rankings.
const TypeCompute = "trending:compute"

// Interval is how often the rankings are computed: trending moves in hours, and a run over
// 100,000 topics and 100,000 use cases takes seconds (docs/perf.md).
const Interval = 5 * time.Minute

// lockTTL outlives any run; a crashed run's lock expires after it.
const lockTTL = 2 * time.Minute

// Area is the trending area.
type Area struct{}

// New returns the trending area.
func New() *Area { return &Area{} }

// Name is "trending".
func (*Area) Name() string { return "trending" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register mounts the read route where REST is served and the task where the worker runs.
func (*Area) Register(ctx context.Context, h *area.Host) error {
	store := trendingdb.New(h.Pool)
	cache := trendingredis.New(h.Redis, h.Config.Redis.Prefix)
	if h.REST != nil {
		fallbacks := prometheus.NewCounter(prometheus.CounterOpts{Name: "trending_read_fallbacks_total",
			Help: "Trending reads answered from the PostgreSQL snapshot because Redis had no ranking or failed."})
		if err := h.Metrics.Register(fallbacks); err != nil {
			return fmt.Errorf("registering the trending metrics: %w", err)
		}
		svc := &trending.Service{Cache: cache, Snapshots: store, OnFallback: func(err error) {
			fallbacks.Inc()
			if err != nil {
				h.Log.WarnContext(ctx, "trending: reading the snapshot, Redis failed", "err", err)
			}
		}}
		h.REST.API.GET("/trending", h.REST.Require(), func(c *gin.Context) {
			limit, ok := rest.QueryInt(c, "limit")
			if !ok {
				return
			}
			kind, window, category := c.Query("kind"), c.Query("window"), c.Query("category")
			if window == "" {
				window = "7d"
			}
			items, err := svc.Trending(c.Request.Context(), kind, window, category, limit)
			rest.Respond(c, gin.H{"kind": kind, "window": window, "category": category, "items": items}, err)
		})
	}
	if h.Worker != nil {
		m, err := newMetrics(h.Metrics)
		if err != nil {
			return err
		}
		job := &trending.Job{Source: store, Cache: cache, Snapshots: store, LockTTL: lockTTL}
		h.Worker.Handle(TypeCompute, Compute{Job: job, Metrics: m})
		task := asynq.NewTask(TypeCompute, nil)
		if err := h.Worker.Every(Interval, task, asynq.MaxRetry(0), asynq.Timeout(lockTTL)); err != nil {
			return err
		}
		// Compute once at start too, so a fresh deployment ranks within seconds rather than after
		// the first interval; Unique folds the starts of several workers into one run.
		_, err = h.Tasks.EnqueueContext(ctx, task, asynq.Queue(h.Queue), asynq.Unique(time.Minute), asynq.MaxRetry(0), asynq.Timeout(lockTTL))
		if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
			return fmt.Errorf("trending: enqueuing the first run: %w", err)
		}
	}
	return nil
}

// Metrics are the job's: its duration, its last success and its runs by outcome.
type Metrics struct {
	Duration    prometheus.Histogram
	LastSuccess prometheus.Gauge
	Runs        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trending_job_duration_seconds",
			Help: "How long a trending run took (ok or failed).", Buckets: prometheus.ExponentialBuckets(0.05, 2, 10)}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "trending_job_last_success_timestamp_seconds",
			Help: "When the last trending run succeeded (Unix time); alert when it falls far behind."}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trending_job_runs_total",
			Help: "Trending runs by outcome: ok, busy (another worker held the lock) or failed."}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.Duration, m.LastSuccess, m.Runs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering the trending metrics: %w", err)
		}
	}
	return m, nil
}

// Compute is the task's handler.
type Compute struct {
	Job     *trending.Job
	Metrics *Metrics
}

// ProcessTask runs the job once. Another worker's run makes it a no-op; a failure leaves the last
// rankings served and is retried at the next interval.
func (c Compute) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	start := time.Now()
	err := c.Job.Run(ctx)
	switch {
	case errors.Is(err, trending.ErrBusy):
		c.Metrics.Runs.WithLabelValues("busy").Inc()
		return nil
	case err != nil:
		c.Metrics.Duration.Observe(time.Since(start).Seconds())
		c.Metrics.Runs.WithLabelValues("failed").Inc()
		return err
	}
	c.Metrics.Duration.Observe(time.Since(start).Seconds())
	c.Metrics.Runs.WithLabelValues("ok").Inc()
	c.Metrics.LastSuccess.SetToCurrentTime()
	return nil
}
