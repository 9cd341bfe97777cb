package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is what a store runs statements on: the pool, or the transaction a caller opened for a unit
// of work that spans stores (an event subscriber that advances its cursor in the same
// transaction as its writes, so that a redelivered event changes nothing twice).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ DB = (*pgxpool.Pool)(nil)
	_ DB = (pgx.Tx)(nil)
)

type unitKey struct{}

// unit is the transaction a context carries and what is to run once it commits.
type unit struct {
	tx pgx.Tx
	mu sync.Mutex
	// after runs once the transaction has committed (socket pushes of what it wrote).
	after []func(context.Context)
}

// On returns the transaction ctx carries, or pool: stores call it for every statement so that
// they join a caller's unit of work when there is one. Begin on the transaction opens a savepoint.
func On(ctx context.Context, pool *pgxpool.Pool) DB {
	if u, ok := ctx.Value(unitKey{}).(*unit); ok {
		return u.tx
	}
	return pool
}

// InTx reports whether ctx carries a unit of work.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(unitKey{}).(*unit)
	return ok
}

// AfterCommit runs fn once the unit of work ctx carries has committed, or now when there is
// none. A unit that rolls back drops fn: nothing it would announce happened.
func AfterCommit(ctx context.Context, fn func(context.Context)) {
	u, ok := ctx.Value(unitKey{}).(*unit)
	if !ok {
		fn(ctx)
		return
	}
	u.mu.Lock()
	u.after = append(u.after, fn)
	u.mu.Unlock()
}

// Unit runs fn in a transaction that the stores fn calls join (On), commits it when fn returns
// nil and then runs what was registered with AfterCommit. Inside another unit it is a savepoint.
func Unit(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := On(ctx, pool).Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: beginning a unit of work: %w", err)
	}
	return runUnit(ctx, tx, fn)
}

// UnitOn is Unit on a connection the caller holds.
func UnitOn(ctx context.Context, conn *pgx.Conn, fn func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: beginning a unit of work: %w", err)
	}
	return runUnit(ctx, tx, fn)
}

func runUnit(ctx context.Context, tx pgx.Tx, fn func(ctx context.Context, tx pgx.Tx) error) error {
	u := &unit{tx: tx}
	if err := fn(context.WithValue(ctx, unitKey{}, u), tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: committing a unit of work: %w", err)
	}
	// A savepoint's effects wait for the outer transaction (ctx still carries it); the outermost
	// transaction's run now.
	for _, fn := range u.after {
		AfterCommit(ctx, fn)
	}
	return nil
}
