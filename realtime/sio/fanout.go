package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
)

// fanout carries a broadcast to several rooms between nodes in one publish. The adapter cannot:
// v3.0.2 drops a broadcast to several rooms on the receiving nodes, so through it a message to a
// conversation costs one publish, one msgpack encoding and one JSON packet per participant. Here
// the payload is JSON-encoded once, published once, and each node skips its own publishes
// before decoding them.
//
// On a single Redis (or a primary with replicas behind Sentinel) the fan-out is one channel,
// PUBLISH and SUBSCRIBE. On a Redis Cluster (rdb is a *goredis.ClusterClient) it is sharded
// pub/sub: fanoutShards channels "<channel>{n}", whose hash tags put them in different slots and
// so on different shards; a broadcast goes by SPUBLISH to the channel of its least room (the
// lowest in byte order; shardOf), and every node SSUBSCRIBEs to all of them. Classic PUBLISH on a cluster is copied to
// every node of the cluster over the bus, so each shard would carry every broadcast; with
// SPUBLISH a shard carries only its rooms' share.
//
// Why the whole envelope goes to one channel rather than one part per shard of its rooms: a
// socket in rooms of two shards would get a split broadcast twice, and a receiving node cannot
// tell which part should serve it without knowing every part. One channel per broadcast keeps
// "once per socket" as it is on one Redis.
//
// Order: a node's publisher sends its broadcasts one batch after the other, in the order they
// were handed over, and Redis delivers one channel's messages to a subscriber in the order it
// received them; each subscription is read by one goroutine and deliveries are serialized. So
// broadcasts of one node that go to the same channel arrive in order on every node: all the
// broadcasts to one room (single-room broadcasts, which is what Broadcast and the hub's room
// events are) and all the broadcasts to the same set of rooms in any order (the events of a
// conversation to its participants' user rooms, whoever sent them: MessageSent names the sender
// first). That is why the key is the least room and not the first. Two broadcasts that share a
// room but whose least rooms differ may take two shards' connections and cross; a client that
// sees a gap in a conversation's seq catches up from the API.
type fanout struct {
	rdb     goredis.UniversalClient
	cluster *goredis.ClusterClient // nil on a single Redis
	channel string
	node    string
	self    string        // how this node's envelopes begin
	out     chan outgoing // encoded envelopes for the publisher, in order
	onErr   func(error)
	deliver func(envelope)
	mu      sync.Mutex   // serializes deliver across the shard subscriptions
	live    atomic.Int32 // subscriptions confirmed and not known broken
}

// outgoing is one encoded envelope and the channel it goes to.
type outgoing struct {
	channel string
	b       []byte
}

const (
	// fanoutQueue is how many publishes may wait for the publisher before senders wait too.
	fanoutQueue = 4096
	// fanoutPipeline is how many waiting publishes go to Redis in one round trip at most.
	fanoutPipeline = 128
	// fanoutShards is how many shard channels a cluster fan-out uses. More channels than shards
	// spread the rooms evenly whatever the number of shards (up to 16 primaries get one each);
	// each is one subscription connection per node.
	fanoutShards = 16
	// fanoutMaxBackoff bounds the pause between two attempts to subscribe again: after a
	// failover, broadcasts reach this node again at most this long after the replica took over.
	fanoutMaxBackoff = 500 * time.Millisecond
	// emitterNode is the node id of publishEnvelope's envelopes: not a UUID, so no node skips
	// them as its own.
	emitterNode = "emitter"
)

// envelope is a fan-out publish. Node comes first, so that the prefix test in receive works.
type envelope struct {
	Node   string          `json:"n"`
	Rooms  []string        `json:"r"`
	Except string          `json:"x,omitempty"`
	Event  string          `json:"e"`
	Data   json.RawMessage `json:"d,omitempty"`
	// Leave, when set, is not a broadcast: the sockets in Rooms leave the room Leave.
	Leave string `json:"l,omitempty"`
	// Bin are the attachments of Data's binary placeholders (base64 in the JSON).
	Bin [][]byte `json:"b,omitempty"`
}

// startFanout subscribes to channel (to its shard channels on a cluster) and delivers other
// nodes' broadcasts through deliver until ctx ends. It returns once every subscription is
// confirmed, so a broadcast made after New reaches this node. deliver is never called by two
// goroutines at once.
func startFanout(ctx context.Context, rdb goredis.UniversalClient, channel string,
	deliver func(envelope), onErr func(error)) (*fanout, error) {
	node := uuid.NewString()
	f := &fanout{rdb: rdb, channel: channel, node: node, self: `{"n":"` + node + `"`,
		out: make(chan outgoing, fanoutQueue), onErr: onErr, deliver: deliver}
	f.cluster, _ = rdb.(*goredis.ClusterClient)
	if f.cluster != nil && strings.ContainsAny(channel, "{}") {
		// The shard channels' hash tag must be the first braces of their names.
		return nil, fmt.Errorf("fan-out channel %q: braces are not allowed on a Redis Cluster", channel)
	}
	channels := fanoutChannels(channel, f.cluster != nil)
	subs := make([]*goredis.PubSub, len(channels))
	for i, ch := range channels {
		ps, err := f.subscribe(ctx, ch)
		if err != nil {
			for _, s := range subs[:i] {
				_ = s.Close()
			}
			return nil, err
		}
		subs[i] = ps
	}
	for i, ch := range channels {
		go f.receive(ctx, ch, subs[i])
	}
	go f.publisher(ctx)
	return f, nil
}

