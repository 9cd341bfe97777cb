package notifyapp

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/p2psandbox/hub/domain/notify"
)

// foldPushInterval is how often at most one notification is pushed again as it folds.
const foldPushInterval = time.Second

// pusher pushes a notification at once the first time and then at most once per interval: a
// lively conversation's notification folds several times a second, and only its latest state
// matters to a client that upserts by id, so the updates within an interval become one trailing
// push of the latest. At 2,000 messages/s that is a few hundred pushes a second instead of one
// per conversation, recipient and gathering window (docs/perf.md).
type pusher struct {
	interval time.Duration
	send     func(ctx context.Context, n notify.Notification)
	last     *expirable.LRU[string, time.Time] // notification id → its last push

	mu      sync.Mutex
	pending map[string]notify.Notification // waiting for their trailing push
}

func newPusher(interval time.Duration, send func(context.Context, notify.Notification)) *pusher {
	return &pusher{interval: interval, send: send, pending: map[string]notify.Notification{},
		last: expirable.NewLRU[string, time.Time](100_000, nil, interval)}
}

func (p *pusher) push(ctx context.Context, n notify.Notification) {
	now := time.Now()
	p.mu.Lock()
	if _, waiting := p.pending[n.ID]; waiting {
		p.pending[n.ID] = n // the trailing push will carry this state
		p.mu.Unlock()
		return
	}
	at, pushed := p.last.Get(n.ID)
	if !pushed || now.Sub(at) >= p.interval {
		p.last.Add(n.ID, now)
		p.mu.Unlock()
		p.send(ctx, n)
		return
	}
	p.pending[n.ID] = n
	p.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	time.AfterFunc(p.interval-now.Sub(at), func() {
		p.mu.Lock()
		latest := p.pending[n.ID]
		delete(p.pending, n.ID)
		p.last.Add(n.ID, time.Now())
		p.mu.Unlock()
		p.send(ctx, latest)
	})
}
