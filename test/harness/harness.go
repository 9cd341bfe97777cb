// Package harness runs the real p2p binary for cross-process tests: each server gets its own
// database, Redis key prefix, asynq queue, SMTP sink and port, and is stopped with SIGTERM when
// the test ends.
package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/p2psandbox/hub/platform/mail/mailtest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// Main runs a package's tests, then removes the binary and the template databases.
func Main(m *testing.M) {
	code := pgtest.Run(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Binary builds cmd/p2p once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		binDir, buildErr = os.MkdirTemp("", "p2p-harness")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "p2p")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/p2p")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building p2p: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Env is the shared state several servers of one test use: one database, one Redis prefix, one
// SMTP sink, as nodes of one deployment would.
type Env struct {
	DatabaseURL string
	RedisPrefix string
	Mail        *mailtest.Server
	OutboxDir   string
	// BlobDir is the servers' file storage, so that no test writes under the working tree.
	BlobDir string
	// Extra variables for every server of this environment (P2P_...=...).
	Vars []string
}

// NewEnv makes a fresh deployment environment.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	rdb, prefix := redistest.New(t)
	e := &Env{
		DatabaseURL: pgtest.Empty(t),
		RedisPrefix: prefix,
		Mail:        mailtest.Start(t),
		OutboxDir:   t.TempDir(),
		BlobDir:     t.TempDir(),
	}
	// Removed once the servers have stopped: cleanups run last-registered first.
	redistest.Queue(t, rdb, e.Queue())
	return e
}

// Queue is the asynq queue of the environment's servers.
func (e *Env) Queue() string { return e.RedisPrefix + "queue" }

// Server is one running p2p process.
type Server struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
	logs *LockedBuffer
	done chan error
	// discarded: Run gave this attempt up for another, so the test's end leaves it alone.
	discarded bool
}

// Start runs `p2p serve` in env with extra variables and waits until it is ready.
func (e *Env) Start(t testing.TB, vars ...string) *Server {
	t.Helper()
	return e.Run(t, []string{"serve"}, "/health/ready", vars...)
}

// startAttempts bounds how often Run starts the binary again when an address FreeAddr chose was
// taken by someone else before the child bound it: FreeAddr can only close its listener and
// hope, so a busy machine occasionally hands the same port to another process in between.
const startAttempts = 3

// errAddrInUse marks a start that failed only because an address was taken, which a fresh
// address cures.
var errAddrInUse = errors.New("harness: p2p could not bind its address")

// Run runs the binary with args in env and waits until readyPath answers 200 ("" waits for
// nothing). A child that exits before it is ready because its address was taken is started
// again on fresh addresses, up to startAttempts times. The process is stopped with SIGTERM at
// the end of the test.
func (e *Env) Run(t testing.TB, args []string, readyPath string, vars ...string) *Server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := e.launch(t, args, vars)
		// Registered at once so that a panic while waiting still stops the child; an attempt
		// given up below has exited already, and its logs belong to no failure of the test.
		t.Cleanup(func() {
			if s.discarded {
				return
			}
			s.Stop(t)
			if t.Failed() {
				t.Logf("logs of %s:\n%s", s.Addr, s.logs.String())
			}
		})
		if readyPath == "" {
			return s
		}
		err := s.ready(readyPath, 60*time.Second)
		if err == nil {
			return s
		}
		if errors.Is(err, errAddrInUse) && attempt < startAttempts {
			s.discarded = true
			t.Logf("harness: p2p on %s lost a port race (attempt %d of %d); starting again on fresh addresses",
				s.Addr, attempt, startAttempts)
			continue
		}
		t.Fatalf("%v; logs:\n%s", err, s.logs.String())
	}
}

