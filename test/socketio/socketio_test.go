// Package socketio runs the hub's test of record: the npm socket.io-client (pinned in
// package-lock.json) against real `p2p serve` processes. The Go side starts the processes, a
// sticky TCP balancer in front of them and a small control API through which the Node suite
// signs users up, kills, stops and restarts nodes and emits through the Redis emitter.
package socketio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"sync"
	"testing"
	"time"

	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

func TestMain(m *testing.M) { harness.Main(m) }

// suiteDir is this folder.
func suiteDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

func TestSocketIOClient(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is required for the socket.io-client suite")
		}
		t.Skip("node is not installed")
	}
	installDeps(t)

	// The cluster: three nodes of one deployment sharing PostgreSQL, Redis and a standalone core.
	env := harness.NewEnv(t)
	env.StartCore(t)
	c := &control{t: t, env: env, proxy: newProxy(t), modEmail: harness.UniqueEmail("sio-mod")}
	for i := range 3 {
		c.nodes = append(c.nodes, c.startNode(i))
	}
	// Two more nodes outside the balancer that nothing stops: with node 0 they let files that run
	// beside cluster.test.mjs (which kills and restarts nodes 1 and 2) work across nodes.
	for range 2 {
		c.steady = append(c.steady, env.Start(t, "P2P_AUTH_MODERATORS="+c.modEmail))
	}
	// A node of its own whose access tokens live one minute, for the expired-token case.
	expEnv := harness.NewEnv(t)
	expNode := expEnv.Start(t, "P2P_AUTH_ACCESS_TOKEN_VALIDITY=1m")
	expUser := signUp(t, expNode)
	expUser["issuedAt"] = time.Now().UnixMilli()

	rdb, _ := redistest.New(t)
	c.emitter = realtime.NewEmitter(context.Background(), rdb, env.RedisPrefix)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: c.routes(expNode.URL, expUser)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-concurrency=3", "--test-reporter=spec")
	cmd.Dir = suiteDir()
	cmd.Env = append(os.Environ(), "P2P_CONTROL_URL=http://"+ln.Addr().String())
	out := &harness.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	t.Logf("socket.io-client suite:\n%s", out.String())
	if err != nil {
		t.Fatalf("the socket.io-client suite failed: %v", err)
	}
}

// installDeps runs `npm ci` when node_modules is missing or was installed from another lock file.
func installDeps(t *testing.T) {
	t.Helper()
	dir := suiteDir()
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", ".p2p-lock-sha256")
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}

// signUp creates a user and organization through the real sign-up (header mode).
func signUp(t *testing.T, s *harness.Server) map[string]any {
	a := seed.Founder(t, s, "hub")
	return map[string]any{"token": a.AccessToken, "refreshToken": a.RefreshToken, "userId": a.ID, "organizationId": a.OrgID}
}

// verifiedSignUp is signUp with the address confirmed, as messaging needs: the confirmation
// answers with an access token that carries it.
func verifiedSignUp(t *testing.T, env *harness.Env, s *harness.Server) map[string]any {
	a := seed.Verified(t, env, s, "hub")
	return map[string]any{"token": a.AccessToken, "userId": a.ID, "organizationId": a.OrgID}
}

// control is the API the Node suite drives the cluster with.
type control struct {
	t   *testing.T
	env *harness.Env
	// modEmail is the platform moderator's address, named in auth.moderators on every node;
	// moderator is their sign-up, made on the first /moderator.
	modEmail  string
	moderator map[string]any
	proxy     *proxy
	emitter   *realtime.Emitter
	mu        sync.Mutex
	nodes     []*harness.Server
	steady    []*harness.Server
}

func (c *control) startNode(i int) *harness.Server {
	s := c.env.Start(c.t, "P2P_AUTH_MODERATORS="+c.modEmail)
	c.proxy.set(i, s.Addr)
	return s
}

