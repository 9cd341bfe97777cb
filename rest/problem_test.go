package rest_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/rest"
)

// refusingServer listens like PostgreSQL and answers every connection's startup message with a
// FATAL error of code, as a real server does while it starts up (57P03) or when it is full
// (53300): states a test cannot put the shared PostgreSQL in. It returns its address.
func refusingServer(t *testing.T, code, message string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				var size [4]byte // the startup message: its length, then the parameters
				if _, err := io.ReadFull(conn, size[:]); err != nil {
					return
				}
				if _, err := io.CopyN(io.Discard, conn, int64(binary.BigEndian.Uint32(size[:]))-4); err != nil {
					return
				}
				fields := "SFATAL\x00VFATAL\x00C" + code + "\x00M" + message + "\x00\x00"
				msg := binary.BigEndian.AppendUint32([]byte{'E'}, uint32(len(fields)+4))
				conn.Write(append(msg, fields...)) //nolint:errcheck // the client may have gone
			}()
		}
	}()
	return ln.Addr().String()
}

// stallingServer accepts connections and never answers them: a server that hangs.
func stallingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

// execOn runs SELECT 1 on a pool of addr and returns what pgx says.
func execOn(t *testing.T, addr string, timeout time.Duration) error {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err = pool.Exec(ctx, "SELECT 1")
	require.Error(t, err)
	return err
}

// TestUnavailableBackingService: every way pgx reports that PostgreSQL cannot serve now answers
// 503 unavailable with Retry-After, whether or not a store wrapped it; what is wrong with a
// statement stays 500. The errors are pgx's own, from real connections.
func TestUnavailableBackingService(t *testing.T) {
	pool, url := pgtest.New(t)
	dialErr := execOn(t, closedPort(t), 5*time.Second)

	tests := []struct {
		name   string
		err    func(t *testing.T) error
		status int
	}{
		{"nothing listens", func(*testing.T) error { return dialErr }, 503},
		{"wrapped by a store", func(*testing.T) error { return fmt.Errorf("identitydb: reading a user: %w", dialErr) }, 503},
		{"wrapped as an internal error", func(*testing.T) error {
			return &errs.Error{Code: errs.Internal, Message: "reading a user", Err: dialErr}
		}, 503},
		{"the server is starting up", func(t *testing.T) error {
			return execOn(t, refusingServer(t, "57P03", "the database system is starting up"), 5*time.Second)
		}, 503},
		{"the server is full", func(t *testing.T) error {
			return execOn(t, refusingServer(t, "53300", "sorry, too many clients already"), 5*time.Second)
		}, 503},
		{"the server hangs", func(t *testing.T) error { return execOn(t, stallingServer(t), 200*time.Millisecond) }, 503},
		{"every pooled connection is busy", func(t *testing.T) error {
			cfg, err := pgxpool.ParseConfig(url)
			require.NoError(t, err)
			cfg.MaxConns = 1
			small, err := pgxpool.NewWithConfig(context.Background(), cfg)
			require.NoError(t, err)
			t.Cleanup(small.Close)
			held, err := small.Acquire(context.Background())
			require.NoError(t, err)
			t.Cleanup(held.Release)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err = small.Exec(ctx, "SELECT 1")
			return err
		}, 503},
		{"a statement the server refuses", func(t *testing.T) error {
			_, err := pool.Exec(context.Background(), "SELECT 1/0")
			return err
		}, 500},
		{"a plain failure", func(*testing.T) error { return errors.New("something broke") }, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			require.Error(t, err)
			r := newRouter(t, nil)
			r.GET("/db", func(c *gin.Context) { rest.Fail(c, err) })
			res, body := do(t, r, httptest.NewRequest(http.MethodGet, "/db", nil))
			require.Equal(t, tt.status, res.StatusCode, "%v: %v", err, body)
			assert.Equal(t, rest.ProblemContentType, res.Header.Get("Content-Type"))
			if tt.status == http.StatusServiceUnavailable {
				assert.Equal(t, "unavailable", body["code"])
				assert.Equal(t, "1", res.Header.Get("Retry-After"))
			} else {
				assert.Equal(t, "internal", body["code"])
				assert.Empty(t, res.Header.Get("Retry-After"))
			}
			assert.NotContains(t, body["detail"], "127.0.0.1", "the cause stays in the logs")
		})
	}

	// The auth SDK's failures take the same road: the embedded core's sessions live in PostgreSQL.
	rec := httptest.NewRecorder()
	rest.AuthAPIError(logging.Discard())(dialErr, httptest.NewRequest(http.MethodPost, "/auth/signin", nil), rec)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
}
