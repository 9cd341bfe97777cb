package workers_test

import (
	"testing"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/workers"
)

func queueSamples(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	r := prometheus.NewRegistry()
	r.MustRegister(c)
	families, err := r.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" {
					key += "{" + l.GetValue() + "}"
				}
			}
			if m.GetGauge() != nil {
				out[key] = m.GetGauge().GetValue()
			} else {
				out[key] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// TestQueueCollector reads the queue's depth from Redis at the scrape; a queue nothing was
// enqueued on yet is empty, not an error, and an unreachable Redis says so.
func TestQueueCollector(t *testing.T) {
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"metrics")

	got := queueSamples(t, workers.NewQueueCollector(rdb, queue))
	assert.Equal(t, 1.0, got["asynq_queue_scrape_ok"])
	assert.Equal(t, 0.0, got["asynq_queue_tasks{pending}"])

	client := asynq.NewClientFromRedisClient(rdb)
	for range 3 {
		_, err := client.Enqueue(asynq.NewTask("metrics:probe", nil), asynq.Queue(queue))
		require.NoError(t, err)
	}
	got = queueSamples(t, workers.NewQueueCollector(rdb, queue))
	assert.Equal(t, 1.0, got["asynq_queue_scrape_ok"])
	assert.Equal(t, 3.0, got["asynq_queue_tasks{pending}"])
	assert.Equal(t, 0.0, got["asynq_queue_tasks{active}"])
	assert.Contains(t, got, "asynq_queue_latency_seconds")
	assert.Contains(t, got, "asynq_tasks_processed_total")

	down := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	got = queueSamples(t, workers.NewQueueCollector(down, queue))
	assert.Equal(t, 0.0, got["asynq_queue_scrape_ok"])
	assert.NotContains(t, got, "asynq_queue_tasks{pending}")
}
