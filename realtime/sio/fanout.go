package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
)

// fanout carries a broadcast to several rooms between nodes in one publish. The adapter cannot:
// v3.0.2 drops a broadcast to several rooms on the receiving nodes, so through it a message to a
// conversation costs one publish, one msgpack encoding and one JSON packet per participant. Here
// the payload is JSON-encoded once, published once, and each node skips its own publishes
// before decoding them.
type fanout struct {
	rdb     goredis.UniversalClient
	channel string
	node    string
	self    string      // how this node's envelopes begin
	out     chan []byte // encoded envelopes for the publisher, in order
	onErr   func(error)
}

const (
	// fanoutQueue is how many publishes may wait for the publisher before senders wait too.
	fanoutQueue = 4096
	// fanoutPipeline is how many waiting publishes go to Redis in one round trip at most.
	fanoutPipeline = 128
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
}

// startFanout subscribes to channel and delivers other nodes' broadcasts through deliver until
// ctx ends. It returns once the subscription is confirmed, so a broadcast made after New reaches
// this node.
func startFanout(ctx context.Context, rdb goredis.UniversalClient, channel string,
	deliver func(envelope), onErr func(error)) (*fanout, error) {
	node := uuid.NewString()
	f := &fanout{rdb: rdb, channel: channel, node: node, self: `{"n":"` + node + `"`,
		out: make(chan []byte, fanoutQueue), onErr: onErr}
	ps := rdb.Subscribe(ctx, channel)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := ps.Receive(sctx); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("subscribing to %s: %w", channel, err)
	}
	go func() {
		defer ps.Close()
		backoff := time.Duration(0)
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, goredis.ErrClosed) {
					return
				}
				onErr(fmt.Errorf("fan-out subscription: %w", err))
				// Redis away: the client redials on the next receive; do not spin meanwhile.
				backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return
				}
				continue
			}
			backoff = 0
			if strings.HasPrefix(msg.Payload, f.self) {
				continue // delivered locally when it was sent
			}
			var e envelope
			if err := json.Unmarshal([]byte(msg.Payload), &e); err != nil {
				onErr(fmt.Errorf("fan-out message: %w", err))
				continue
			}
			deliver(e)
		}
	}()
	go f.publisher(ctx)
	return f, nil
}

// publish hands e to the publisher. Local sockets have it already; other nodes get it in the
// order it was handed over.
func (f *fanout) publish(ctx context.Context, e envelope) error {
	b, err := f.encode(e)
	if err != nil {
		return fmt.Errorf("encoding a fan-out message: %w", err)
	}
	select {
	case f.out <- b:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publishing a fan-out message: %w", ctx.Err())
	}
}

// encode writes e as JSON with this node's id first. Data is appended as it is: BroadcastRooms
// made it with json.Marshal, so it needs no second pass (json.Marshal would check and copy it).
func (f *fanout) encode(e envelope) ([]byte, error) {
	head, err := json.Marshal(struct {
		Rooms  []string `json:"r"`
		Except string   `json:"x,omitempty"`
		Event  string   `json:"e"`
		Leave  string   `json:"l,omitempty"`
	}{e.Rooms, e.Except, e.Event, e.Leave})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(f.self)+len(head)+len(e.Data)+8)
	b = append(b, f.self...)
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
	batch := make([][]byte, 0, fanoutPipeline)
	for {
		select {
		case b := <-f.out:
			batch = append(batch[:0], b)
		case <-ctx.Done():
			f.flushRest()
			return
		}
	more:
		for len(batch) < fanoutPipeline {
			select {
			case b := <-f.out:
				batch = append(batch, b)
			default:
				break more
			}
		}
		f.send(ctx, batch)
	}
}

func (f *fanout) send(ctx context.Context, batch [][]byte) {
	var err error
	if len(batch) == 1 {
		err = f.rdb.Publish(ctx, f.channel, batch[0]).Err()
	} else {
		_, err = f.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, b := range batch {
				p.Publish(ctx, f.channel, b)
			}
			return nil
		})
	}
	if err != nil {
		f.onErr(fmt.Errorf("publishing %d fan-out messages: %w", len(batch), err))
	}
}

// flushRest publishes what was handed over before the server closed.
func (f *fanout) flushRest() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var rest [][]byte
	for {
		select {
		case b := <-f.out:
			rest = append(rest, b)
		default:
			if len(rest) > 0 {
				f.send(ctx, rest)
			}
			return
		}
	}
}
