package outbox_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// record commits one event per name in its own transaction.
func record(t *testing.T, pool *pgxpool.Pool, names ...string) {
	t.Helper()
	for _, n := range names {
		err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
			return outbox.Add(context.Background(), tx, outbox.Record{Name: n, Aggregate: "a", Payload: []byte(`{"n":"` + n + `"}`)})
		})
		require.NoError(t, err)
	}
}

// collector is a subscriber that remembers what it received and can be told to fail.
type collector struct {
	mu   sync.Mutex
	got  []string
	fail func(e outbox.Event) error
	seen chan struct{}
}

func newCollector() *collector { return &collector{seen: make(chan struct{}, 1000)} }

func (c *collector) handle(_ context.Context, batch []outbox.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range batch {
		if c.fail != nil {
			if err := c.fail(e); err != nil {
				return err
			}
		}
	}
	for _, e := range batch {
		c.got = append(c.got, e.Name)
		c.seen <- struct{}{}
	}
	return nil
}

func (c *collector) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// waitFor waits until c has received n events.
func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for len(c.names()) < n {
		select {
		case <-c.seen:
		case <-deadline:
			t.Fatalf("received %v, want %d events", c.names(), n)
		}
	}
	return c.names()
}

func fastOptions(reg prometheus.Registerer) outbox.Options {
	return outbox.Options{
		Poll:        20 * time.Millisecond,
		MaxAttempts: 3,
		Backoff:     func(int) time.Duration { return 10 * time.Millisecond },
		Registry:    reg,
	}
}

func start(t *testing.T, pool *pgxpool.Pool, opt outbox.Options, subs ...outbox.Subscription) *outbox.Dispatcher {
	t.Helper()
	d, err := outbox.New(pool, opt)
	require.NoError(t, err)
	for _, s := range subs {
		d.Subscribe(s)
	}
	require.NoError(t, d.Prepare(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func TestDeliversInOrderFromTheStart(t *testing.T) {
	pool, _ := pgtest.New(t)
	// An open transaction elsewhere on the cluster (another test's, say) holds the snapshot
	// horizon back; what was committed before the subscriber existed must still not reach it.
	holder, err := pool.Begin(context.Background())
	require.NoError(t, err)
	_, err = holder.Exec(context.Background(), `SELECT pg_current_xact_id()`)
	require.NoError(t, err)
	record(t, pool, "before") // recorded before the subscriber existed: not for it
	c := newCollector()
	start(t, pool, fastOptions(nil), outbox.Subscription{Name: "c", Handle: c.handle, Batch: 2})
	require.NoError(t, holder.Rollback(context.Background()))
	record(t, pool, "1", "2", "3", "4", "5")
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, c.waitFor(t, 5))
}

// A transaction that took its id first but commits last is not skipped: the cursor never passes
// a transaction that is still open.
func TestLateCommitIsNotLost(t *testing.T) {
	pool, _ := pgtest.New(t)
	c := newCollector()
	start(t, pool, fastOptions(nil), outbox.Subscription{Name: "c", Handle: c.handle})
	ctx := context.Background()

	slow, err := pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, outbox.Add(ctx, slow, outbox.Record{Name: "slow", Aggregate: "a", Payload: []byte(`{}`)}))
	record(t, pool, "fast")
	time.Sleep(200 * time.Millisecond) // several polls while "slow" is open
	assert.Empty(t, c.names(), "nothing is read past an open transaction")
	require.NoError(t, slow.Commit(ctx))
	got := c.waitFor(t, 2)
	assert.ElementsMatch(t, []string{"slow", "fast"}, got)
}

func TestFailingSubscriberRetriesAndDeliversOnceWithoutHoldingOthersUp(t *testing.T) {
	pool, _ := pgtest.New(t)
	reg := prometheus.NewRegistry()
	failing, healthy := newCollector(), newCollector()
	attempts := 0
	failing.fail = func(e outbox.Event) error {
		if e.Name == "x" && attempts < 5 {
			attempts++
			return errors.New("not yet")
		}
		return nil
	}
	opt := fastOptions(reg)
	opt.MaxAttempts = 10
	start(t, pool, opt,
		outbox.Subscription{Name: "failing", Handle: failing.handle},
		outbox.Subscription{Name: "healthy", Handle: healthy.handle})
	record(t, pool, "x", "y")
	assert.Equal(t, []string{"x", "y"}, healthy.waitFor(t, 2))
	assert.Equal(t, []string{"x", "y"}, failing.waitFor(t, 2), "delivered once after five failures")
	assert.Equal(t, 5, attempts)
	assert.Equal(t, 5.0, value(t, reg, "events_delivery_failures_total", "failing"))
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"x", "y"}, failing.names(), "nothing delivered twice")
}

