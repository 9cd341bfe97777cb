// Package realtime is the Socket.IO hub: handshake authentication, rooms and their authorization,
// presence, typing, the client events and the bridge from the rest of the system to rooms. The
// Socket.IO library itself stays behind realtime/sio; docs/realtime.md is the contract with the
// clients.
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/realtime/presence"
	"github.com/p2psandbox/hub/realtime/sio"
	"github.com/p2psandbox/hub/realtime/typing"
)

// Authenticator turns the access token of a handshake into a principal. It returns
// identity.ErrTokenExpired for an expired token (the client refreshes and reconnects) and another
// error for anything else.
type Authenticator interface {
	PrincipalFromToken(ctx context.Context, accessToken string) (identity.Principal, error)
}

// JoinAuthorizer decides whether p may join the room of one kind ("topic", "conversation") with
// the given id. It returns nil to allow, or a domain error (errs.NotFound, errs.Forbidden).
type JoinAuthorizer interface {
	AuthorizeJoin(ctx context.Context, p identity.Principal, id string) error
}

// JoinFunc adapts a function to JoinAuthorizer.
type JoinFunc func(ctx context.Context, p identity.Principal, id string) error

// AuthorizeJoin calls f.
func (f JoinFunc) AuthorizeJoin(ctx context.Context, p identity.Principal, id string) error {
	return f(ctx, p, id)
}

// Config tunes the hub: the hub section of the configuration (platform/config), declared once.
type Config = config.Hub

// Deps are the hub's collaborators. The hub knows no area: areas add their events (Handle) and
// the room kinds their members may join (AllowJoin) before it serves.
type Deps struct {
	Log   *slog.Logger
	Redis goredis.UniversalClient
	// Fanout, when set, carries the broadcasts between nodes instead of Redis: a Redis Cluster
	// client (config hub.fanout_redis_cluster) makes them sharded pub/sub. Presence stays on Redis.
	Fanout    goredis.UniversalClient
	KeyPrefix string // the application's Redis key prefix (config redis.prefix)
	Auth      Authenticator
	Registry  prometheus.Registerer
	// Now is the clock of presence, typing and rate limits (time.Now when nil).
	Now func() time.Time
}

// Hub is one node of the realtime hub.
type Hub struct {
	cfg      Config
	log      *slog.Logger
	auth     Authenticator
	joins    map[string]JoinAuthorizer // room kinds joined on request, and who may
	rdb      goredis.UniversalClient
	prefix   string
	node     string
	srv      *sio.Server
	presence *presence.Store
	typing   *typing.Tracker
	metrics  *metrics
	handlers map[string]handler
	now      func() time.Time
	visible  PresenceVisibility
	revoked  Revocations

	draining atomic.Bool
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   sync.Once
}

