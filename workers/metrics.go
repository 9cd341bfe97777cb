package workers

import (
	"strings"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// QueueCollector reports the depth of the worker's asynq queue, read from Redis at each scrape
// (asynq keeps these counts there, shared by every worker): tasks by state, the age of the
// oldest pending task, and the processed and failed totals. Every worker reports the same queue,
// so dashboards take the max across instances.
type QueueCollector struct {
	insp  *asynq.Inspector
	queue string

	size, latency, processed, failed *prometheus.Desc
	up                               *prometheus.Desc
}

// NewQueueCollector returns the collector of queue on rdb.
func NewQueueCollector(rdb goredis.UniversalClient, queue string) *QueueCollector {
	l := []string{"queue"}
	return &QueueCollector{
		insp:  asynq.NewInspectorFromRedisClient(rdb),
		queue: queue,
		size: prometheus.NewDesc("asynq_queue_tasks",
			"Tasks in the asynq queue by state: pending, active, scheduled, retry, archived.", []string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("asynq_queue_latency_seconds",
			"Age of the oldest pending task of the queue: how long work waits for a worker.", l, nil),
		processed: prometheus.NewDesc("asynq_tasks_processed_total",
			"Tasks of the queue processed (successfully or not) since asynq began counting.", l, nil),
		failed: prometheus.NewDesc("asynq_tasks_failed_total",
			"Task runs of the queue that failed since asynq began counting.", l, nil),
		up: prometheus.NewDesc("asynq_queue_scrape_ok",
			"1 when the queue's counts could be read from Redis at this scrape, 0 when not.", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.size, c.latency, c.processed, c.failed, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A queue nobody has enqueued on yet does not exist in
// Redis: it reads as empty, not as a failure.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	info, err := c.insp.GetQueueInfo(c.queue)
	if err != nil {
		if !isQueueNotFound(err) {
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, c.queue)
			return
		}
		info = &asynq.QueueInfo{}
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, c.queue)
	for state, n := range map[string]int{
		"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
		"retry": info.Retry, "archived": info.Archived,
	} {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), c.queue, state)
	}
	ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, info.Latency.Seconds(), c.queue)
	ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(info.ProcessedTotal), c.queue)
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(info.FailedTotal), c.queue)
}

// isQueueNotFound tells asynq's "queue does not exist" apart from a Redis failure. asynq wraps it
// in an internal error type that callers cannot match with errors.Is, so its text is the contract.
func isQueueNotFound(err error) bool { return strings.Contains(err.Error(), "does not exist") }
