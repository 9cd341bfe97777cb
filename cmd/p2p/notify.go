package main

import (
	"github.com/hibiken/asynq"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/workers"
)

// The notify service is what the other areas report to.
var (
	_ identity.Notifier  = (*notify.Service)(nil)
	_ messaging.Notifier = (*notify.Service)(nil)
)

// newNotify builds the notification service. Its pushes go out through bc: in serve the hub (set
// once it exists, see lateBroadcaster), in the worker the Redis emitter. accounts is needed only
// where digests are sent (the worker); serve passes nil.
func (a *app) newNotify(d deps, bc realtime.Broadcaster, accounts notify.Accounts) *notify.Service {
	client := asynq.NewClientFromRedisClient(d.rdb)
	return notify.NewService(notify.Deps{
		Store:     notifydb.New(d.pool),
		Pusher:    realtime.ToUsers{B: bc},
		Scheduler: workers.DigestQueue{Client: client, Queue: a.cfg.Worker.Queue},
		Presence:  realtime.NewOnline(d.rdb, a.cfg.Redis.Prefix),
		Accounts:  accounts,
		Mailer:    workers.MailQueue{Client: client, Queue: a.cfg.Worker.Queue},
		Config:    notify.Config{EmailDelay: a.cfg.Notify.EmailDelay, WebsiteURL: a.cfg.App.WebsiteDomain},
		Log:       a.log.With("component", "notify"),
	})
}