// New starts a hub node: it registers the node's presence heartbeat and subscribes to the Redis
// adapter. Mount Handler at /socket.io/.
func New(ctx context.Context, cfg Config, d Deps) (*Hub, error) {
	if d.Redis == nil || d.Auth == nil {
		return nil, errors.New("realtime: Redis and Auth are required")
	}
	if cfg.ConnectTimeout <= 0 || cfg.PresenceTTL <= 0 || cfg.TypingTTL <= 0 || cfg.EventRate <= 0 || cfg.EventBurst <= 0 {
		return nil, errors.New("realtime: ConnectTimeout, PresenceTTL, TypingTTL, EventRate and EventBurst must be positive")
	}
	if cfg.DrainBatch <= 0 {
		cfg.DrainBatch = 500
	}
	if cfg.ResumeTTL <= 0 {
		cfg.ResumeTTL = 2 * time.Minute
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	prefix := d.KeyPrefix + "hub:"
	h := &Hub{
		cfg:    cfg,
		log:    d.Log.With("component", "hub"),
		auth:   d.Auth,
		joins:  map[string]JoinAuthorizer{},
		rdb:    d.Redis,
		prefix: prefix,
		node:   newID(),
		now:    d.Now,
		// A node is dead once it has missed several heartbeats (every PresenceTTL/6) and the
		// sweep (every PresenceTTL/12) runs soon after: its users are offline within PresenceTTL.
		presence: presence.New(d.Redis, prefix, cfg.PresenceTTL*3/4, d.Now),
		typing:   typing.New(cfg.TypingTTL, cfg.TypingTTL/3, d.Now),
	}
	h.handlers = h.routes()
	fanout := d.Redis
	if d.Fanout != nil {
		fanout = d.Fanout
	}
	var err error
	h.srv, err = sio.New(ctx, sio.Options{
		PingInterval:   cfg.PingInterval,
		PingTimeout:    cfg.PingTimeout,
		ConnectTimeout: cfg.ConnectTimeout,
		MaxPayload:     cfg.MaxPayload,
		CORSOrigins:    cfg.CORSOrigins,
		Redis:          fanout,
		Channel:        AdapterChannel(d.KeyPrefix),
		Log:            h.log,
	}, sio.Hooks{
		Authenticate: h.authenticate,
		Connect:      h.onConnect,
		Event:        h.onEvent,
		Disconnect:   h.onDisconnect,
	})
	if err != nil {
		return nil, err
	}
	h.metrics, err = newMetrics(d.Registry, h.srv, h.typing, h.names())
	if err != nil {
		h.srv.Close()
		return nil, err
	}
	h.srv.OnAdapterError(func(err error) {
		h.metrics.adapterErrors.Inc()
		h.log.Warn("redis adapter", "err", err)
	})
	if _, err := h.presence.Heartbeat(ctx, h.node); err != nil {
		h.srv.Close()
		return nil, err
	}
	h.ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	h.every(cfg.PresenceTTL/6, h.heartbeat)
	h.every(cfg.PresenceTTL/12, h.sweep)
	h.every(max(cfg.TypingTTL/6, 100*time.Millisecond), h.expireTyping)
	h.every(expiryCheck, h.expireTokens)
	h.log.Info("hub node started", "node", h.node)
	return h, nil
}

// AdapterChannel is the prefix of the Redis pub/sub channels of the adapter and the emitter.
func AdapterChannel(keyPrefix string) string { return keyPrefix + "socket.io" }

// Handler serves Socket.IO; mount it at /socket.io/.
func (h *Hub) Handler() http.Handler { return h.srv.Handler() }

// Node is this node's id in presence.
func (h *Hub) Node() string { return h.node }

// Emit broadcasts event to room on every node. When ctx serves a client's event (withOrigin), the
// socket that sent it is left out: it has its answer in the ack.
func (h *Hub) Emit(ctx context.Context, room, event string, payload any) error {
	start := time.Now()
	var err error
	if origin := originOf(ctx); origin != "" {
		err = h.srv.BroadcastExcept(room, origin, event, payload)
	} else {
		err = h.srv.Broadcast(room, event, payload)
	}
	h.metrics.sent(event, "broadcast", time.Since(start))
	return err
}

// EmitToUsers sends event to every socket of the users, on every node, in one publish.
func (h *Hub) EmitToUsers(ctx context.Context, userIDs []string, event string, payload any) error {
	return ToUsers{B: h}.EmitToUsers(ctx, userIDs, event, payload)
}

// EmitRooms sends event to the sockets in any of rooms, on every node, once per socket, in one
// publish between nodes (sio.Server.BroadcastRooms).
func (h *Hub) EmitRooms(ctx context.Context, rooms []string, event string, payload any) error {
	start := time.Now()
	err := h.srv.BroadcastRooms(ctx, rooms, originOf(ctx), event, payload)
	h.metrics.sent(event, "broadcast", time.Since(start))
	return err
}

// LeaveRoom makes every socket of the users leave room, on every node (and forgets it for their
// resumed tabs, which authorize every room again anyway): access to a room ends with membership.
func (h *Hub) LeaveRoom(ctx context.Context, userIDs []string, room string) error {
	rooms := make([]string, len(userIDs))
	for i, id := range userIDs {
		rooms[i] = UserRoom(id)
	}
	return h.srv.LeaveRooms(ctx, rooms, room)
}

// Drain stops accepting connections and closes the open ones in batches of DrainBatch every
// DrainInterval, so that clients reconnect to other nodes without a stampede. It returns when no
// socket is left or ctx ends.
func (h *Hub) Drain(ctx context.Context) error {
	h.draining.Store(true)
	h.srv.SetAccepting(false)
	closed := map[string]bool{}
	for {
		conns := h.srv.Conns()
		n := 0
		for _, c := range conns {
			if closed[c.ID()] {
				continue
			}
			if n == h.cfg.DrainBatch {
				break
			}
			closed[c.ID()] = true
			c.Close()
			n++
		}
		if len(conns) == 0 {
			h.log.Info("hub drained", "closed", len(closed))
			return nil
		}
		t := time.NewTimer(max(h.cfg.DrainInterval, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("realtime: drain: %d sockets left: %w", len(h.srv.Conns()), ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops the node: its background loops, its presence entries (its users' other nodes keep
// theirs) and every remaining socket.
func (h *Hub) Close() {
	h.closed.Do(func() {
		h.draining.Store(true)
		h.srv.SetAccepting(false)
		h.cancel()
		h.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		changes, err := h.presence.RemoveNode(ctx, h.node)
		if err != nil {
			h.log.Warn("removing the node's presence", "err", err)
		}
		h.publishPresence(changes)
		h.srv.Close()
	})
}

// every runs fn every d until the hub closes.
func (h *Hub) every(d time.Duration, fn func(context.Context)) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-h.ctx.Done():
				return
			case <-t.C:
				fn(h.ctx)
			}
		}
	}()
}

func (h *Hub) heartbeat(ctx context.Context) {
	fresh, err := h.presence.Heartbeat(ctx, h.node)
	if err != nil {
		h.log.Warn("presence heartbeat", "err", err)
		return
	}
	if !fresh {
		return
	}
	// Another node reaped this one during a stall: record its connections again.
	for _, c := range h.srv.Conns() {
		st, ok := c.State().(*connState)
		if !ok {
			continue
		}
		ch, err := h.presence.SetStatus(ctx, h.node, st.user, c.ID(), st.status())
		if err != nil {
			h.log.Warn("presence re-register", "err", err)
			return
		}
		h.publishPresence([]presence.Change{ch})
	}
}

func (h *Hub) sweep(ctx context.Context) {
	changes, err := h.presence.Sweep(ctx)
	if err != nil {
		h.log.Warn("presence sweep", "err", err)
	}
	if len(changes) > 0 {
		h.log.Info("reaped the presence of dead nodes", "users", len(changes))
	}
	h.publishPresence(changes)
}

func (h *Hub) expireTyping(context.Context) {
	for _, it := range h.typing.Expire() {
		h.relayTyping(it, EventTypingStop, true)
	}
}

func (h *Hub) publishPresence(changes []presence.Change) {
	for _, ch := range changes {
		if ch.Changed {
			_ = h.Emit(h.ctx, PresenceRoom(ch.UserID), EventPresenceUpdate, ch.User)
		}
	}
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
