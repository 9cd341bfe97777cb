// Package typing tracks who is typing where, on one node. A typing indicator belongs to the
// connection that sent typing:start; it ends with typing:stop, with the connection, or when it
// has not been refreshed for the TTL. Relays to the room are throttled: a refresh is passed on at
// most once per throttle interval, enough to keep the receivers' own expiry from firing.
package typing

import (
	"sync"
	"time"
)

// Item is one typing indicator.
type Item struct {
	Conn   string
	Room   string
	UserID string
}

type key struct{ conn, room string }

type entry struct {
	userID    string
	expires   time.Time
	lastRelay time.Time
}

// Tracker is safe for concurrent use.
type Tracker struct {
	mu       sync.Mutex
	ttl      time.Duration
	throttle time.Duration
	now      func() time.Time
	entries  map[key]*entry
}

// New returns a tracker whose indicators expire after ttl without a refresh and whose relays are
// at most one per throttle. now is the clock (time.Now when nil).
func New(ttl, throttle time.Duration, now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	return &Tracker{ttl: ttl, throttle: throttle, now: now, entries: map[key]*entry{}}
}

// Start records or refreshes an indicator and reports whether to relay it.
func (t *Tracker) Start(it Item) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := key{it.Conn, it.Room}
	e, ok := t.entries[k]
	if !ok {
		t.entries[k] = &entry{userID: it.UserID, expires: now.Add(t.ttl), lastRelay: now}
		return true
	}
	e.expires = now.Add(t.ttl)
	if now.Sub(e.lastRelay) >= t.throttle {
		e.lastRelay = now
		return true
	}
	return false
}

// Stop ends an indicator and reports whether there was one to end.
func (t *Tracker) Stop(it Item) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := key{it.Conn, it.Room}
	_, ok := t.entries[k]
	delete(t.entries, k)
	return ok
}

// Expire removes and returns the indicators not refreshed within the TTL.
func (t *Tracker) Expire() []Item {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var out []Item
	for k, e := range t.entries {
		if !now.Before(e.expires) {
			out = append(out, Item{Conn: k.conn, Room: k.room, UserID: e.userID})
			delete(t.entries, k)
		}
	}
	return out
}

// DropConn removes and returns every indicator of a connection (it disconnected).
func (t *Tracker) DropConn(conn string) []Item {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Item
	for k, e := range t.entries {
		if k.conn == conn {
			out = append(out, Item{Conn: k.conn, Room: k.room, UserID: e.userID})
			delete(t.entries, k)
		}
	}
	return out
}

// DropRoom removes and returns a connection's indicator in room (it left the room).
func (t *Tracker) DropRoom(conn, room string) []Item {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := key{conn, room}
	e, ok := t.entries[k]
	if !ok {
		return nil
	}
	delete(t.entries, k)
	return []Item{{Conn: conn, Room: room, UserID: e.userID}}
}

// Len is the number of live indicators.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