func (c *control) routes(expURL string, expUser map[string]any) http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, fn func(in map[string]any) (any, error)) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			in := map[string]any{}
			if b, _ := io.ReadAll(r.Body); len(b) > 0 {
				if err := json.Unmarshal(b, &in); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
			}
			out, err := fn(in)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(out)
		})
	}
	node := func(in map[string]any) (int, error) {
		f, ok := in["node"].(float64)
		if !ok || int(f) < 0 || int(f) >= len(c.nodes) {
			return 0, errors.New("node: 0, 1 or 2")
		}
		return int(f), nil
	}
	handle("/config", func(map[string]any) (any, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		urls := make([]string, len(c.nodes))
		for i, n := range c.nodes {
			urls[i] = n.URL
		}
		steady := []string{c.nodes[0].URL, c.steady[0].URL, c.steady[1].URL}
		return map[string]any{"nodes": urls, "steady": steady, "balancer": "http://" + c.proxy.addr(), "expiry": map[string]any{"url": expURL, "user": expUser}}, nil
	})
	handle("/signup", func(map[string]any) (any, error) {
		c.mu.Lock()
		s := c.nodes[0]
		c.mu.Unlock()
		return verifiedSignUp(c.t, c.env, s), nil
	})
	// /moderator is the platform's moderator (signed up once, with a confirmed address).
	handle("/moderator", func(map[string]any) (any, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.moderator == nil {
			a := seed.Account{Client: c.nodes[0].Client(c.t), Email: c.modEmail}
			body := a.SignUp(harness.SignUpFields(c.modEmail))
			a.Confirm(c.t, c.env)
			user, _ := body["user"].(map[string]any)
			id, _ := user["id"].(string)
			c.moderator = map[string]any{"token": a.AccessToken, "userId": id}
		}
		return c.moderator, nil
	})
	// /conversation starts a conversation as token's user with the users named: a direct one for
	// one other user, a group (titled) for several.
	handle("/conversation", func(in map[string]any) (any, error) {
		c.mu.Lock()
		s := c.nodes[0]
		c.mu.Unlock()
		token, _ := in["token"].(string)
		cl := s.Client(c.t)
		cl.AccessToken = token
		body := map[string]any{"participantIds": in["userIds"]}
		if title, ok := in["title"].(string); ok {
			body["title"] = title
		}
		res := cl.Do(http.MethodPost, "/api/v1/conversations", body)
		if res.Status != http.StatusCreated && res.Status != http.StatusOK {
			return nil, fmt.Errorf("creating a conversation: %s", res)
		}
		id, _ := res.JSON()["id"].(string)
		return map[string]any{"id": id, "room": realtime.ConversationRoom(id)}, nil
	})
	handle("/route", func(in map[string]any) (any, error) {
		i, err := node(in)
		if err != nil {
			return nil, err
		}
		strict, _ := in["strict"].(bool)
		c.proxy.prefer(i, strict)
		return map[string]any{}, nil
	})
	// /kill is SIGKILL (a crash), /stop SIGTERM (a drain); either takes the node off the balancer.
	for path, end := range map[string]func(*harness.Server){
		"/kill": func(s *harness.Server) { s.Kill() },
		"/stop": func(s *harness.Server) { s.Stop(c.t) },
	} {
		handle(path, func(in map[string]any) (any, error) {
			i, err := node(in)
			if err != nil {
				return nil, err
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.proxy.set(i, "")
			end(c.nodes[i])
			return map[string]any{}, nil
		})
	}
	handle("/start", func(in map[string]any) (any, error) {
		i, err := node(in)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.nodes[i] = c.startNode(i)
		return map[string]any{"url": c.nodes[i].URL}, nil
	})
	handle("/emit", func(in map[string]any) (any, error) {
		room, _ := in["room"].(string)
		event, _ := in["event"].(string)
		if room == "" || event == "" {
			return nil, errors.New("room and event are required")
		}
		return map[string]any{}, c.emitter.Emit(context.Background(), room, event, in["payload"])
	})
	c.notifyRoutes(handle)
	return mux
}

// proxy is the sticky balancer in front of the nodes: each TCP connection goes to the preferred
// node when it is up (or, unless strict, to the next one that is up) and stays there, as a
// websocket behind a real balancer does.
type proxy struct {
	ln       net.Listener
	mu       sync.Mutex
	backends map[int]string
	preferI  int
	strict   bool
}

func newProxy(t *testing.T) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backends: map[int]string{}}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close() })
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) set(i int, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends[i] = addr
}

func (p *proxy) prefer(i int, strict bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.preferI, p.strict = i, strict
}

func (p *proxy) pick() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range 3 {
		if a := p.backends[(p.preferI+k)%3]; a != "" {
			return a
		}
		if p.strict {
			return ""
		}
	}
	return ""
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			addr := p.pick()
			if addr == "" {
				return
			}
			b, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return
			}
			defer b.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
			<-done
		}()
	}
}
