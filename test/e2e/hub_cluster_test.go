package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/clustertest"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/realtime/sio"
	"github.com/p2psandbox/hub/realtime/sioclient"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestHubClusterFailover: three nodes whose fan-out runs on a three-shard Redis Cluster lose the
// primary of the shard that carries a conversation's broadcasts while its sender keeps writing.
// Live pushes of the failover may be lost (a publish that fails is not retried; a node whose
// subscription is not back yet misses what is published meanwhile) or late (the sending node's
// publisher waits on the dead shard with the pushes queued behind it), but nothing durable is:
// every send succeeds, every message is stored, and the recipient's devices,
// catching up as docs/realtime.md says (?after=<last seq> on a gap and at the end), end with every
// seq exactly once. Once the replica serves the shard and the nodes have subscribed again, every
// push arrives live, in seq order, on every device.
func TestHubClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster and three nodes")
	}
	cluster := clustertest.Start(t)
	env := harness.NewEnv(t)
	seeds := "P2P_HUB_FANOUT_REDIS_CLUSTER=" + strings.Join(cluster.Addrs, ",")
	nodes := []*harness.Server{env.Start(t, seeds), env.Start(t, seeds), env.Start(t, seeds)}

	alice := seed.Verified(t, env, nodes[0], "alice")
	bob := seed.Verified(t, env, nodes[0], "bob")
	res := alice.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{bob.ID}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	conv := res.JSON()["id"].(string)
	path := "/api/v1/conversations/" + conv + "/messages"

	// Bob's devices are on the nodes alice does not write to: every push reaches them through
	// the cluster.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	devices := []*device{
		connectDevice(t, ctx, nodes[2], bob.AccessToken, conv, "bob@node3"),
		connectDevice(t, ctx, nodes[1], bob.AccessToken, conv, "bob@node2"),
	}

	// Alice sends from node 1 over REST. Sends must never fail: the message is stored in
	// PostgreSQL before its push is handed to the fan-out.
	var contents []string  // by seq-1
	var sentAt []time.Time // by seq-1: when its send returned
	var slowest time.Duration
	send := func() int64 {
		t.Helper()
		content := fmt.Sprintf("reading %d", len(contents)+1)
		start := time.Now()
		res := alice.Do(http.MethodPost, path, map[string]any{"content": content})
		slowest = max(slowest, time.Since(start))
		require.Equal(t, http.StatusCreated, res.Status, "send %d during the failover: %s", len(contents)+1, res)
		seq := int64(res.JSON()["seq"].(float64))
		contents = append(contents, content)
		sentAt = append(sentAt, time.Now())
		require.EqualValues(t, len(contents), seq, "alice is the only sender")
		return seq
	}

	// Delivery across nodes works before anything breaks.
	first := send()
	for _, d := range devices {
		require.True(t, d.waitLive(first, 10*time.Second), "%s: no message:new from node 1 through the cluster", d.name)
	}

	// The shard of the conversation's pushes: message:new goes to both participants' user rooms
	// in one broadcast, which travels on the shard channel of the least of them.
	least := min(realtime.UserRoom(alice.ID), realtime.UserRoom(bob.ID))
	channel := sio.ClusterChannel(realtime.AdapterChannel(env.RedisPrefix)+"-rooms#", least)
	primary, err := cluster.PrimaryOf(ctx, channel)
	require.NoError(t, err)
	replica, err := cluster.ReplicaOf(ctx, primary)
	require.NoError(t, err)

	health := watchHealth(ctx, nodes)

	const (
		before = 25 // sends before the kill
		after  = 25 // sends once live delivery is back
	)
	type healthyAt struct {
		at  time.Time
		err error
	}
	healthy := make(chan healthyAt, 1)
	var killedAt, healedAt, resumedAt time.Time
	var firstAfterHeal, resumed, last int64
	deadline := time.Now().Add(45 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		<-tick.C
		require.True(t, time.Now().Before(deadline), "live delivery did not come back within 45 s of the first send")
		seq := send()
		switch {
		case killedAt.IsZero():
			if seq > before {
				require.NoError(t, cluster.Kill(primary))
				killedAt = time.Now()
				t.Logf("killed %s, the primary of %s (slot %d); its replica is %s", primary, channel, clustertest.Slot(channel), replica)
				go func() {
					wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
					defer wcancel()
					err := cluster.WaitHealthy(wctx)
					healthy <- healthyAt{time.Now(), err}
				}()
			}
		case healedAt.IsZero():
			select {
			case h := <-healthy:
				require.NoError(t, h.err)
				healedAt, firstAfterHeal = h.at, seq+1
			default:
			}
		case resumed == 0:
			// The probe: the first message sent after the cluster healed that reached every
			// device live.
			for s := firstAfterHeal; s <= seq && resumed == 0; s++ {
				if allLive(devices, s) {
					resumed, resumedAt = s, time.Now()
					last = seq + after
				}
			}
		}
		if last != 0 && seq >= last {
			break
		}
	}
	n := int64(len(contents))
	for _, d := range devices {
		assert.True(t, d.waitLive(n, 10*time.Second), "%s: the last message never arrived live", d.name)
	}
	t.Logf("%d messages sent (slowest send %s); cluster healthy %s after the kill, live delivery back (seq %d) %s after that",
		n, slowest.Round(time.Millisecond), healedAt.Sub(killedAt).Round(time.Millisecond), resumed,
		resumedAt.Sub(healedAt).Round(time.Millisecond))

	for _, d := range devices {
		d.stop()
		live := d.liveSeqs()

		// (1) Every push after live delivery resumed arrived, in seq order; no push ever came
		// out of order or twice.
		var tail []int64
		for i, s := range live {
			if s >= resumed {
				tail = live[i:]
				break
			}
		}
		assert.Equal(t, seqRange(resumed, n), tail, "%s: the pushes after live delivery resumed", d.name)
		for i := 1; i < len(live); i++ {
			assert.Less(t, live[i-1], live[i], "%s: push %d came after %d", d.name, live[i], live[i-1])
		}

		// (2) The client caught up on the gap it saw and once more at the end, and now holds
		// every message once, with its content.
		d.finalCatchUp(ctx)
		d.mu.Lock()
		assert.Empty(t, d.errs, "%s: the client's catch-up", d.name)
		assert.Zero(t, d.overflow, "%s: events dropped by the test's queue", d.name)
		assert.Equal(t, seqRange(1, n), d.heldSeqs(), "%s: the conversation as the client holds it", d.name)
		for _, m := range d.held {
			if m.seq >= 1 && m.seq <= n {
				assert.Equal(t, contents[m.seq-1], m.content, "%s: seq %d (%s)", d.name, m.seq, m.how)
			}
		}
		gap, from, to := d.longestGap(killedAt)
		// A push is late rather than missed when the sending node's publisher held it while
		// the shard had no primary and published it after a subscriber was back.
		late, worst := 0, time.Duration(0)
		for _, a := range d.live {
			if a.seq < 1 || a.seq > n {
				continue
			}
			if lag := a.at.Sub(sentAt[a.seq-1]); lag > time.Second {
				late, worst = late+1, max(worst, lag)
			}
		}
		t.Logf("%s: %d of %d pushes missed, %d late (>1 s after the send, worst %s); live delivery interrupted %s (seq %d → %d, %s after the kill); %d catch-up(s) during the run fetched %d message(s), the final one %d",
			d.name, int(n)-len(live), n, late, worst.Round(time.Millisecond), gap.Round(time.Millisecond), from.seq, to.seq,
			to.at.Sub(killedAt).Round(time.Millisecond), d.catchUps, d.caughtUp, d.finalFetched)
		d.mu.Unlock()
	}

	// (3) The nodes stayed up: the liveness check never failed, readiness failed only on the
	// fan-out's own check while its shard had no primary, and every node is ready again.
	health.stop()
	for i, nd := range nodes {
		require.Eventually(t, func() bool { return ready(nd) }, 10*time.Second, 100*time.Millisecond, "node %d is not ready again", i+1)
		assert.NotContains(t, nd.Logs(), "panic", "node %d", i+1)
	}
	health.mu.Lock()
	defer health.mu.Unlock()
	assert.Empty(t, health.failures, "health answers other than the fan-out's check being down")
	t.Logf("health: %d polls, %d readiness answers with only redis-fanout down", health.polls, health.fanoutDown)
}