// fanoutChannels returns the channels every node subscribes to.
func fanoutChannels(channel string, cluster bool) []string {
	if !cluster {
		return []string{channel}
	}
	chs := make([]string, fanoutShards)
	for n := range chs {
		chs[n] = shardChannel(channel, n)
	}
	return chs
}

func shardChannel(channel string, n int) string {
	return channel + "{" + strconv.Itoa(n) + "}"
}

// channelFor returns the channel of a broadcast to rooms: on a cluster, the shard channel of its
// least room (see fanout for why one channel and why the least room).
func channelFor(channel string, cluster bool, rooms []string) string {
	if !cluster {
		return channel
	}
	least := ""
	for i, r := range rooms {
		if i == 0 || r < least {
			least = r
		}
	}
	return shardChannel(channel, shardOf(least))
}

// ClusterChannel is the shard channel that carries, on a Redis Cluster, the broadcasts whose
// least room is room (a single-room broadcast's room); channel is the fan-out's channel (Options.Channel + "-rooms#"). Tests use
// it to find, and fail over, the shard of a room (clustertest.Cluster.PrimaryOf).
func ClusterChannel(channel, room string) string {
	return shardChannel(channel, shardOf(room))
}

// shardOf maps a room to a shard channel: FNV-1a, stable across processes and versions (every
// publisher must pick the same channel for a room, whichever node or worker it runs on).
func shardOf(room string) int {
	h := uint32(2166136261)
	for i := 0; i < len(room); i++ {
		h ^= uint32(room[i])
		h *= 16777619
	}
	return int(h % fanoutShards)
}

// subscribe opens the subscription to ch and waits for Redis to confirm it.
func (f *fanout) subscribe(ctx context.Context, ch string) (*goredis.PubSub, error) {
	var ps *goredis.PubSub
	if f.cluster != nil {
		ps = f.cluster.SSubscribe(ctx, ch)
	} else {
		ps = f.rdb.Subscribe(ctx, ch)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := ps.Receive(sctx); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("subscribing to %s: %w", ch, err)
	}
	f.live.Add(1)
	return ps, nil
}

// receive reads the subscription ps to ch until ctx ends. When the subscription breaks (Redis
// restarted, a cluster primary died and its replica took over, the slot moved and Redis sent
// SUNSUBSCRIBE) it reports the error and subscribes again, asking a cluster client to read the
// slots' owners again first, so the new subscription goes to the shard's new primary.
// Broadcasts published in between are lost to this node: clients catch up through seq.
func (f *fanout) receive(ctx context.Context, ch string, ps *goredis.PubSub) {
	backoff := time.Duration(0)
	failures := 0 // attempts to subscribe again that failed since the subscription broke
	defer func() {
		if ps != nil {
			_ = ps.Close()
		}
	}()
	for {
		if ps == nil {
			// Wait before every new attempt but the first after a working subscription broke.
			if backoff > 0 {
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return
				}
			}
			backoff = min(max(2*backoff, 50*time.Millisecond), fanoutMaxBackoff)
			if f.cluster != nil {
				f.cluster.ReloadState(ctx)
			}
			var err error
			if ps, err = f.subscribe(ctx, ch); err != nil {
				if ctx.Err() != nil {
					return
				}
				// The first failure and then one in ten: an outage is reported every few
				// seconds per channel, not at every attempt.
				if failures++; failures%10 == 1 {
					f.onErr(fmt.Errorf("fan-out subscription (attempt %d): %w", failures, err))
				}
				continue
			}
			failures = 0
		}
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, goredis.ErrClosed) {
				return
			}
			f.broken(ch, ps, err)
			ps = nil
			continue
		}
		switch m := msg.(type) {
		case *goredis.Message:
			backoff = 0
			f.handle(m.Payload)
		case *goredis.Subscription:
			if m.Count == 0 && (m.Kind == "sunsubscribe" || m.Kind == "unsubscribe") {
				// Redis dropped the subscription itself: the slot moved to another shard.
				f.broken(ch, ps, errors.New("unsubscribed by the server"))
				ps = nil
			}
		}
	}
}

// broken closes a subscription that no longer delivers and reports why.
func (f *fanout) broken(ch string, ps *goredis.PubSub, err error) {
	f.live.Add(-1)
	_ = ps.Close()
	f.onErr(fmt.Errorf("fan-out subscription to %s: %w", ch, err))
}

// handle decodes another node's envelope and delivers it.
func (f *fanout) handle(payload string) {
	if strings.HasPrefix(payload, f.self) {
		return // delivered locally when it was sent
	}
	var e envelope
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		f.onErr(fmt.Errorf("fan-out message: %w", err))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliver(e)
}