// launch starts one child on fresh addresses without waiting for it.
func (e *Env) launch(t testing.TB, args, vars []string) *Server {
	t.Helper()
	addr := FreeAddr(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"P2P_ENV=test",
		"P2P_LOG_LEVEL=info",
		"P2P_HTTP_ADDR=" + addr,
		"P2P_POSTGRES_URL=" + e.DatabaseURL,
		"P2P_POSTGRES_MAX_CONNS=8",
		"P2P_REDIS_URL=" + redistest.URL(),
		"P2P_REDIS_PREFIX=" + e.RedisPrefix,
		"P2P_WORKER_QUEUE=" + e.Queue(),
		"P2P_WORKER_ADDR=" + FreeAddr(t),
		"P2P_AUTH_BCRYPT_COST=4",
		"P2P_MAIL_SMTP_HOST=" + e.Mail.Host,
		fmt.Sprintf("P2P_MAIL_SMTP_PORT=%d", e.Mail.Port),
		"P2P_MAIL_OUTBOX_DIR=" + e.OutboxDir,
		"P2P_BLOB_DIR=" + e.BlobDir,
	}
	env = append(env, e.Vars...)
	env = append(env, vars...)
	s := &Server{URL: "http://" + addr, Addr: addr, logs: &LockedBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(Binary(t), args...)
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("harness: starting p2p: %v", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	return s
}

// WaitReady polls path until it answers 200.
func (s *Server) WaitReady(t testing.TB, path string, timeout time.Duration) {
	t.Helper()
	if err := s.ready(path, timeout); err != nil {
		t.Fatalf("%v; logs:\n%s", err, s.logs.String())
	}
}

// ready polls path until it answers 200. A child that exits first is an error, errAddrInUse
// when its logs say why.
func (s *Server) ready(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			if strings.Contains(s.logs.String(), "address already in use") {
				return fmt.Errorf("%w: p2p exited before it was ready (%v)", errAddrInUse, err)
			}
			return fmt.Errorf("harness: p2p exited before it was ready (%v)", err)
		default:
		}
		res, err := client.Get(s.URL + path)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("harness: %s%s not ready after %s", s.URL, path, timeout)
}

// Stop sends SIGTERM and waits for the exit.
func (s *Server) Stop(t testing.TB) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("harness: p2p did not stop after SIGTERM")
	}
}

// Exited waits for a command that ends by itself (not a server) and returns how it ended.
func (s *Server) Exited(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("harness: p2p %v still running after %s:\n%s", s.cmd.Args[1:], timeout, s.Logs())
		return nil
	}
}

// Kill stops the process with SIGKILL, as a crash would.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	err := <-s.done
	s.done <- err
}

// Logs returns what the process printed so far.
func (s *Server) Logs() string { return s.logs.String() }

// FreeAddr returns a loopback address nothing listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// LockedBuffer collects a child process's output while a test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Clone(l.b.String())
}

// Core is a standalone `p2p authcore` shared by the servers of an environment.
type Core struct {
	URL    string
	APIKey string
	proc   *Server
}

// StartCore runs `p2p authcore` and makes every server started afterwards in e use it.
func (e *Env) StartCore(t testing.TB) *Core {
	t.Helper()
	addr := FreeAddr(t)
	key := "harness-core-key-0123456789abcdef"
	proc := e.Run(t, []string{"authcore"}, "", "P2P_AUTH_CORE_ADDR="+addr, "P2P_SUPERTOKENS_API_KEY="+key)
	proc.URL = "http://" + addr
	proc.WaitReady(t, "/hello", 60*time.Second)
	e.Vars = append(e.Vars, "P2P_SUPERTOKENS_CONNECTION_URI="+proc.URL, "P2P_SUPERTOKENS_API_KEY="+key)
	return &Core{URL: proc.URL, APIKey: key, proc: proc}
}

// Call sends one CDI request to the core, as the SDK would.
func (c *Core) Call(t testing.TB, method, path, rid string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.URL+path, rd)
	req.Header.Set("api-key", c.APIKey)
	req.Header.Set("cdi-version", "3.1")
	req.Header.Set("rid", rid)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("harness: core %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("harness: core %s %s: %d %s", method, path, res.StatusCode, b)
	}
	return out
}