// device is one of bob's sockets with a client that behaves as docs/realtime.md asks: it keeps
// the messages of the conversation by seq and, when a push skips seqs, asks the API for what
// came after the last one it holds.
type device struct {
	name  string
	base  string
	token string
	conv  string
	sock  *sioclient.Client

	events chan int64 // the live seqs, for the client loop
	done   chan struct{}
	quit   chan struct{}

	mu           sync.Mutex
	live         []arrival // every message:new of the conversation in arrival order
	liveContent  map[int64]string
	held         []heldMessage // what the client stored, in order
	last         int64         // the highest seq it holds
	catchUps     int
	caughtUp     int
	finalFetched int
	overflow     int
	errs         []string
}

type arrival struct {
	seq int64
	at  time.Time
}

type heldMessage struct {
	seq     int64
	content string
	how     string // live, catch-up
}

func connectDevice(t *testing.T, ctx context.Context, srv *harness.Server, token, conv, name string) *device {
	t.Helper()
	d := &device{name: name, base: srv.URL, token: token, conv: conv, events: make(chan int64, 8192),
		done: make(chan struct{}), quit: make(chan struct{}), liveContent: map[int64]string{}}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sock, err := sioclient.Dial(dctx, srv.URL, sioclient.Options{Auth: map[string]any{"token": token}, OnEvent: d.onEvent})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sock.Abort() })
	d.sock = sock
	go d.client(ctx)
	t.Cleanup(d.stop)
	return d
}

