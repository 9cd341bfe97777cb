package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/platform/postgres"
)

// Handler receives a batch of events in log order. An error fails the whole batch, which is
// delivered again.
type Handler func(ctx context.Context, batch []Event) error

// Subscription is one subscriber of the log.
type Subscription struct {
	// Name is the subscriber's stable name: the key of its cursor and its lock.
	Name   string
	Handle Handler
	// Tx runs Handle inside the transaction that moves the cursor; the stores it calls join it
	// through postgres.On, and postgres.AfterCommit defers what must wait for the commit.
	Tx bool
	// Batch is the most events per call (default 200).
	Batch int
	// Delay gathers a batch: after a wake-up the subscriber waits this long before it reads, so a
	// burst arrives as one batch (default 0: at once).
	Delay time.Duration
}

// Options tune a Dispatcher.
type Options struct {
	// Poll is how often each subscriber reads the log without a wake-up: the delivery delay of
	// events written by other processes (default 1 s).
	Poll time.Duration
	// MaxAttempts is how often one event may fail before it is set aside (default 12).
	MaxAttempts int
	// Backoff is the wait after the n-th consecutive failure (default 100 ms doubling to 1 min).
	Backoff func(n int) time.Duration
	// Retention is how long delivered events stay in the log (default 24 h); PruneEvery how often
	// they are deleted once older (default 1 min).
	Retention  time.Duration
	PruneEvery time.Duration
	Log        *slog.Logger
	Registry   prometheus.Registerer
}

// Dispatcher delivers the log to its subscriptions.
type Dispatcher struct {
	pool *pgxpool.Pool
	opt  Options
	log  *slog.Logger
	m    *dispatchMetrics
	subs []*sub

	lockMu   sync.Mutex
	lockConn *pgxpool.Conn // holds the advisory locks of the subscriptions this node leads
}

// sub is a subscription's running state.
type sub struct {
	Subscription
	wake   chan struct{}
	leader atomic.Bool // this node holds the subscription's lock
	pos    position    // valid while leader
	// failures of the batch at pos, in a row.
	failures int
}

// lockSpace namespaces the advisory locks of the dispatcher.
const lockSpace = 4242_0001

// New returns a dispatcher on pool. Subscribe before Prepare and Run.
func New(pool *pgxpool.Pool, opt Options) (*Dispatcher, error) {
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 12
	}
	if opt.Backoff == nil {
		opt.Backoff = func(n int) time.Duration {
			d := 100 * time.Millisecond << min(n, 10)
			return min(d, time.Minute)
		}
	}
	if opt.Retention <= 0 {
		opt.Retention = 24 * time.Hour
	}
	if opt.PruneEvery <= 0 {
		opt.PruneEvery = time.Minute
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	m, err := newDispatchMetrics(opt.Registry)
	if err != nil {
		return nil, err
	}
	return &Dispatcher{pool: pool, opt: opt, log: opt.Log.With("component", "outbox"), m: m}, nil
}

// Subscribe adds a subscription. Names must be unique.
func (d *Dispatcher) Subscribe(s Subscription) {
	if s.Batch <= 0 {
		s.Batch = 200
	}
	for _, o := range d.subs {
		if o.Name == s.Name {
			panic("outbox: subscription " + s.Name + " registered twice")
		}
	}
	d.subs = append(d.subs, &sub{Subscription: s, wake: make(chan struct{}, 1)})
}

