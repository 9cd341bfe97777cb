package sio

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
	redisadapter "github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/emitter"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Emitter publishes room broadcasts to Redis in the classic adapter's format, so that whichever
// node holds a room's sockets delivers them. Processes without sockets (REST handlers on a node
// that drains, workers) use it.
type Emitter struct {
	e *emitter.Emitter
}

// NewEmitter returns an emitter on channel, the same prefix the servers' adapter uses.
func NewEmitter(ctx context.Context, rdb goredis.UniversalClient, channel string) *Emitter {
	opts := emitter.DefaultEmitterOptions()
	opts.SetKey(channel)
	return &Emitter{e: emitter.NewEmitter(redisadapter.NewRedisClient(context.WithoutCancel(ctx), rdb), opts)}
}

// Emit publishes event with payload to room.
func (e *Emitter) Emit(room, event string, payload any) error {
	return e.e.To(socket.Room(room)).Emit(event, Normalize(payload))
}
