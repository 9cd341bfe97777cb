package sio

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/clustertest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

func TestFanoutChannels(t *testing.T) {
	tests := []struct {
		name    string
		cluster bool
		rooms   []string
		want    string
	}{
		{"plain: one channel whatever the rooms", false, []string{"user:a", "user:b"}, "p:rooms#"},
		{"plain: no room", false, nil, "p:rooms#"},
		{"cluster: the least room's shard", true, []string{"user:a", "user:b"}, shardChannel("p:rooms#", shardOf("user:a"))},
		{"cluster: the same rooms in another order, the same channel", true, []string{"user:c", "user:b", "user:a"}, shardChannel("p:rooms#", shardOf("user:a"))},
		{"cluster: one room", true, []string{"user:b"}, shardChannel("p:rooms#", shardOf("user:b"))},
		{"cluster: no room", true, nil, shardChannel("p:rooms#", shardOf(""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, channelFor("p:rooms#", tt.cluster, tt.rooms))
			assert.Contains(t, fanoutChannels("p:rooms#", tt.cluster), tt.want, "a node subscribes to every channel a publish can take")
		})
	}
	assert.Equal(t, []string{"p:rooms#"}, fanoutChannels("p:rooms#", false))
	assert.Equal(t, "p:rooms#{7}", shardChannel("p:rooms#", 7))
	assert.Equal(t, channelFor("p:rooms#", true, []string{"user:a", "user:b"}), ClusterChannel("p:rooms#", "user:a"))
}

// The shard channels must land on every shard of a cluster, and rooms on every channel:
// otherwise sharding would concentrate the publishes on fewer shards.
func TestFanoutShardChannelsSpreadOverSlots(t *testing.T) {
	chs := fanoutChannels("p2p:socket.io-rooms#", true)
	require.Len(t, chs, fanoutShards)
	slots := map[int]bool{}
	// redis-cli --cluster create splits the slots in equal ranges; count the channels per range
	// for three and for four primaries.
	for _, primaries := range []int{3, 4} {
		per := make([]int, primaries)
		for _, ch := range chs {
			s := clustertest.Slot(ch)
			slots[s] = true
			per[s*primaries/16384]++
		}
		for i, n := range per {
			assert.Positive(t, n, "no shard channel on primary %d of %d", i, primaries)
		}
	}
	assert.Len(t, slots, fanoutShards, "two shard channels share a slot")

	perShard := make([]int, fanoutShards)
	for i := 0; i < 1600; i++ {
		perShard[shardOf("user:"+string(rune('a'+i%26))+strings.Repeat("x", i/26))]++
	}
	for n, c := range perShard {
		assert.Greater(t, c, 40, "shard channel %d gets %d of 1600 rooms", n, c)
	}
}

func TestFanoutEncoding(t *testing.T) {
	f := &fanout{node: "n1", self: `{"n":"n1"`}
	e := envelope{Rooms: []string{"user:a", "user:b"}, Except: "s1", Event: "message.new", Data: json.RawMessage(`{"seq":3}`)}
	b, err := f.encode(e)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), f.self), "the node id comes first: %s", b)
	var got envelope
	require.NoError(t, json.Unmarshal(b, &got))
	want := e
	want.Node = "n1"
	assert.Equal(t, want, got)

	// Binary attachments travel base64-encoded in the JSON and come back as bytes.
	bin := envelope{Rooms: []string{"user:a"}, Event: "file", Data: json.RawMessage(`[{"_placeholder":true,"num":0}]`),
		Bin: [][]byte{{0, 1, 2, 255}}}
	b, err = f.encode(bin)
	require.NoError(t, err)
	got = envelope{}
	require.NoError(t, json.Unmarshal(b, &got))
	bin.Node = "n1"
	assert.Equal(t, bin, got)

	leave := envelope{Rooms: []string{"user:a"}, Leave: "conversation:c"}
	b, err = encodeEnvelope(`{"n":"`+emitterNode+`"`, leave)
	require.NoError(t, err)
	got = envelope{}
	require.NoError(t, json.Unmarshal(b, &got))
	leave.Node = emitterNode
	assert.Equal(t, leave, got)
}

// On one Redis, a node gets the broadcasts of other nodes and of publishEnvelope (the workers'
// emitter) on the one channel, and skips its own.
func TestFanoutPlainRedis(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	channel := prefix + "rooms#"
	var mu sync.Mutex
	var got []envelope
	deliver := func(e envelope) { mu.Lock(); got = append(got, e); mu.Unlock() }
	fail := func(err error) { t.Errorf("onErr: %v", err) }
	a, err := startFanout(ctx, rdb, channel, deliver, fail)
	require.NoError(t, err)
	b, err := startFanout(ctx, rdb, channel, func(envelope) {}, fail)
	require.NoError(t, err)
	assert.Nil(t, a.cluster)

	require.NoError(t, a.publish(ctx, envelope{Rooms: []string{"r"}, Event: "own"}))
	require.NoError(t, b.publish(ctx, envelope{Rooms: []string{"r"}, Event: "other", Data: json.RawMessage(`1`)}))
	// b's publisher and publishEnvelope use different connections: no order between them.
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, publishEnvelope(ctx, rdb, channel, envelope{Rooms: []string{"r"}, Event: "emitted"}))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // an own broadcast would come in by now
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.Equal(t, "other", got[0].Event)
	assert.Equal(t, b.node, got[0].Node)
	assert.Equal(t, "emitted", got[1].Event)
	assert.Equal(t, emitterNode, got[1].Node)
}