// Prepare creates the cursors of new subscriptions at the end of the log: a subscriber receives
// what is recorded from its first start on. Call it before the process accepts work, so that
// nothing recorded after the start can be missed.
func (d *Dispatcher) Prepare(ctx context.Context) error {
	for _, s := range d.subs {
		// A new subscriber starts after everything already committed: past the newest visible
		// event, or at the snapshot's horizon when that is later. The horizon alone is not enough:
		// another database's long transaction on the same cluster holds it back, and events
		// committed since would be delivered to a subscriber that did not exist then.
		_, err := d.pool.Exec(ctx, `INSERT INTO domain_event_cursors (subscriber, txid, id)
			SELECT $1,
				CASE WHEN last.txid IS NULL OR last.txid < h.xmin THEN h.xmin ELSE last.txid END,
				CASE WHEN last.txid IS NULL OR last.txid < h.xmin THEN 0 ELSE last.id END
			FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) h
			LEFT JOIN LATERAL (SELECT txid, id FROM domain_events ORDER BY txid DESC, id DESC LIMIT 1) last ON true
			ON CONFLICT DO NOTHING`, s.Name)
		if err != nil {
			return fmt.Errorf("outbox: creating the cursor of %s: %w", s.Name, err)
		}
	}
	return nil
}

// Wake tells the subscriptions that this process recorded events, so that they read now rather
// than at their next poll.
func (d *Dispatcher) Wake() {
	for _, s := range d.subs {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range d.subs {
		wg.Go(func() { d.loop(ctx, s) })
	}
	wg.Go(func() { d.maintain(ctx) })
	wg.Wait()
	d.lockMu.Lock()
	if d.lockConn != nil {
		// Releasing the connection would hand the locks to the pool's next user: close it.
		_ = d.lockConn.Conn().Close(context.Background())
		d.lockConn.Release()
		d.lockConn = nil
	}
	d.lockMu.Unlock()
	return nil
}

func (d *Dispatcher) loop(ctx context.Context, s *sub) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
			if s.Delay > 0 {
				if !sleep(ctx, s.Delay) {
					return
				}
			}
		}
		wait := d.opt.Poll
		for {
			n, err := d.round(ctx, s)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				wait = d.opt.Backoff(s.failures)
				break
			}
			if n < s.Batch {
				break // caught up
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// round delivers one batch if this node leads s; it returns how many events it delivered.
func (d *Dispatcher) round(ctx context.Context, s *sub) (int, error) {
	if !s.leader.Load() {
		ok, err := d.lead(ctx, s)
		if err != nil || !ok {
			return 0, err
		}
	}
	limit := s.Batch
	if s.failures >= 2 {
		limit = 1 // find the event that fails
	}
	batch, err := d.read(ctx, s.pos, limit)
	if err != nil {
		d.log.Warn("reading the event log", "subscriber", s.Name, "err", err)
		return 0, err
	}
	if len(batch) == 0 {
		d.m.lag.WithLabelValues(s.Name).Set(0)
		return 0, nil
	}
	d.m.lag.WithLabelValues(s.Name).Set(time.Since(batch[0].At).Seconds())
	err = d.deliver(ctx, s, batch)
	if errors.Is(err, errLostCursor) {
		s.leader.Store(false) // another node moved it: read it again when leading again
		return 0, nil
	}
	if err != nil {
		return 0, d.failed(ctx, s, batch, err)
	}
	s.pos, s.failures = batch[len(batch)-1].pos, 0
	d.m.delivered.WithLabelValues(s.Name).Add(float64(len(batch)))
	return len(batch), nil
}

var errLostCursor = errors.New("outbox: the cursor was moved by another dispatcher")

// deliver calls the handler and moves the cursor past batch.
func (d *Dispatcher) deliver(ctx context.Context, s *sub, batch []Event) error {
	next := batch[len(batch)-1].pos
	if !s.Tx {
		if err := d.call(ctx, s, batch); err != nil {
			return err
		}
		return d.advance(ctx, d.pool, s, next, nil)
	}
	return postgres.Unit(ctx, d.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := d.call(ctx, s, batch); err != nil {
			return err
		}
		return d.advance(ctx, tx, s, next, nil)
	})
}

// call runs the handler, turning a panic into an error.
func (d *Dispatcher) call(ctx context.Context, s *sub, batch []Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("outbox: %s panicked: %v", s.Name, r)
		}
	}()
	return s.Handle(ctx, batch)
}