// onEvent runs on the socket's reading goroutine: it records and hands over, never blocks.
func (d *device) onEvent(name string, args []any) {
	if name != "message:new" || len(args) == 0 {
		return
	}
	p, _ := args[0].(map[string]any)
	m, _ := p["message"].(map[string]any)
	if m["conversationId"] != d.conv {
		return
	}
	seqf, _ := m["seq"].(float64)
	seq := int64(seqf)
	content, _ := m["content"].(string)
	d.mu.Lock()
	d.live = append(d.live, arrival{seq, time.Now()})
	d.liveContent[seq] = content
	d.mu.Unlock()
	select {
	case d.events <- seq:
	default:
		d.mu.Lock()
		d.overflow++
		d.mu.Unlock()
	}
}

// client is the device's message store: a push that follows the last seq is kept; one that
// skips seqs first fetches the gap; one it holds already (fetched by a catch-up) is dropped.
func (d *device) client(ctx context.Context) {
	defer close(d.done)
	for {
		var seq int64
		select {
		case seq = <-d.events:
		case <-d.quit:
			// Drain what arrived before the stop, then end.
			select {
			case seq = <-d.events:
			default:
				return
			}
		case <-ctx.Done():
			return
		}
		d.mu.Lock()
		last := d.last
		d.mu.Unlock()
		if seq > last+1 {
			got, err := catchUp(ctx, d.base, d.token, d.conv, last)
			d.mu.Lock()
			if err != nil {
				d.errs = append(d.errs, err.Error())
			}
			d.catchUps++
			d.caughtUp += len(got)
			d.keep(got, "catch-up")
			d.mu.Unlock()
		}
		d.mu.Lock()
		if seq == d.last+1 {
			d.keep([]heldMessage{{seq, d.liveContent[seq], "live"}}, "live")
		}
		d.mu.Unlock()
	}
}

// keep stores messages after the last one held. Called with d.mu held.
func (d *device) keep(ms []heldMessage, how string) {
	for _, m := range ms {
		if m.seq <= d.last {
			continue // a client keys its messages by seq
		}
		m.how = how
		d.held = append(d.held, m)
		d.last = m.seq
	}
}

// stop ends the client loop once it has handled every push received so far.
func (d *device) stop() {
	select {
	case <-d.quit:
	default:
		close(d.quit)
	}
	<-d.done
}

// finalCatchUp is the client's catch-up at the end (a reconnect, or the conversation's lastSeq
// being ahead): everything after the last seq it holds. Call it after stop.
func (d *device) finalCatchUp(ctx context.Context) {
	d.mu.Lock()
	last := d.last
	d.mu.Unlock()
	got, err := catchUp(ctx, d.base, d.token, d.conv, last)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.errs = append(d.errs, err.Error())
	}
	d.finalFetched = len(got)
	d.keep(got, "final catch-up")
}

