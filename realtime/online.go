package realtime

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/realtime/presence"
)

// Online answers whether a user is online, from the presence the hub nodes record in Redis, for
// processes that hold no sockets (the worker deciding whether to mail a digest).
type Online struct {
	store *presence.Store
}

// NewOnline reads the presence of the deployment whose application keys start with keyPrefix
// (config redis.prefix).
func NewOnline(rdb goredis.UniversalClient, keyPrefix string) *Online {
	// The keys New gives its presence store; a reader never sweeps, so it needs no dead-after.
	return &Online{store: presence.New(rdb, keyPrefix+"hub:", 0, nil)}
}

// Online reports whether the user has a socket whose status is online. Away does not count:
// every tab of an away user is hidden, so they are not looking.
func (o *Online) Online(ctx context.Context, userID string) (bool, error) {
	users, err := o.store.Get(ctx, []string{userID})
	if err != nil {
		return false, err
	}
	return len(users) == 1 && users[0].Status == presence.Online, nil
}