func TestPoisonEventIsSetAside(t *testing.T) {
	pool, _ := pgtest.New(t)
	reg := prometheus.NewRegistry()
	c := newCollector()
	c.fail = func(e outbox.Event) error {
		if e.Name == "poison" {
			return errors.New("cannot handle")
		}
		return nil
	}
	start(t, pool, fastOptions(reg), outbox.Subscription{Name: "c", Handle: c.handle})
	record(t, pool, "a", "poison", "b")
	// The batch [a poison b] fails, is split, a passes, poison fails MaxAttempts times alone.
	assert.Equal(t, []string{"a", "b"}, c.waitFor(t, 2))
	var name, msg string
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT name, error, attempts FROM domain_event_dead_letters WHERE subscriber = 'c'`).Scan(&name, &msg, &n))
	assert.Equal(t, "poison", name)
	assert.Equal(t, "cannot handle", msg)
	assert.Equal(t, 3, n)
	assert.Equal(t, 1.0, value(t, reg, "events_dead_lettered_total", "c"))
}

// A Tx subscriber writes in the transaction that moves its cursor: when it fails after writing,
// its writes go with the failure, and a retry writes once.
func TestTxSubscriberWritesExactlyOnce(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `CREATE TABLE seen (name text NOT NULL)`)
	require.NoError(t, err)
	failures := 0
	handle := func(ctx context.Context, batch []outbox.Event) error {
		for _, e := range batch {
			if _, err := postgres.On(ctx, pool).Exec(ctx, `INSERT INTO seen VALUES ($1)`, e.Name); err != nil {
				return err
			}
		}
		if failures < 2 {
			failures++
			return errors.New("fails after writing")
		}
		return nil
	}
	start(t, pool, fastOptions(nil), outbox.Subscription{Name: "tx", Handle: handle, Tx: true})
	record(t, pool, "a", "b")
	require.Eventually(t, func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM seen`).Scan(&n)
		return n >= 2
	}, 10*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM seen`).Scan(&n))
	assert.Equal(t, 2, n)
}

// Two processes subscribing under one name share the work: one leads, each event is handled once.
func TestOneNodeLeadsASubscription(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `CREATE TABLE seen (name text PRIMARY KEY)`)
	require.NoError(t, err)
	handle := func(ctx context.Context, batch []outbox.Event) error {
		for _, e := range batch {
			if _, err := postgres.On(ctx, pool).Exec(ctx, `INSERT INTO seen VALUES ($1)`, e.Name); err != nil {
				return err // a duplicate would fail here, and show as a failure below
			}
		}
		return nil
	}
	regs := []*prometheus.Registry{prometheus.NewRegistry(), prometheus.NewRegistry()}
	for _, reg := range regs {
		start(t, pool, fastOptions(reg), outbox.Subscription{Name: "shared", Handle: handle, Tx: true, Batch: 3})
	}
	var names []string
	for i := range 50 {
		names = append(names, strconv.Itoa(i))
	}
	record(t, pool, names...)
	require.Eventually(t, func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM seen`).Scan(&n)
		return n == 50
	}, 20*time.Second, 10*time.Millisecond)
	// The counter moves just after the commit that the count above saw.
	delivered := func() float64 {
		total := 0.0
		for _, reg := range regs {
			total += value(t, reg, "events_delivered_total", "shared")
		}
		return total
	}
	assert.Eventually(t, func() bool { return delivered() == 50 }, 5*time.Second, 10*time.Millisecond, "delivered %v", delivered())
	for _, reg := range regs {
		assert.Zero(t, value(t, reg, "events_delivery_failures_total", "shared"))
	}
}

func TestPruneKeepsWhatASubscriberHasNotPassed(t *testing.T) {
	pool, _ := pgtest.New(t)
	ctx := context.Background()
	c := newCollector()
	d := start(t, pool, outbox.Options{Poll: 20 * time.Millisecond, Retention: time.Nanosecond, PruneEvery: time.Hour},
		outbox.Subscription{Name: "c", Handle: c.handle})
	record(t, pool, "a", "b")
	c.waitFor(t, 2)
	// A second subscriber that never runs holds its place.
	_, err := pool.Exec(ctx, `INSERT INTO domain_event_cursors (subscriber, txid, id)
		SELECT 'stuck', txid, id FROM domain_events ORDER BY txid, id LIMIT 1`)
	require.NoError(t, err)
	record(t, pool, "c")
	c.waitFor(t, 3)
	_, err = d.Prune(ctx)
	require.NoError(t, err)
	var left []string
	rows, err := pool.Query(ctx, `SELECT name FROM domain_events ORDER BY txid, id`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		left = append(left, n)
	}
	assert.Equal(t, []string{"b", "c"}, left, "the stuck subscriber's next events stay; what all passed goes")
}

// value reads the counter name{subscriber=sub} of reg (0 when absent).
func value(t *testing.T, reg *prometheus.Registry, name, sub string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "subscriber" && l.GetValue() == sub {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
