package mongo

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/event"
)

// Metrics holds the collectors of the MongoDB calls, fed by the driver's command monitor: every
// command the driver sends (find, update, findAndModify, ping, …) with its duration and outcome.
type Metrics struct {
	Duration *prometheus.HistogramVec
}

// NewMetrics registers the MongoDB collectors on r, as platform/metrics does for HTTP: each
// process owns its registry, nothing registers globally.
func NewMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mongo_command_duration_seconds",
			Help:    "Duration of MongoDB commands by command name and outcome (ok or error).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"command", "outcome"}),
	}
	r.MustRegister(m.Duration)
	return m
}

// monitor is the driver's hook. Command names come from the driver, not from users, so the
// label's values stay few.
func (m *Metrics) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.Duration.WithLabelValues(e.CommandName, "ok").Observe(e.Duration.Seconds())
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.Duration.WithLabelValues(e.CommandName, "error").Observe(e.Duration.Seconds())
		},
	}
}
