package realtime

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/realtime/sio"
)

// Broadcaster reaches the sockets in a room, on whichever node they are. REST handlers, domain
// event subscribers and workers depend on it; *Hub (on a serving node) and *Emitter (anywhere with
// Redis) implement it.
type Broadcaster interface {
	Emit(ctx context.Context, room, event string, payload any) error
}

// Sockets reaches the sockets of rooms and of users on every node: what areas emit through. *Hub
// (on a serving node) and *Emitter (anywhere with Redis) implement it.
type Sockets interface {
	Broadcaster
	EmitToUsers(ctx context.Context, userIDs []string, event string, payload any) error
}

var (
	_ Sockets = (*Hub)(nil)
	_ Sockets = (*Emitter)(nil)
)

// Emitter publishes room broadcasts through Redis for processes that hold no sockets.
type Emitter struct {
	e *sio.Emitter
}

// NewEmitter returns an emitter for the deployment whose application keys start with keyPrefix
// (config redis.prefix).
func NewEmitter(ctx context.Context, rdb goredis.UniversalClient, keyPrefix string) *Emitter {
	return &Emitter{e: sio.NewEmitter(ctx, rdb, AdapterChannel(keyPrefix))}
}

// Emit publishes event with payload to room. Payloads are JSON-like values or structs with json
// tags; []byte values inside maps travel as binary.
func (e *Emitter) Emit(_ context.Context, room, event string, payload any) error {
	return e.e.Emit(room, event, payload)
}

// EmitToUsers publishes event to the user room of each user.
func (e *Emitter) EmitToUsers(ctx context.Context, userIDs []string, event string, payload any) error {
	return ToUsers{B: e}.EmitToUsers(ctx, userIDs, event, payload)
}

// RoomsBroadcaster reaches the sockets of several rooms in one broadcast; *Hub implements it.
type RoomsBroadcaster interface {
	EmitRooms(ctx context.Context, rooms []string, event string, payload any) error
}

// EmitRooms sends event to the sockets of rooms through b: in one broadcast when b can, else one
// per room (the Redis adapter v3.0.2 drops a broadcast to several rooms on the other nodes, as it
// does one to no room; see TestEmitToUsersReachesEveryNode).
func EmitRooms(ctx context.Context, b Broadcaster, rooms []string, event string, payload any) error {
	if rb, ok := b.(RoomsBroadcaster); ok {
		return rb.EmitRooms(ctx, rooms, event, payload)
	}
	if len(rooms) > 1 {
		payload = sio.Normalize(payload) // once, not once per room
	}
	var errs []error
	for _, r := range rooms {
		if err := b.Emit(ctx, r, event, payload); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ToUsers reaches every socket of some users through a Broadcaster: what domain services that
// address people, not rooms, depend on.
type ToUsers struct{ B Broadcaster }

// EmitToUsers emits event to the user room of each user.
func (t ToUsers) EmitToUsers(ctx context.Context, userIDs []string, event string, payload any) error {
	rooms := make([]string, len(userIDs))
	for i, id := range userIDs {
		rooms[i] = UserRoom(id)
	}
	return EmitRooms(ctx, t.B, rooms, event, payload)
}

type originKey struct{}

// withOrigin marks ctx as serving an event of the socket id.
func withOrigin(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, originKey{}, id)
}

func originOf(ctx context.Context) string {
	id, _ := ctx.Value(originKey{}).(string)
	return id
}
