package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ExpiredRows deletes the rows of Table (optionally schema-qualified) whose Column (a
// timestamptz) lies in the past. It deletes in batches so that a large backlog never holds long
// locks.
type ExpiredRows struct {
	Pool   *pgxpool.Pool
	Table  string
	Column string
}

const sweepBatch = 5000

// Sweep deletes every row expired at now and returns how many went.
func (e ExpiredRows) Sweep(ctx context.Context, now time.Time) (int64, error) {
	table, column := pgx.Identifier(strings.Split(e.Table, ".")).Sanitize(), pgx.Identifier{e.Column}.Sanitize()
	q := fmt.Sprintf(`DELETE FROM %[1]s WHERE ctid IN (SELECT ctid FROM %[1]s WHERE %[2]s < $1 LIMIT %[3]d)`,
		table, column, sweepBatch)
	var total int64
	for {
		tag, err := e.Pool.Exec(ctx, q, now)
		if err != nil {
			return total, fmt.Errorf("sweeping %s: %w", e.Table, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < sweepBatch {
			return total, nil
		}
	}
}