func (d *device) waitLive(seq int64, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if d.hasLive(seq) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func (d *device) hasLive(seq int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.liveContent[seq]
	return ok
}

func allLive(ds []*device, seq int64) bool {
	for _, d := range ds {
		if !d.hasLive(seq) {
			return false
		}
	}
	return true
}

func (d *device) liveSeqs() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]int64, len(d.live))
	for i, a := range d.live {
		out[i] = a.seq
	}
	return out
}

// heldSeqs is what the client holds. Called with d.mu held.
func (d *device) heldSeqs() []int64 {
	out := make([]int64, len(d.held))
	for i, m := range d.held {
		out[i] = m.seq
	}
	return out
}

// longestGap is the longest time between two consecutive live pushes after since's last push
// before it: how long live delivery was interrupted. Called with d.mu held.
func (d *device) longestGap(since time.Time) (time.Duration, arrival, arrival) {
	var gap time.Duration
	var from, to arrival
	for i := 1; i < len(d.live); i++ {
		if d.live[i].at.Before(since) {
			continue
		}
		if g := d.live[i].at.Sub(d.live[i-1].at); g > gap {
			gap, from, to = g, d.live[i-1], d.live[i]
		}
	}
	return gap, from, to
}

// catchUp reads the conversation after seq after, page by page, as a client does after a gap or
// a reconnect. It uses plain HTTP (the harness client fails the test, which only the test's
// goroutine may do).
func catchUp(ctx context.Context, base, token, conv string, after int64) ([]heldMessage, error) {
	var out []heldMessage
	for {
		url := fmt.Sprintf("%s/api/v1/conversations/%s/messages?after=%d&limit=100", base, conv, after)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return out, err
		}
		req.Header.Set("st-auth-mode", "header")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return out, fmt.Errorf("catching up after %d: %w", after, err)
		}
		var page struct {
			Items []struct {
				Seq     int64  `json:"seq"`
				Content string `json:"content"`
			} `json:"items"`
			NextAfter *int64 `json:"nextAfter"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err != nil {
			return out, fmt.Errorf("catching up after %d: status %d, %v", after, res.StatusCode, err)
		}
		for _, it := range page.Items {
			out = append(out, heldMessage{seq: it.Seq, content: it.Content})
		}
		if page.NextAfter == nil {
			return out, nil
		}
		after = *page.NextAfter
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// healthWatch polls every node's liveness and readiness while the shard fails over.
type healthWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	polls      int
	fanoutDown int      // readiness answers whose only failed check is the fan-out's cluster
	failures   []string // anything else that was not 200
}

func watchHealth(ctx context.Context, nodes []*harness.Server) *healthWatch {
	ctx, cancel := context.WithCancel(ctx)
	h := &healthWatch{cancel: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(url string) (int, map[string]any, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body, nil
	}
	go func() {
		defer close(h.done)
		for ctx.Err() == nil {
			for i, nd := range nodes {
				status, _, err := get(nd.URL + "/health")
				if ctx.Err() != nil {
					return
				}
				h.mu.Lock()
				h.polls++
				if err != nil || status != http.StatusOK {
					h.failures = append(h.failures, fmt.Sprintf("node %d /health: %d %v", i+1, status, err))
				}
				h.mu.Unlock()
				status, body, err := get(nd.URL + "/health/ready")
				if ctx.Err() != nil {
					return
				}
				h.mu.Lock()
				switch {
				case err != nil:
					h.failures = append(h.failures, fmt.Sprintf("node %d /health/ready: %v", i+1, err))
				case status == http.StatusOK:
				case onlyFanoutDown(body):
					h.fanoutDown++
				default:
					h.failures = append(h.failures, fmt.Sprintf("node %d /health/ready: %d %v", i+1, status, body))
				}
				h.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return h
}

// onlyFanoutDown tells whether a readiness answer failed on the fan-out's cluster check alone.
func onlyFanoutDown(body map[string]any) bool {
	checks, _ := body["checks"].(map[string]any)
	down := 0
	for name, c := range checks {
		if st, _ := c.(map[string]any)["status"].(string); st != "up" {
			if name != "redis-fanout" {
				return false
			}
			down++
		}
	}
	return down == 1
}

func (h *healthWatch) stop() {
	h.cancel()
	<-h.done
}

func ready(srv *harness.Server) bool {
	res, err := (&http.Client{Timeout: 2 * time.Second}).Get(srv.URL + "/health/ready")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}
