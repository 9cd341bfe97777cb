// Package metrics owns the Prometheus registry of a process and the collectors shared by its
// parts. Each process builds its own registry; nothing registers globally.
package metrics

import (
	"net/http"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process collectors. The Go collector
// adds the scheduler's latency histogram (go_sched_latencies_seconds: how long runnable goroutines
// waited for a thread) to its defaults: a hub node's socket goroutines stall there first when its
// CPUs are saturated, which is what an event-loop lag alert means for Node.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Handler serves r in the Prometheus text format.
func Handler(r *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(r, promhttp.HandlerOpts{Registry: r})
}

// HTTP holds the REST layer's collectors.
type HTTP struct {
	Duration *prometheus.HistogramVec
	InFlight prometheus.Gauge
}

// NewHTTP registers the HTTP collectors on r.
func NewHTTP(r prometheus.Registerer) *HTTP {
	m := &HTTP{
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Duration of HTTP requests by method, route template and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	r.MustRegister(m.Duration, m.InFlight)
	return m
}