// publish hands e to the publisher. Local sockets have it already; other nodes get it in the
// order it was handed over.
func (f *fanout) publish(ctx context.Context, e envelope) error {
	b, err := f.encode(e)
	if err != nil {
		return fmt.Errorf("encoding a fan-out message: %w", err)
	}
	select {
	case f.out <- outgoing{channel: channelFor(f.channel, f.cluster != nil, e.Rooms), b: b}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publishing a fan-out message: %w", ctx.Err())
	}
}

// publishEnvelope publishes e once from a process without a fan-out of its own (the workers'
// Emitter), to the channel the nodes' fan-out on channel reads for e's rooms. Every node
// delivers it: its node id is no node's.
func publishEnvelope(ctx context.Context, rdb goredis.UniversalClient, channel string, e envelope) error {
	b, err := encodeEnvelope(`{"n":"`+emitterNode+`"`, e)
	if err != nil {
		return fmt.Errorf("encoding a fan-out message: %w", err)
	}
	cluster, _ := rdb.(*goredis.ClusterClient)
	ch := channelFor(channel, cluster != nil, e.Rooms)
	if cluster != nil {
		err = cluster.SPublish(ctx, ch, b).Err()
	} else {
		err = rdb.Publish(ctx, ch, b).Err()
	}
	if err != nil {
		if cluster != nil {
			cluster.ReloadState(ctx) // see send
		}
		return fmt.Errorf("publishing a fan-out message to %s: %w", ch, err)
	}
	return nil
}

// encode writes e as JSON with this node's id first.
func (f *fanout) encode(e envelope) ([]byte, error) { return encodeEnvelope(f.self, e) }

// encodeEnvelope writes e as JSON after self, the opening of the object with the node id. Data
// is appended as it is: BroadcastRooms made it with json.Marshal, so it needs no second pass
// (json.Marshal would check and copy it).
func encodeEnvelope(self string, e envelope) ([]byte, error) {
	head, err := json.Marshal(struct {
		Rooms  []string `json:"r"`
		Except string   `json:"x,omitempty"`
		Event  string   `json:"e"`
		Leave  string   `json:"l,omitempty"`
		Bin    [][]byte `json:"b,omitempty"`
	}{e.Rooms, e.Except, e.Event, e.Leave, e.Bin})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(self)+len(head)+len(e.Data)+8)
	b = append(b, self...)
	b = append(b, ',')
	b = append(b, head[1:len(head)-1]...)
	if len(e.Data) > 0 {
		b = append(b, `,"d":`...)
		b = append(b, e.Data...)
	}
	return append(b, '}'), nil
}

// publisher sends what is waiting in one pipeline per round trip: under load, one write and one
// read for many broadcasts instead of one each. When ctx ends it sends what is left.
func (f *fanout) publisher(ctx context.Context) {
	batch := make([]outgoing, 0, fanoutPipeline)
	for {
		select {
		case o := <-f.out:
			batch = append(batch[:0], o)
		case <-ctx.Done():
			f.flushRest()
			return
		}
	more:
		for len(batch) < fanoutPipeline {
			select {
			case o := <-f.out:
				batch = append(batch, o)
			default:
				break more
			}
		}
		f.send(ctx, batch)
	}
}

// send publishes batch in order. On a cluster the client splits the pipeline by shard and keeps
// each shard's commands in order, which is all the order a channel needs. A failed publish is
// reported, not retried here (go-redis already retried it on redirections): the broadcast is
// lost to the other nodes, whose clients catch up through seq.
func (f *fanout) send(ctx context.Context, batch []outgoing) {
	var err error
	failed := len(batch)
	if len(batch) == 1 {
		if f.cluster != nil {
			err = f.cluster.SPublish(ctx, batch[0].channel, batch[0].b).Err()
		} else {
			err = f.rdb.Publish(ctx, batch[0].channel, batch[0].b).Err()
		}
	} else {
		var cmds []goredis.Cmder
		cmds, err = f.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, o := range batch {
				if f.cluster != nil {
					p.SPublish(ctx, o.channel, o.b)
				} else {
					p.Publish(ctx, o.channel, o.b)
				}
			}
			return nil
		})
		if err != nil && len(cmds) == len(batch) {
			failed = 0
			for _, c := range cmds {
				if c.Err() != nil {
					failed++
				}
			}
		}
	}
	if err != nil {
		if f.cluster != nil {
			// A shard's primary may have changed: the client learns it on a MOVED answer, not
			// when the old primary refuses connections.
			f.cluster.ReloadState(ctx)
		}
		f.onErr(fmt.Errorf("publishing %d of %d fan-out messages: %w", failed, len(batch), err))
	}
}

// flushRest publishes what was handed over before the server closed.
func (f *fanout) flushRest() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var rest []outgoing
	for {
		select {
		case o := <-f.out:
			rest = append(rest, o)
		default:
			if len(rest) > 0 {
				f.send(ctx, rest)
			}
			return
		}
	}
}
