package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/test/harness"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "p2p-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "p2p")
	code := 1
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building p2p: %v\n%s", err, out)
	} else {
		code = pgtest.Run(m)
	}
	os.RemoveAll(dir) // not deferred: os.Exit skips deferred calls
	os.Exit(code)
}

func baseEnv(t *testing.T, dbURL string) []string {
	_, prefix := redistest.New(t)
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"P2P_ENV=test",
		"P2P_POSTGRES_URL=" + dbURL,
		"P2P_REDIS_URL=" + redistest.URL(),
		"P2P_REDIS_PREFIX=" + prefix,
		"P2P_WORKER_QUEUE=" + prefix + "q",
		"P2P_HTTP_ADDR=" + harness.FreeAddr(t),
		"P2P_BLOB_DIR=" + t.TempDir(),
	}
}

func TestConfigErrorsExitWithCode2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"malformed duration", []string{"serve"}, []string{"P2P_HTTP_SHUTDOWN_TIMEOUT=forever"}, "P2P_HTTP_SHUTDOWN_TIMEOUT"},
		{"missing value in file", []string{"serve", "--config", writeFile(t, "http:\n  addr: ''\n")}, nil, "P2P_HTTP_ADDR (http.addr): is required"},
		{"absent config file", []string{"migrate", "up"}, []string{"P2P_CONFIG=/nonexistent/p2p.yaml"}, "/nonexistent/p2p.yaml"},
		{"unknown subcommand", []string{"frobnicate"}, nil, "unknown command"},
		{"unknown flag", []string{"serve", "--nope"}, nil, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(tt.args, tt.env, io.Discard, &stderr)
			assert.Equal(t, exitConfig, code)
			assert.Contains(t, stderr.String(), tt.want)
		})
	}

	// And through the real binary, as an operator sees it.
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"P2P_REDIS_URL=http://not-redis"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, exitConfig, exit.ExitCode())
	assert.Contains(t, string(out), "P2P_REDIS_URL (redis.url): must be a redis:// or rediss:// URL")
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "p2p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, exitOK, run([]string{"version"}, nil, &out, io.Discard))
	assert.Contains(t, out.String(), "p2p dev")
}

// TestServeStartsMigratesAndStopsOnSIGTERM runs the real binary against an empty database: it
// migrates on start, becomes ready, and exits 0 on SIGTERM.
func TestServeStartsMigratesAndStopsOnSIGTERM(t *testing.T) {
	env := baseEnv(t, pgtest.Empty(t))
	addr := lookup(env, "P2P_HTTP_ADDR")
	var logs harness.LockedBuffer
	cmd := exec.Command(binary, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})

	var res *http.Response
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/health/ready", nil)
		req.Header.Set("X-Request-ID", "probe-1")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		r.Body.Close()
		res = r
		return r.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "serve never became ready; logs:\n%s", &logs)
	assert.Equal(t, "probe-1", res.Header.Get("X-Request-ID"))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "serve exits 0 after SIGTERM; logs:\n%s", logs.String())
	case <-time.After(25 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM; logs:\n%s", logs.String())
	}
	assert.Contains(t, logs.String(), "migrations applied")
	assert.Contains(t, logs.String(), "worker started")
}

func TestMigrateCommands(t *testing.T) {
	env := baseEnv(t, pgtest.Empty(t))
	p2p := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(context.Background(), binary, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	assert.Contains(t, p2p("migrate", "status"), "pending")
	assert.Contains(t, p2p("migrate", "up"), "applied")
	st := p2p("migrate", "status")
	assert.NotContains(t, st, "pending")
	assert.Contains(t, st, "applied")
	assert.Contains(t, p2p("migrate", "down"), "rolled back 1 migration")
	assert.True(t, strings.Contains(p2p("migrate", "status"), "pending"))
}