// advance moves the cursor from s.pos to next, only if it is still at s.pos. The caller updates
// s.pos once the change is committed.
func (d *Dispatcher) advance(ctx context.Context, db postgres.DB, s *sub, next position, lastErr *string) error {
	tag, err := db.Exec(ctx, `UPDATE domain_event_cursors SET txid = $2::xid8, id = $3, attempts = 0, last_error = $6, updated_at = now()
		WHERE subscriber = $1 AND txid = $4::xid8 AND id = $5`, s.Name, next.xid(), next.id, s.pos.xid(), s.pos.id, lastErr)
	if err != nil {
		return fmt.Errorf("outbox: moving the cursor of %s: %w", s.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return errLostCursor
	}
	return nil
}

// failed records a failure; the event that fails MaxAttempts times alone is set aside.
func (d *Dispatcher) failed(ctx context.Context, s *sub, batch []Event, cause error) error {
	s.failures++
	d.m.failures.WithLabelValues(s.Name).Inc()
	msg := cause.Error()
	d.log.Warn("event subscriber failed", "subscriber", s.Name, "event", batch[0].ID, "name", batch[0].Name,
		"batch", len(batch), "attempt", s.failures, "err", cause)
	if len(batch) == 1 && s.failures >= d.opt.MaxAttempts {
		err := d.deadLetter(ctx, s, batch[0], msg)
		if err == nil {
			s.pos, s.failures = batch[0].pos, 0
			return nil
		}
		if errors.Is(err, errLostCursor) {
			s.leader.Store(false)
			return cause
		}
		d.log.Error("setting an event aside", "subscriber", s.Name, "event", batch[0].ID, "err", err)
	}
	_, err := d.pool.Exec(ctx, `UPDATE domain_event_cursors SET attempts = $2, last_error = $3, updated_at = now() WHERE subscriber = $1`,
		s.Name, s.failures, msg)
	if err != nil {
		d.log.Warn("recording a subscriber failure", "subscriber", s.Name, "err", err)
	}
	return cause
}

func (d *Dispatcher) deadLetter(ctx context.Context, s *sub, e Event, msg string) error {
	d.log.Error("event set aside after repeated failures", "subscriber", s.Name, "event", e.ID, "name", e.Name,
		"attempts", s.failures, "err", msg)
	err := postgres.Unit(ctx, d.pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO domain_event_dead_letters (subscriber, event_id, name, aggregate, payload, error, attempts)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			s.Name, e.ID, e.Name, e.Aggregate, string(e.Payload), msg, s.failures)
		if err != nil {
			return fmt.Errorf("outbox: dead letter: %w", err)
		}
		return d.advance(ctx, tx, s, e.pos, &msg)
	})
	if err == nil {
		d.m.deadLetters.WithLabelValues(s.Name).Inc()
	}
	return err
}

// read returns up to limit events after pos that every earlier transaction has settled.
func (d *Dispatcher) read(ctx context.Context, pos position, limit int) ([]Event, error) {
	rows, err := d.pool.Query(ctx, `SELECT txid::text, id, name, aggregate, payload, created_at FROM domain_events
		WHERE (txid, id) > ($1::xid8, $2) AND txid < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY txid, id LIMIT $3`, pos.xid(), pos.id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e   Event
			xid string
		)
		if err := rows.Scan(&xid, &e.ID, &e.Name, &e.Aggregate, &e.Payload, &e.At); err != nil {
			return nil, err
		}
		if e.pos.txid, err = strconv.ParseUint(xid, 10, 64); err != nil {
			return nil, fmt.Errorf("outbox: txid %q: %w", xid, err)
		}
		e.pos.id = e.ID
		out = append(out, e)
	}
	return out, rows.Err()
}

