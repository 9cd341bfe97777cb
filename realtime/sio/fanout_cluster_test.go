package sio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/clustertest"
)

// clusterNode is one "hub node" of the cluster test: a fan-out and what it received.
type clusterNode struct {
	f *fanout

	mu     sync.Mutex
	byRoom map[[2]string][]int // (publisher, room) -> seqs in arrival order
	seen   map[int]map[int]bool
	errs   []string
}

type numbered struct {
	P int `json:"p"` // publisher: 0-2 the nodes, 3 the emitter
	S int `json:"s"` // the publisher's sequence number
}

func (n *clusterNode) deliver(e envelope) {
	var m numbered
	if err := json.Unmarshal(e.Data, &m); err != nil {
		panic(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	k := [2]string{fmt.Sprint(m.P), e.Rooms[0]}
	n.byRoom[k] = append(n.byRoom[k], m.S)
	if n.seen[m.P] == nil {
		n.seen[m.P] = map[int]bool{}
	}
	n.seen[m.P][m.S] = true
}

func (n *clusterNode) onErr(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.errs = append(n.errs, err.Error())
}

// missing counts the seqs in [from, to) of publisher p that n has not received.
func (n *clusterNode) missing(p, from, to int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for s := from; s < to; s++ {
		if !n.seen[p][s] {
			c++
		}
	}
	return c
}

// startCluster starts a three-shard cluster for a test (skipped with -short) and returns it, a
// context that ends with the test, and a fan-out channel of its own.
func startCluster(t *testing.T) (*clustertest.Cluster, context.Context, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	c := clustertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return c, ctx, "t:" + uuid.NewString()[:8] + ":rooms#"
}

// Three nodes on a three-shard cluster; one shard's primary is killed. Broadcasts published
// while its replica takes over may be lost (the catch-up path recovers them); once the replica
// serves the slots and the nodes have subscribed again, every node gets every broadcast, and
// the broadcasts of one publisher to one room arrive in order throughout.
func TestFanoutClusterFailover(t *testing.T) {
	c, ctx, channel := startCluster(t)

	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		n := &clusterNode{byRoom: map[[2]string][]int{}, seen: map[int]map[int]bool{}}
		f, err := startFanout(ctx, c.Client(t), channel, n.deliver, n.onErr)
		require.NoError(t, err)
		require.NotNil(t, f.cluster)
		n.f = f
		nodes[i] = n
	}

	// Rooms until every primary serves three of them; the victim is the primary of rooms[0].
	var rooms []string
	perPrimary := map[string]int{}
	for i := 0; len(perPrimary) < 3 || minCount(perPrimary) < 3; i++ {
		require.Less(t, i, 1000, "rooms do not spread over the shards")
		room := fmt.Sprintf("room:%d", i)
		primary, err := c.PrimaryOf(ctx, channelFor(channel, true, []string{room}))
		require.NoError(t, err)
		if perPrimary[primary] < 3 {
			perPrimary[primary]++
			rooms = append(rooms, room)
		}
	}
	victim, err := c.PrimaryOf(ctx, channelFor(channel, true, rooms[:1]))
	require.NoError(t, err)

	// Four publishers: the three nodes, through their publisher goroutine, and an emitter
	// (publishEnvelope) on a client of its own. Each numbers its broadcasts and goes round the
	// rooms, so each (publisher, room) sees increasing numbers.
	var seqs [4]atomic.Int64
	var emitErrs atomic.Int64
	env := func(p, s int) envelope {
		return envelope{Rooms: []string{rooms[s%len(rooms)]}, Event: "n",
			Data: json.RawMessage(fmt.Sprintf(`{"p":%d,"s":%d}`, p, s))}
	}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for sctx.Err() == nil {
			for p, n := range nodes {
				s := int(seqs[p].Load())
				if err := n.f.publish(sctx, env(p, s)); err != nil {
					return
				}
				seqs[p].Add(1)
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	emitter := c.Client(t)
	go func() {
		defer wg.Done()
		for sctx.Err() == nil {
			// Numbered when it starts: a publish that began in the window belongs to it.
			s := int(seqs[3].Add(1) - 1)
			if err := publishEnvelope(sctx, emitter, channel, env(3, s)); err != nil && sctx.Err() == nil {
				emitErrs.Add(1)
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	mark := func() (m [4]int) {
		for p := range m {
			m[p] = int(seqs[p].Load())
		}
		return m
	}
	// received waits until every node has every broadcast of the others in [from, to).
	received := func(from, to [4]int, within time.Duration) (lost int) {
		deadline := time.Now().Add(within)
		for {
			lost = 0
			for i, n := range nodes {
				for p := 0; p < 4; p++ {
					if p != i {
						lost += n.missing(p, from[p], to[p])
					}
				}
			}
			if lost == 0 || time.Now().After(deadline) {
				return lost
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Steady state: nothing is lost.
	start := mark()
	time.Sleep(300 * time.Millisecond)
	beforeKill := mark()
	require.Zero(t, received(start, beforeKill, 5*time.Second), "lost before the failover")

	require.NoError(t, c.Kill(victim))
	killed := time.Now()
	atKill := mark()
	hctx, hcancel := context.WithTimeout(ctx, 20*time.Second)
	defer hcancel()
	require.NoError(t, c.WaitHealthy(hctx))
	promoted := time.Since(killed)
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if n.f.live.Load() != fanoutShards {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "the nodes do not subscribe again")
	resubscribed := time.Since(killed)
	// The emitter's client subscribes to nothing: it learns the new primary when its slot map is
	// reloaded (every ClusterStateReloadInterval, or after a failed publish). Until then its
	// publishes to the failed shard fail like those in the window.
	probe := channelFor(channel, true, rooms[:1]) + ":probe"
	require.Eventually(t, func() bool { return emitter.SPublish(ctx, probe, "x").Err() == nil },
		10*time.Second, 20*time.Millisecond, "the emitter's client does not find the new primary")
	emitterBack := time.Since(killed)
	healthy := mark()

	time.Sleep(500 * time.Millisecond)
	stop()
	wg.Wait()
	end := mark()
	if !assert.Zero(t, received(healthy, end, 10*time.Second), "lost after the cluster was healthy again") {
		for i, n := range nodes {
			for p := 0; p < 4; p++ {
				for s := healthy[p]; s < end[p] && p != i; s++ {
					if n.missing(p, s, s+1) > 0 {
						t.Logf("node %d lacks publisher %d's %d (%s); healthy at %d, end %d", i, p, s, env(p, s).Rooms[0], healthy[p], end[p])
					}
				}
			}
		}
		for i, n := range nodes {
			t.Logf("node %d errors: %v", i, n.errs)
		}
	}
	lostInWindow := received(atKill, healthy, 0)
	published := 0
	for p := range end {
		published += end[p] - atKill[p]
	}
	t.Logf("emitter's client publishes to the new primary after %v", emitterBack.Round(time.Millisecond))
	t.Logf("primary %s killed: replica serving after %v, all nodes subscribed again after %v; "+
		"%d of %d deliveries (3 receivers x broadcasts, own skipped) lost in the window; %d emitter publish errors",
		victim, promoted.Round(time.Millisecond), resubscribed.Round(time.Millisecond),
		lostInWindow, 3*published-(published-(end[3]-atKill[3])), emitErrs.Load())

	// Order: each (publisher, room) arrives in increasing numbers on every node, the window
	// included (a duplicate from a retried publish would show as a repeat).
	for i, n := range nodes {
		n.mu.Lock()
		for k, got := range n.byRoom {
			for j := 1; j < len(got); j++ {
				if got[j] <= got[j-1] {
					t.Errorf("node %d, publisher %s, %s: %d after %d", i, k[0], k[1], got[j], got[j-1])
					break
				}
			}
		}
		n.mu.Unlock()
	}

	// Failures are reported, not swallowed: every node subscribes to the victim's channels, and
	// the nodes' publishes to its rooms failed until the replica took over.
	publishErrs := 0
	for i, n := range nodes {
		n.mu.Lock()
		subErrs := 0
		for _, e := range n.errs {
			switch {
			case strings.HasPrefix(e, "fan-out subscription"):
				subErrs++
			case strings.HasPrefix(e, "publishing"):
				publishErrs++
			}
		}
		n.mu.Unlock()
		assert.Positive(t, subErrs, "node %d reported no broken subscription", i)
	}
	assert.Positive(t, publishErrs+int(emitErrs.Load()), "no failed publish was reported")
	t.Logf("%d publish errors reported through onErr", publishErrs)
}

func minCount(m map[string]int) int {
	least := -1
	for _, n := range m {
		if least < 0 || n < least {
			least = n
		}
	}
	return least
}

// A planned failover (CLUSTER FAILOVER on the replica): the old primary stays up as a replica
// and drops its shard channels' subscribers with SUNSUBSCRIBE. The nodes must notice and
// subscribe at the new primary, or the shard's rooms would go silent with no error at all.
func TestFanoutClusterPlannedFailover(t *testing.T) {
	c, ctx, channel := startCluster(t)
	var mu sync.Mutex
	var got []string
	var errs []string
	sender, err := startFanout(ctx, c.Client(t), channel, func(envelope) {}, func(error) {})
	require.NoError(t, err)
	_, err = startFanout(ctx, c.Client(t), channel,
		func(e envelope) { mu.Lock(); got = append(got, e.Event); mu.Unlock() },
		func(err error) { mu.Lock(); errs = append(errs, err.Error()); mu.Unlock() })
	require.NoError(t, err)
	arrived := func(event string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range got {
			if e == event {
				return true
			}
		}
		return false
	}
	room := []string{"room:planned"}
	require.NoError(t, sender.publish(ctx, envelope{Rooms: room, Event: "before"}))
	require.Eventually(t, func() bool { return arrived("before") }, 5*time.Second, 10*time.Millisecond)

	primary, err := c.PrimaryOf(ctx, channelFor(channel, true, room))
	require.NoError(t, err)
	replica, err := c.ReplicaOf(ctx, primary)
	require.NoError(t, err)
	started := time.Now()
	// A replica refuses a failover until it has synced with its primary (on a busy machine, a
	// while after the cluster reported healthy): ask until it agrees.
	require.Eventually(t, func() bool {
		_, err := c.Do(ctx, replica, "cluster", "failover")
		return err == nil
	}, 15*time.Second, 100*time.Millisecond, "CLUSTER FAILOVER refused")
	require.Eventually(t, func() bool {
		p, err := c.PrimaryOf(ctx, channelFor(channel, true, room))
		return err == nil && p == replica
	}, 10*time.Second, 20*time.Millisecond, "the replica does not take over")
	promoted := time.Since(started)

	// Publish until one arrives: the ones before the node subscribed again are lost.
	var flowing time.Duration
	require.Eventually(t, func() bool {
		event := fmt.Sprintf("after-%d", time.Now().UnixNano())
		_ = sender.publish(ctx, envelope{Rooms: room, Event: event})
		time.Sleep(20 * time.Millisecond)
		if arrived(event) {
			flowing = time.Since(started)
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "broadcasts to the shard's rooms do not arrive after a planned failover")
	mu.Lock()
	defer mu.Unlock()
	assert.NotEmpty(t, errs, "the dropped subscription was not reported")
	t.Logf("planned failover: replica primary after %v, broadcasts arrive again after %v; reported: %v",
		promoted.Round(time.Millisecond), flowing.Round(time.Millisecond), errs)
}
