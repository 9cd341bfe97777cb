// Package clustertest starts a throwaway Redis Cluster (three primaries, three replicas) from the
// local redis-server for tests that need sharded pub/sub or a failover, and stops it when the test
// ends. scripts/redis-cluster.sh starts the same shape by hand.
package clustertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// NodeTimeout is the cluster-node-timeout of the test cluster: a primary that stops answering
// this long is failed over to its replica (a few seconds in all, elections included).
const NodeTimeout = 1000 * time.Millisecond

// Cluster is a running test cluster.
type Cluster struct {
	Addrs []string // every node, "127.0.0.1:port"; any of them seeds a ClusterClient

	mu    sync.Mutex
	procs map[string]*exec.Cmd // by address; a killed node is removed
}

// Start starts six redis-server processes in cluster mode on free ports in a temporary
// directory, joins them with redis-cli --cluster create (one replica per primary) and waits
// until every node reports cluster_state:ok. The processes are killed when t ends. The test is
// skipped when redis-server or redis-cli is not installed.
func Start(t testing.TB) *Cluster {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("clustertest: redis-server is not installed")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("clustertest: redis-cli is not installed")
	}
	dir := t.TempDir()
	// Twelve ports: each node's client port and its cluster bus port (set with cluster-port, as
	// port+10000 may be above 65535 for an ephemeral port).
	ports, err := freePorts(12)
	if err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	c := &Cluster{procs: map[string]*exec.Cmd{}}
	t.Cleanup(c.stop)
	for i := 0; i < 6; i++ {
		port, bus := ports[2*i], ports[2*i+1]
		nodeDir := filepath.Join(dir, strconv.Itoa(port))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			t.Fatalf("clustertest: %v", err)
		}
		conf := filepath.Join(nodeDir, "redis.conf")
		if err := os.WriteFile(conf, []byte(Config(port, bus, nodeDir)), 0o644); err != nil {
			t.Fatalf("clustertest: %v", err)
		}
		cmd := exec.Command(server, conf)
		cmd.Dir = nodeDir
		if err := cmd.Start(); err != nil {
			t.Fatalf("clustertest: starting redis-server: %v", err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		c.mu.Lock()
		c.procs[addr] = cmd
		c.mu.Unlock()
		c.Addrs = append(c.Addrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, addr := range c.Addrs {
		if err := waitPing(ctx, addr); err != nil {
			t.Fatalf("clustertest: %v", err)
		}
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("clustertest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	return c
}

// Config is the redis.conf of one test node: cluster mode, no persistence, a short node timeout
// and failover whatever the replica's lag (cluster-replica-validity-factor 0).
func Config(port, busPort int, dir string) string {
	return fmt.Sprintf(`bind 127.0.0.1
protected-mode no
port %d
cluster-port %d
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout %d
cluster-replica-validity-factor 0
appendonly no
save ""
dir %s
logfile redis.log
`, port, busPort, NodeTimeout.Milliseconds(), dir)
}

// Client returns a cluster client seeded with every node, closed when t ends.
func (c *Cluster) Client(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 c.Addrs,
		DialTimeout:           time.Second,
		ContextTimeoutEnabled: true,
		// As the hub's fan-out client (app): a process that only publishes learns of a failover
		// within a second.
		ClusterStateReloadInterval: time.Second,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// PrimaryOf returns the address of the primary that serves key's slot now.
func (c *Cluster) PrimaryOf(ctx context.Context, key string) (string, error) {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return "", err
	}
	slot := Slot(key)
	for _, n := range nodes {
		if n.primary && !n.failed && n.owns(slot) {
			return n.addr, nil
		}
	}
	return "", fmt.Errorf("no primary serves slot %d", slot)
}

// ReplicaOf returns the address of a running replica of the primary at addr.
func (c *Cluster) ReplicaOf(ctx context.Context, primary string) (string, error) {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return "", err
	}
	running := map[string]bool{}
	for _, a := range c.Alive() {
		running[a] = true
	}
	for _, p := range nodes {
		if p.addr != primary {
			continue
		}
		for _, r := range nodes {
			if !r.primary && r.primaryID == p.id && running[r.addr] && !r.failed {
				return r.addr, nil
			}
		}
	}
	return "", fmt.Errorf("no running replica of %s", primary)
}

// Do sends one command to the node at addr and returns its answer as text (CLUSTER FAILOVER to
// a replica, for a planned failover: the old primary becomes its replica).
func (c *Cluster) Do(ctx context.Context, addr string, args ...any) (string, error) {
	return c.query(ctx, addr, args...)
}

// Kill sends SIGKILL to the node at addr and reaps it: a crash, no goodbye to its peers or
// clients. Its replica takes over after NodeTimeout and an election.
func (c *Cluster) Kill(addr string) error {
	c.mu.Lock()
	cmd := c.procs[addr]
	delete(c.procs, addr)
	c.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("no running node at %s", addr)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s: %w", addr, err)
	}
	_ = cmd.Wait()
	return nil
}

// Alive returns the addresses of the nodes still running.
func (c *Cluster) Alive() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, a := range c.Addrs {
		if c.procs[a] != nil {
			out = append(out, a)
		}
	}
	return out
}

// WaitHealthy waits until every running node reports cluster_state:ok and every slot has a
// running primary: after Kill, until the dead primary's replica has taken its slots.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		if last = c.healthy(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w (%v)", last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context) error {
	alive := c.Alive()
	for _, addr := range alive {
		info, err := c.query(ctx, addr, "cluster", "info")
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster_state is not ok", addr)
		}
	}
	nodes, err := c.nodes(ctx)
	if err != nil {
		return err
	}
	running := map[string]bool{}
	for _, a := range alive {
		running[a] = true
	}
	covered := 0
	for _, n := range nodes {
		if n.primary && running[n.addr] && !n.failed {
			for _, r := range n.slots {
				covered += r[1] - r[0] + 1
			}
		}
	}
	if covered != 16384 {
		return fmt.Errorf("running primaries serve %d of 16384 slots", covered)
	}
	return nil
}

