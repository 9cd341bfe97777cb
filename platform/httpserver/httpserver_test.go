package httpserver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/httpserver"
)

// start serves h and returns its base URL, a cancel that begins the shutdown, and the channel
// Serve's result arrives on.
func start(t *testing.T, h http.Handler, timeout time.Duration) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserver.Serve(ctx, &http.Server{Handler: h}, ln, timeout) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), cancel, done
}

func TestShutdownLetsInFlightRequestFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	url, shutdown, done := start(t, h, 5*time.Second)

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(url)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{string(b), err}
	}()

	<-entered
	shutdown() // SIGTERM arrives while the request runs

	// New connections are refused once shutdown has begun.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", url[len("http://"):], 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 2*time.Second, 10*time.Millisecond)

	select {
	case err := <-done:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	default:
	}
	close(release)

	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, "finished", r.body)
	assert.NoError(t, <-done)
}

func TestShutdownDeadline(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // never finishes by itself
	})
	url, shutdown, done := start(t, h, 100*time.Millisecond)
	go http.Get(url) //nolint:errcheck // the request is cut off on purpose
	<-entered
	shutdown()
	err := <-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "requests still running")
}
