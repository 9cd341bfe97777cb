package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err says PostgreSQL could not serve the request for now, rather
// than that the request or the code is wrong, in what pgx knows beyond the network errors
// (domain/errs.Transient, which callers check too): a connection that could not be made
// (pgconn.ConnectError, whatever the cause, the server's refusal included), an error pgx knows
// happened before the statement was sent (pgconn.SafeToRetry), a timeout, and the server's own
// "not now" codes on a session already open.
func Unavailable(err error) bool {
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "53300", // too_many_connections
			"57P01", // admin_shutdown: the server is stopping
			"57P02", // crash_shutdown
			"57P03": // cannot_connect_now: the server is starting or recovering
			return true
		}
		return strings.HasPrefix(pg.Code, "08") // connection_exception
	}
	return false
}