type node struct {
	id, primaryID string // primaryID: the primary a replica follows
	addr          string
	primary       bool
	failed        bool
	slots         [][2]int
}

func (n node) owns(slot int) bool {
	for _, r := range n.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// nodes reads CLUSTER NODES from the first running node that answers.
func (c *Cluster) nodes(ctx context.Context) ([]node, error) {
	var last error
	for _, addr := range c.Alive() {
		out, err := c.query(ctx, addr, "cluster", "nodes")
		if err != nil {
			last = err
			continue
		}
		var nodes []node
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 8 {
				continue
			}
			n := node{id: f[0], primaryID: f[3], addr: strings.SplitN(f[1], "@", 2)[0]}
			n.primary = strings.Contains(f[2], "master")
			n.failed = strings.Contains(f[2], "fail")
			for _, s := range f[8:] {
				if strings.HasPrefix(s, "[") {
					continue // a slot being migrated
				}
				lo, hi, _ := strings.Cut(s, "-")
				a, err1 := strconv.Atoi(lo)
				b := a
				var err2 error
				if hi != "" {
					b, err2 = strconv.Atoi(hi)
				}
				if err1 == nil && err2 == nil {
					n.slots = append(n.slots, [2]int{a, b})
				}
			}
			nodes = append(nodes, n)
		}
		return nodes, nil
	}
	if last == nil {
		last = fmt.Errorf("no node is running")
	}
	return nil, last
}

func (c *Cluster) query(ctx context.Context, addr string, args ...any) (string, error) {
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
	defer rdb.Close()
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	s, err := rdb.Do(qctx, args...).Text()
	if err != nil {
		return "", fmt.Errorf("%s: %v: %w", addr, args, err)
	}
	return s, nil
}

func (c *Cluster) stop() {
	c.mu.Lock()
	procs := c.procs
	c.procs = map[string]*exec.Cmd{}
	c.mu.Unlock()
	for _, cmd := range procs {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
}

// Slot is the cluster slot of key (CRC16 of its hash tag, or of the key without one, mod 16384).
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is CRC-16/XMODEM, the cluster's key hash (polynomial 0x1021, initial value 0).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func waitPing(ctx context.Context, addr string) error {
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
	defer rdb.Close()
	for {
		if err := rdb.Ping(ctx).Err(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis-server at %s does not answer: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freePorts asks the kernel for n distinct free TCP ports on the loopback interface.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
