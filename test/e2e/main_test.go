// Package e2e drives the real p2p binary over HTTP like the React frontend does: the real
// SuperTokens SDK in the server, the embedded (or standalone) core, PostgreSQL, Redis, the asynq
// worker and an SMTP server inside the test.
package e2e

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// db opens the environment's database for assertions and for moving stored expiries.
func db(t *testing.T, env *harness.Env) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tokenOf returns the token query parameter of a link from a mail.
