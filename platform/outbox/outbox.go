// Package outbox is the durable event log: records written in the transaction of the change they
// describe (Add), and a dispatcher that hands them to subscribers in order, at least once, each
// subscriber from its own cursor.
//
// It knows no domain: a record is a name, an aggregate id and a JSON payload. What the names mean
// and which code they reach is the composition root's business (app/events).
//
// Guarantees:
//   - Nothing committed is lost: a record is read only once every transaction that began before
//     it has ended (its txid is below the snapshot's xmin), and cursors move in (txid, id) order,
//     so a transaction that commits late cannot fall behind a cursor. A crash between a commit
//     and the delivery of its records delays them until a dispatcher runs again.
//   - Each subscriber has its own cursor: one that fails retries with back-off without holding
//     up the others. A batch that keeps failing is retried one record at a time, and a record
//     that fails MaxAttempts times is set aside in domain_event_dead_letters so the rest flow.
//   - One node delivers a subscription at a time (a PostgreSQL advisory lock per subscription);
//     the cursor moves only from where that node read it, so a second node that believes itself
//     leader for a moment cannot move it twice.
//   - A subscription with Tx set runs its handler inside the transaction that moves its cursor:
//     what the handler writes through postgres.On happens exactly once.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Record is an event to store with the change it describes.
type Record struct {
	Name      string
	Aggregate string // the id of the thing it happened to
	Payload   []byte // JSON
}

// Event is a stored record as a subscriber receives it.
type Event struct {
	ID        int64
	Name      string
	Aggregate string
	Payload   json.RawMessage
	At        time.Time
	pos       position
}

// position is a place in the log: the order is txid, then id.
type position struct {
	txid uint64
	id   int64
}

func (p position) xid() string { return strconv.FormatUint(p.txid, 10) }

// Execer runs a statement: the caller's transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Add stores records in the caller's transaction, in the order given.
func Add(ctx context.Context, tx Execer, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	names := make([]string, len(recs))
	aggs := make([]string, len(recs))
	payloads := make([]string, len(recs))
	for i, r := range recs {
		names[i], aggs[i], payloads[i] = r.Name, r.Aggregate, string(r.Payload)
	}
	_, err := tx.Exec(ctx, `INSERT INTO domain_events (name, aggregate, payload)
		SELECT n, a, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(n, a, p, o) ORDER BY o`,
		names, aggs, payloads)
	if err != nil {
		return fmt.Errorf("outbox: recording %d events: %w", len(recs), err)
	}
	return nil
}

// InsertSQL is the statement fragment that stores events from inside a larger statement (a
// data-modifying CTE of the caller's): INSERT INTO domain_events (name, aggregate, payload).
const InsertSQL = `INSERT INTO domain_events (name, aggregate, payload)`

// Named is an event that knows its name and aggregate; its JSON is its payload.
type Named interface {
	EventName() string
	AggregateID() string
}

// AddEvents encodes events and records them in tx: what a store calls in the transaction of its
// change.
func AddEvents[E Named](ctx context.Context, tx Execer, events ...E) error {
	recs := make([]Record, len(events))
	for i, e := range events {
		r, err := Encode(e)
		if err != nil {
			return err
		}
		recs[i] = r
	}
	return Add(ctx, tx, recs...)
}

// Encode turns an event into its record.
func Encode(e Named) (Record, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return Record{}, fmt.Errorf("outbox: encoding %s: %w", e.EventName(), err)
	}
	return Record{Name: e.EventName(), Aggregate: e.AggregateID(), Payload: b}, nil
}
