package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector reports a pgx pool's statistics at each scrape: how many connections it holds
// and in which state, and how often and how long callers waited for one. A pool that keeps
// everyone waiting is the first sign that PostgreSQL, or our use of it, is the bottleneck.
type PoolCollector struct {
	pool                                     *pgxpool.Pool
	conns, max, acquires, empty, wait, cancl *prometheus.Desc
}

// NewPoolCollector returns the collector of pool; register it on the process's registry.
func NewPoolCollector(pool *pgxpool.Pool) *PoolCollector {
	return &PoolCollector{
		pool: pool,
		conns: prometheus.NewDesc("pg_pool_connections",
			"Connections of the PostgreSQL pool by state: acquired (in use), idle, constructing.", []string{"state"}, nil),
		max: prometheus.NewDesc("pg_pool_max_connections",
			"The most connections the PostgreSQL pool may open.", nil, nil),
		acquires: prometheus.NewDesc("pg_pool_acquires_total",
			"Connections acquired from the PostgreSQL pool.", nil, nil),
		empty: prometheus.NewDesc("pg_pool_empty_acquires_total",
			"Acquires that found no idle connection and had to wait for one (or for a new one).", nil, nil),
		wait: prometheus.NewDesc("pg_pool_acquire_wait_seconds_total",
			"Time callers spent waiting for a connection of the PostgreSQL pool.", nil, nil),
		cancl: prometheus.NewDesc("pg_pool_canceled_acquires_total",
			"Acquires abandoned because the caller's context ended while waiting.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.max, c.acquires, c.empty, c.wait, c.cancl} {
		ch <- d
	}
}

// Collect implements prometheus.Collector; Stat reads counters in memory, no query is sent.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.empty, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.cancl, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
}
