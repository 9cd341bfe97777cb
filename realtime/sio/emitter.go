package sio

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// Emitter publishes room broadcasts on the fan-out's channel, so that whichever node holds a
// room's sockets delivers them. Processes without sockets (REST handlers on a node that drains,
// workers) use it.
type Emitter struct {
	ctx     context.Context
	rdb     goredis.UniversalClient
	channel string
}

// NewEmitter returns an emitter on channel, the same prefix the servers use.
func NewEmitter(ctx context.Context, rdb goredis.UniversalClient, channel string) *Emitter {
	return &Emitter{ctx: context.WithoutCancel(ctx), rdb: rdb, channel: channel + "-rooms#"}
}

// Emit publishes event with payload to room.
func (e *Emitter) Emit(room, event string, payload any) error {
	env, err := newEnvelope([]string{room}, "", event, payload)
	if err != nil {
		return err
	}
	return publishEnvelope(e.ctx, e.rdb, e.channel, env)
}
