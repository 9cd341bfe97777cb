package postgres_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// sample returns the value of the sample of name whose labels include want.
func sample(t *testing.T, r *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	families, err := r.Gather()
	require.NoError(t, err)
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no sample %s%v", name, want)
	return 0
}

// TestPoolCollector reports the pool as it is at the scrape: a held connection is acquired, and
// acquires are counted.
func TestPoolCollector(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	r := prometheus.NewRegistry()
	r.MustRegister(postgres.NewPoolCollector(pool))

	before := sample(t, r, "pg_pool_acquires_total", nil)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1.0, sample(t, r, "pg_pool_connections", map[string]string{"state": "acquired"}))
	assert.Equal(t, float64(pool.Config().MaxConns), sample(t, r, "pg_pool_max_connections", nil))
	assert.Equal(t, before+1, sample(t, r, "pg_pool_acquires_total", nil))
	conn.Release()
	assert.Equal(t, 0.0, sample(t, r, "pg_pool_connections", map[string]string{"state": "acquired"}))
	assert.GreaterOrEqual(t, sample(t, r, "pg_pool_connections", map[string]string{"state": "idle"}), 1.0)
}