// lead takes the subscription's lock and reads its cursor.
func (d *Dispatcher) lead(ctx context.Context, s *sub) (bool, error) {
	d.lockMu.Lock()
	defer d.lockMu.Unlock()
	if d.lockConn == nil {
		c, err := d.pool.Acquire(ctx)
		if err != nil {
			return false, err
		}
		d.lockConn = c
	}
	var ok bool
	if err := d.lockConn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockSpace, s.Name).Scan(&ok); err != nil {
		d.dropLocks()
		return false, fmt.Errorf("outbox: taking the lock of %s: %w", s.Name, err)
	}
	if !ok {
		return false, nil
	}
	var xid string
	err := d.pool.QueryRow(ctx, `SELECT txid::text, id, attempts FROM domain_event_cursors WHERE subscriber = $1`, s.Name).
		Scan(&xid, &s.pos.id, &s.failures)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("outbox: %s has no cursor; call Prepare first", s.Name)
	}
	if err == nil {
		s.pos.txid, err = strconv.ParseUint(xid, 10, 64)
	}
	if err != nil {
		_, _ = d.lockConn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockSpace, s.Name)
		return false, err
	}
	s.leader.Store(true)
	d.log.Debug("leading subscription", "subscriber", s.Name)
	return true, nil
}

// dropLocks forgets every lock this node held: its connection is gone, and with it the locks.
// Caller holds lockMu.
func (d *Dispatcher) dropLocks() {
	if d.lockConn != nil {
		_ = d.lockConn.Conn().Close(context.Background())
		d.lockConn.Release()
		d.lockConn = nil
	}
	for _, s := range d.subs {
		s.leader.Store(false)
	}
}

// maintain checks the lock connection and prunes delivered events.
func (d *Dispatcher) maintain(ctx context.Context) {
	t := time.NewTicker(d.opt.Poll)
	defer t.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.lockMu.Lock()
		if d.lockConn != nil {
			if err := d.lockConn.Ping(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("the event log's lock connection failed; leading again", "err", err)
				d.dropLocks()
			}
		}
		d.lockMu.Unlock()
		if time.Since(lastPrune) >= d.opt.PruneEvery {
			lastPrune = time.Now()
			if n, err := d.Prune(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("pruning the event log", "err", err)
			} else if n > 0 {
				d.log.Debug("pruned the event log", "events", n)
			}
		}
	}
}

// Prune deletes the events that every subscriber has passed and that are older than the
// retention. Subscribers whose cursor has not moved for a week are taken to be gone.
func (d *Dispatcher) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		tag, err := d.pool.Exec(ctx, `DELETE FROM domain_events WHERE (txid, id) IN (
			SELECT e.txid, e.id FROM domain_events e,
			  (SELECT txid, id FROM domain_event_cursors WHERE updated_at > now() - interval '7 days' ORDER BY txid, id LIMIT 1) c
			WHERE (e.txid, e.id) <= (c.txid, c.id) AND e.created_at < $1
			ORDER BY e.txid, e.id LIMIT 5000)`, time.Now().Add(-d.opt.Retention))
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < 5000 {
			return total, nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type dispatchMetrics struct {
	delivered   *prometheus.CounterVec
	failures    *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	lag         *prometheus.GaugeVec
}

func newDispatchMetrics(r prometheus.Registerer) (*dispatchMetrics, error) {
	m := &dispatchMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_delivered_total", Help: "Domain events handed to a subscriber and acknowledged.",
		}, []string{"subscriber"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_delivery_failures_total", Help: "Deliveries a subscriber failed (retried with back-off).",
		}, []string{"subscriber"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_dead_lettered_total", Help: "Events set aside after failing MaxAttempts times.",
		}, []string{"subscriber"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "events_delivery_lag_seconds", Help: "Age of the oldest event a subscriber had yet to receive at its last read.",
		}, []string{"subscriber"}),
	}
	for _, c := range []prometheus.Collector{m.delivered, m.failures, m.deadLetters, m.lag} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("outbox: registering metrics: %w", err)
		}
	}
	return m, nil
}
