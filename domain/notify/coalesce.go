package notify

import (
	"context"
	"sync"
	"time"
)

// coalescer spares a busy group (a conversation with a message every few milliseconds) a write
// and a push per event: after a group's notification is written, its repeats within the window
// are held on this node, and when the window closes the latest of them is written once, its
// Count the number held. The stored notification is then exact again: at most one window
// behind, never left stale.
type coalescer struct {
	every time.Duration
	write func(ctx context.Context, n Notification)

	mu     sync.Mutex
	open   map[string]map[string]*burst // recipient → group key → window
	closed bool
}

// burst is one group's open window.
type burst struct {
	target string // TargetType/TargetID, for the reads that end it
	held   *Notification
	ctx    context.Context
	timer  *time.Timer
}

func newCoalescer(every time.Duration, write func(context.Context, Notification)) *coalescer {
	return &coalescer{every: every, write: write, open: map[string]map[string]*burst{}}
}

func targetOf(n Notification) string { return n.TargetType + "/" + n.TargetID }

// hold keeps n back when its group's window is open, reporting whether it did.
func (c *coalescer) hold(ctx context.Context, n Notification) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.open[n.RecipientID][n.GroupKey]
	if b == nil {
		return false
	}
	n.Count = 1
	if b.held != nil {
		n.Count = b.held.Count + 1
		n.CreatedAt = b.held.CreatedAt
	}
	b.held, b.ctx, b.target = &n, context.WithoutCancel(ctx), targetOf(n)
	return true
}

// start opens n's group window after n was written.
func (c *coalescer) start(n Notification) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.open[n.RecipientID][n.GroupKey] != nil {
		return
	}
	groups := c.open[n.RecipientID]
	if groups == nil {
		groups = map[string]*burst{}
		c.open[n.RecipientID] = groups
	}
	b := &burst{target: targetOf(n)}
	groups[n.GroupKey] = b
	b.timer = time.AfterFunc(c.every, func() { c.end(n.RecipientID, n.GroupKey, b) })
}

// end closes a window and writes what it held.
func (c *coalescer) end(recipient, group string, b *burst) {
	c.mu.Lock()
	if c.open[recipient][group] != b {
		c.mu.Unlock()
		return
	}
	c.remove(recipient, group)
	c.mu.Unlock()
	if b.held != nil {
		c.write(b.ctx, *b.held)
	}
}

func (c *coalescer) remove(recipient, group string) {
	delete(c.open[recipient], group)
	if len(c.open[recipient]) == 0 {
		delete(c.open, recipient)
	}
}

// forget ends the recipient's windows on target (all of them when target is empty) without
// writing: a read saw what they held.
func (c *coalescer) forget(recipient, target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for group, b := range c.open[recipient] {
		if target == "" || b.target == target {
			b.timer.Stop()
			c.remove(recipient, group)
		}
	}
}

// close writes everything held now and stops holding: the process is stopping.
func (c *coalescer) close() {
	c.mu.Lock()
	c.closed = true
	var held []*burst
	for _, groups := range c.open {
		for _, b := range groups {
			b.timer.Stop()
			if b.held != nil {
				held = append(held, b)
			}
		}
	}
	c.open = map[string]map[string]*burst{}
	c.mu.Unlock()
	for _, b := range held {
		c.write(b.ctx, *b.held)
	}
}
