// Package sio is the hub's Socket.IO server: Engine.IO v4 (long-polling, websocket and the
// upgrade between them, engine.go) and Socket.IO v5 (namespaces, events, acks, binary
// attachments, rooms; this file and packet.go), with broadcasts carried between nodes through
// Redis (fanout.go). The official socket.io-client talks to it unchanged, and the official
// protocol test suites run against it (make conformance, docs/realtime.md).
//
// It turns connections into a handful of hooks and small types (Conn, Server, Emitter), so that
// the hub's rules (auth, rooms, presence, typing) never see the wire. It replaced the
// zishang520/socket.io library, whose per-socket cost was three times Node's (docs/perf.md,
// docs/design-notes.md). The contracts the hub relied on when it guarded that library are kept:
//   - the Connect hook has returned before the connection's next packet is handled, so a client
//     that emits as soon as it is connected loses nothing;
//   - the Disconnect hook runs once per connection that reached Connect;
//   - a CONNECT that does not complete within ConnectTimeout closes the connection;
//   - binary arguments reach the hooks as []byte, on every node;
//   - well-formed events the JSON decoder cannot hold (numbers beyond float64, deep nesting, long
//     ack ids) are answered with an error ack, not a closed connection (guard.go).
package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Options configure the server.
type Options struct {
	PingInterval   time.Duration
	PingTimeout    time.Duration
	ConnectTimeout time.Duration // close connections whose namespace CONNECT (and auth) did not finish
	MaxPayload     int
	// CORSOrigins are the browser origins that may connect ("*": any).
	CORSOrigins []string
	// Namespaces are served besides "/" with the same hooks (Conn.Namespace tells them apart).
	Namespaces []string
	// Redis carries broadcasts between nodes. Nil keeps rooms in this process only.
	Redis goredis.UniversalClient
	// Channel is the prefix of the fan-out's pub/sub channels; the Emitter must use the same.
	Channel string
	Log     *slog.Logger
}

// Handshake is what a client presented when it connected to the namespace.
type Handshake struct {
	Auth    map[string]any
	Header  http.Header
	Address string
}

// Refusal refuses a handshake: the client gets a connect_error whose message is Message and whose
// data is Data.
type Refusal struct {
	Message string
	Data    any
}

func (r *Refusal) Error() string { return r.Message }

// Ack answers a client event that asked for an acknowledgement. It is nil when the client did
// not. Only its first call is sent.
type Ack func(args ...any)

// Hooks are the hub's callbacks. Each runs with panics recovered. Events of one connection are
// delivered one at a time, in order, after its Connect hook has returned.
type Hooks struct {
	// Authenticate runs before the namespace CONNECT is answered; its result is Conn.Data.
	Authenticate func(ctx context.Context, h Handshake) (any, error)
	Connect      func(c *Conn)
	Event        func(c *Conn, event string, args []any, ack Ack)
	// Disconnect runs exactly once per connection that reached Connect.
	Disconnect func(c *Conn, reason string)
}

// Server is a Socket.IO server.
type Server struct {
	eng            *engine
	hooks          Hooks
	log            *slog.Logger
	authWait       time.Duration
	connectTimeout time.Duration
	namespaces     map[string]bool
	accepting      atomic.Bool
	closing        atomic.Bool
	conns          sync.Map // socket id → *Conn
	count          atomic.Int64
	roomsMu        sync.RWMutex
	rooms          map[string]*members
	cancel         context.CancelFunc
	fan            *fanout // nil without Redis
	handlers       *runner
	onErr          atomic.Pointer[func(error)]
}

// ErrDraining refuses new handshakes while the server drains.
var ErrDraining = errors.New("the server is shutting down; connect to another node")

// New builds the server. Nothing is served until Handler is mounted.
func New(ctx context.Context, o Options, hooks Hooks) (*Server, error) {
	if hooks.Authenticate == nil || hooks.Connect == nil || hooks.Event == nil || hooks.Disconnect == nil {
		return nil, errors.New("sio: every hook is required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		hooks: hooks, log: o.Log, connectTimeout: o.ConnectTimeout,
		namespaces: map[string]bool{"/": true}, rooms: map[string]*members{},
	}
	for _, n := range o.Namespaces {
		s.namespaces[n] = true
	}
	s.accepting.Store(true)
	// Auth must finish well inside ConnectTimeout, which also bounds the handshake.
	s.authWait = o.ConnectTimeout * 2 / 3
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.handlers = newRunner(rctx, handlerGoroutines)
	s.eng = newEngine(engineConfig{
		pingInterval: o.PingInterval,
		pingTimeout:  o.PingTimeout,
		maxPayload:   o.MaxPayload,
		origins:      newOriginPolicy(o.CORSOrigins),
		allow: func() error {
			if !s.accepting.Load() {
				return ErrDraining
			}
			return nil
		},
		open: s.openClient,
	})
	if o.Redis != nil {
		fan, err := startFanout(rctx, o.Redis, o.Channel+"-rooms#", s.deliverLocal, s.reportErr)
		if err != nil {
			cancel()
			return nil, err
		}
		s.fan = fan
	}
	return s, nil
}

// OnAdapterError registers fn for errors of the fan-out (publish or subscribe failures).
func (s *Server) OnAdapterError(fn func(error)) { s.onErr.Store(&fn) }

func (s *Server) reportErr(err error) {
	// Closing cancels the fan-out's Redis calls: those are the shutdown, not failures to report.
	if s.closing.Load() && errors.Is(err, context.Canceled) {
		return
	}
	if fn := s.onErr.Load(); fn != nil {
		(*fn)(err)
	}
}

// Handler serves Engine.IO under the path it is mounted at (/socket.io/).
func (s *Server) Handler() http.Handler { return s.eng }

// SetAccepting opens or closes the door to new connections; existing ones are not touched.
func (s *Server) SetAccepting(ok bool) { s.accepting.Store(ok) }

// Count is the number of connected sockets on this node.
func (s *Server) Count() int { return int(s.count.Load()) }

// RoomCount is the number of rooms with a member on this node.
func (s *Server) RoomCount() int {
	s.roomsMu.RLock()
	defer s.roomsMu.RUnlock()
	return len(s.rooms)
}

// Conns lists the sockets connected to this node.
func (s *Server) Conns() []*Conn {
	out := make([]*Conn, 0, s.Count())
	s.conns.Range(func(_, v any) bool {
		out = append(out, v.(*Conn))
		return true
	})
	return out
}

// Broadcast sends event to every socket in room on every node.
func (s *Server) Broadcast(room, event string, payload any) error {
	return s.BroadcastRooms(context.Background(), []string{room}, "", event, payload)
}

// BroadcastExcept sends event to every socket in room on every node except the socket exceptID.
func (s *Server) BroadcastExcept(room, exceptID, event string, payload any) error {
	return s.BroadcastRooms(context.Background(), []string{room}, exceptID, event, payload)
}

// Close disconnects every socket and unsubscribes from Redis.
func (s *Server) Close() {
	s.accepting.Store(false)
	s.closing.Store(true)
	s.eng.close()
	s.cancel()
}

// client is the Socket.IO side of one Engine.IO session: its namespace sockets, the binary
// packet being assembled, and the messages read and not yet handled. The transport's reader (the
// websocket's goroutine, or a POST's) queues messages with the time they arrived; a handler
// goroutine, started only while there is something to handle, decodes and handles them one at a
// time, in order: a CONNECT (and its auth and Connect hook) before the events behind it, the
// events, then the disconnect. So a slow handler never stops the reading (a rate limit sees when
// events were sent) and an idle connection has no goroutine besides its reader.
type client struct {
	srv     *Server
	sess    *session
	mu      sync.Mutex
	sockets map[string]*Conn // namespace → socket
	// connected is set by the first CONNECT that succeeded; connectTimer closes the session
	// when none has by then.
	connected    bool
	connectTimer *time.Timer
	// pending is a binary packet waiting for its attachments; broken is set on a parse error.
	// The handler goroutine alone uses them.
	pending        *packet
	pendingArrived time.Time
	attachments    [][]byte
	broken         bool
	// inbox: packets not yet handled, and their bytes; busy while a goroutine handles them;
	// space is closed when a full inbox has room again.
	inbox   []inItem
	inBytes int
	busy    bool
	space   chan struct{}
}

// inItem is a message to handle, or (closed set) the session's end.
type inItem struct {
	raw     []byte
	binary  bool
	arrived time.Time
	closed  string
}

// maxInboxBytes is how many bytes of packets may wait for the handler before the reader waits.
const maxInboxBytes = 1 << 20

func (s *Server) openClient(sess *session) sessionHandler {
	return &client{srv: s, sess: sess, sockets: map[string]*Conn{}}
}

// opened starts the connect timeout: a session whose namespace CONNECT has not completed by then
// is closed (socket.io-client reconnects).
func (c *client) opened(sess *session) {
	if c.srv.connectTimeout <= 0 {
		return
	}
	c.mu.Lock() // the timer may fire before the assignment is seen
	defer c.mu.Unlock()
	c.connectTimer = time.AfterFunc(c.srv.connectTimeout, func() {
		c.mu.Lock()
		ok := c.connected
		c.mu.Unlock()
		if !ok {
			sess.close("connect timeout", false)
		}
	})
}

// onMessage runs on the transport's reader: it only queues the message, so that the reader's
// stack stays shallow (an idle websocket's goroutine is most of its memory) and decoding runs on
// the handler goroutine.
func (c *client) onMessage(_ *session, data []byte, binary bool) {
	c.enqueue(inItem{raw: data, binary: binary, arrived: time.Now()})
}

// handle decodes one message on the handler goroutine: a packet, or an attachment of the binary
// packet being assembled.
func (c *client) handle(it inItem) {
	if c.broken {
		return // the session is closing on a parse error: what follows is not handled
	}
	fail := func() {
		c.broken = true
		c.sess.close("parse error", false)
	}
	if it.binary {
		if c.pending == nil {
			fail()
			return
		}
		c.attachments = append(c.attachments, it.raw)
		if len(c.attachments) == c.pending.attachments {
			p, att := *c.pending, c.attachments
			c.pending, c.attachments = nil, nil
			c.dispatch(p, att, c.pendingArrived)
		}
		return
	}
	if c.pending != nil { // text before the attachments are in: the packet is broken
		fail()
		return
	}
	p, err := decodePacket(it.raw)
	if err != nil {
		fail()
		return
	}
	if p.attachments > 0 {
		c.pending, c.pendingArrived = &p, it.arrived
		return
	}
	c.dispatch(p, nil, it.arrived)
}

// enqueue queues it for the handler goroutine, starting one if none runs, and waits while the
// inbox is full.
func (c *client) enqueue(it inItem) {
	n := len(it.raw)
	c.mu.Lock()
	c.inbox = append(c.inbox, it)
	c.inBytes += n
	start := !c.busy
	c.busy = true
	var wait chan struct{}
	if c.inBytes > maxInboxBytes && it.closed == "" {
		if c.space == nil {
			c.space = make(chan struct{})
		}
		wait = c.space
	}
	c.mu.Unlock()
	if start {
		c.srv.handlers.submit(c.drain)
	}
	if wait != nil {
		<-wait
	}
}

// drain handles the inbox until it is empty.
func (c *client) drain() {
	for {
		c.mu.Lock()
		if len(c.inbox) == 0 {
			c.busy = false
			c.inbox = nil
			c.mu.Unlock()
			return
		}
		it := c.inbox[0]
		c.inbox[0] = inItem{}
		c.inbox = c.inbox[1:]
		c.inBytes -= len(it.raw)
		if c.space != nil && c.inBytes <= maxInboxBytes {
			close(c.space)
			c.space = nil
		}
		c.mu.Unlock()
		if it.closed != "" {
			c.closeSockets(it.closed)
			continue
		}
		c.handle(it)
	}
}

func (c *client) dispatch(p packet, att [][]byte, arrived time.Time) {
	switch p.typ {
	case sioConnect:
		c.connect(p)
		return
	}
	c.mu.Lock()
	so := c.sockets[p.nsp]
	c.mu.Unlock()
	if so == nil {
		return // a namespace this client is not connected to: ignored, as the reference does
	}
	switch p.typ {
	case sioDisconnect:
		c.remove(so)
		so.disconnected("client namespace disconnect")
	case sioEvent, sioBinaryEvent:
		so.event(p, att, arrived)
	}
	// ACKs: the server asks for none, so any is stale and ignored.
}

func (c *client) connect(p packet) {
	s := c.srv
	if !s.namespaces[p.nsp] {
		c.sess.send(controlFrame(sioConnectError, p.nsp, []byte(`{"message":"Invalid namespace"}`)))
		return
	}
	if !s.accepting.Load() {
		// Close the transport instead of refusing: a refused CONNECT makes socket.io-client give
		// up, a closed transport makes it reconnect, through the balancer, to another node.
		c.sess.close("server shutting down", false)
		return
	}
	c.mu.Lock()
	_, dup := c.sockets[p.nsp]
	gone := c.sockets == nil
	c.mu.Unlock()
	if dup || gone {
		return
	}
	auth := map[string]any{}
	if p.payload != nil {
		if err := unmarshalObject(p.payload, &auth); err != nil {
			c.sess.close("parse error", false)
			return
		}
	}
	h := Handshake{Auth: auth, Header: c.sess.header, Address: c.sess.address}
	data, err := s.authenticate(h)
	if err != nil {
		var r *Refusal
		msg := map[string]any{"message": err.Error()}
		if errors.As(err, &r) {
			msg = map[string]any{"message": r.Message}
			if r.Data != nil {
				msg["data"] = Normalize(r.Data)
			}
		}
		b, _ := marshal(msg)
		c.sess.send(controlFrame(sioConnectError, p.nsp, b))
		return
	}
	so := &Conn{id: newID(), nsp: p.nsp, cl: c, srv: s, data: data, auth: auth}
	c.mu.Lock()
	if c.sockets == nil { // the session closed during auth
		c.mu.Unlock()
		return
	}
	c.sockets[p.nsp] = so
	c.connected = true
	t := c.connectTimer
	c.connectTimer = nil
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	c.sess.header = nil // the handler goroutine is the only reader
	b, _ := marshal(map[string]string{"sid": so.id})
	c.sess.cork()
	defer c.sess.uncork()
	if !c.sess.send(controlFrame(sioConnect, p.nsp, b)) {
		c.remove(so)
		return
	}
	s.conns.Store(so.id, so)
	s.count.Add(1)
	s.safely("connect", func() { s.hooks.Connect(so) }, func() { so.Close() })
	so.auth = nil // it holds the access token: a kilobyte per idle socket
}

// authenticate runs the hook with panics recovered and its time bounded.
func (s *Server) authenticate(h Handshake) (data any, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.authWait)
	defer cancel()
	defer func() {
		if rec := recover(); rec != nil {
			s.log.Error("panic in handshake", "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			err = &Refusal{Message: "internal", Data: map[string]any{"code": "internal"}}
		}
	}()
	return s.hooks.Authenticate(ctx, h)
}

func (c *client) remove(so *Conn) {
	c.mu.Lock()
	if c.sockets[so.nsp] == so {
		delete(c.sockets, so.nsp)
	}
	c.mu.Unlock()
}

// onClose queues the session's end behind the packets still to handle: the Disconnect hook runs
// after the last event's.
func (c *client) onClose(_ *session, reason string) {
	c.mu.Lock()
	t := c.connectTimer
	c.connectTimer = nil
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	c.enqueue(inItem{closed: reason})
}

func (c *client) closeSockets(reason string) {
	c.mu.Lock()
	all := make([]*Conn, 0, len(c.sockets))
	for _, so := range c.sockets {
		all = append(all, so)
	}
	c.sockets = nil
	c.mu.Unlock()
	for _, so := range all {
		so.disconnected(reason)
	}
}

// Conn is one connected socket.
type Conn struct {
	id      string
	nsp     string
	cl      *client
	srv     *Server
	data    any
	auth    map[string]any
	once    sync.Once
	gone    atomic.Bool
	state   atomic.Value
	rooms   []string  // guarded by srv.roomsMu; a handful per socket
	arrived time.Time // of the event being handled; events are handled one at a time
}

// EventArrived is when the event being handled was read from the connection. Valid inside the
// Event hook.
func (c *Conn) EventArrived() time.Time { return c.arrived }

// ID is the socket id (public; not the Engine.IO session id).
func (c *Conn) ID() string { return c.id }

// Namespace is the namespace the socket connected to ("/" for the hub).
func (c *Conn) Namespace() string { return c.nsp }

// Data is what Authenticate returned.
func (c *Conn) Data() any { return c.data }

// Auth is the auth object the client sent with its CONNECT. Valid inside the Connect hook; nil
// after it.
func (c *Conn) Auth() map[string]any { return c.auth }

// SetState and State hold the hub's per-connection state.
func (c *Conn) SetState(v any) { c.state.Store(v) }

// State returns what SetState stored, or nil.
func (c *Conn) State() any { return c.state.Load() }

// Transport names the current transport: "polling" or "websocket".
func (c *Conn) Transport() string { return c.cl.sess.Transport() }

// Join adds the socket to rooms (on this node; broadcasts reach it from every node).
func (c *Conn) Join(rooms ...string) {
	if c.gone.Load() {
		return
	}
	s := c.srv
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	if c.gone.Load() { // checked again under the lock that disconnected takes
		return
	}
	for _, r := range rooms {
		if slices.Contains(c.rooms, r) {
			continue
		}
		c.rooms = append(c.rooms, r)
		m := s.rooms[r]
		if m == nil {
			m = &members{}
			s.rooms[r] = m
		}
		m.add(c)
	}
}

// Leave removes the socket from room.
func (c *Conn) Leave(room string) {
	s := c.srv
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	c.leaveLocked(room)
}

func (c *Conn) leaveLocked(room string) {
	i := slices.Index(c.rooms, room)
	if i < 0 {
		return
	}
	c.rooms = slices.Delete(c.rooms, i, i+1)
	if m := c.srv.rooms[room]; m != nil && m.remove(c) {
		delete(c.srv.rooms, room)
	}
}

// In reports whether the socket is in room.
func (c *Conn) In(room string) bool {
	c.srv.roomsMu.RLock()
	defer c.srv.roomsMu.RUnlock()
	return slices.Contains(c.rooms, room)
}

// Rooms lists the socket's rooms.
func (c *Conn) Rooms() []string {
	c.srv.roomsMu.RLock()
	defer c.srv.roomsMu.RUnlock()
	return slices.Clone(c.rooms)
}

// Emit sends event with args to this socket only.
func (c *Conn) Emit(event string, args ...any) error {
	vals := make([]any, 0, len(args)+1)
	vals = append(vals, event)
	vals = append(vals, args...)
	data, att, err := encodeArgs(vals)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", event, err)
	}
	if !c.cl.sess.send(packetFrames(sioEvent, c.nsp, noAck, data, att)...) {
		return errClosed
	}
	return nil
}

// Close closes the transport without a Socket.IO DISCONNECT packet, so that socket.io-client
// reconnects on its own (a DISCONNECT would make it stay away).
func (c *Conn) Close() { c.cl.sess.close("forced close", true) }

// disconnectGrace is how long a client told to disconnect has to close its connection before
// the server closes it.
const disconnectGrace = 2 * time.Second

// Disconnect ends the socket with a Socket.IO DISCONNECT packet, after what was emitted to it
// before: socket.io-client reports "io server disconnect" and does not reconnect on its own. The
// client closes its connection on it; one that does not is closed after a grace.
func (c *Conn) Disconnect() {
	c.cl.sess.send(controlFrame(sioDisconnect, c.nsp, nil))
	c.cl.remove(c)
	c.disconnected("server namespace disconnect")
	sess := c.cl.sess
	time.AfterFunc(disconnectGrace, func() { sess.close("forced close", false) })
}

// event hands an event to the Event hook; the connection's next packet is handled after it.
func (c *Conn) event(p packet, att [][]byte, arrived time.Time) {
	s := c.srv
	var ack Ack
	if p.id != noAck {
		var once sync.Once
		id := p.id
		ack = func(args ...any) {
			once.Do(func() {
				data, att, err := encodeArgs(args)
				if err != nil {
					s.log.Error("encoding an ack", "error", err)
					return
				}
				c.cl.sess.send(packetFrames(sioAck, c.nsp, id, data, att)...)
			})
		}
	}
	if p.unusable != "" {
		s.log.Debug("unusable event refused", "socket", c.id, "reason", p.unusable)
		if ack != nil {
			ack(map[string]any{"ok": false, "error": map[string]any{"code": "invalid_request", "message": p.unusable}})
		}
		return
	}
	name, args, err := eventArgs(p.payload, true, att)
	if err != nil {
		c.cl.sess.close("parse error", false)
		return
	}
	c.arrived = arrived
	s.safely("event "+name, func() { s.hooks.Event(c, name, args, ack) }, func() {
		if ack != nil {
			ack(map[string]any{"ok": false, "error": map[string]any{"code": "internal", "message": "an unexpected error occurred"}})
		}
	})
}

// disconnected leaves every room and runs the Disconnect hook, once.
func (c *Conn) disconnected(reason string) {
	c.once.Do(func() {
		s := c.srv
		c.gone.Store(true)
		s.roomsMu.Lock()
		for _, r := range slices.Clone(c.rooms) {
			c.leaveLocked(r)
		}
		s.roomsMu.Unlock()
		s.conns.Delete(c.id)
		s.count.Add(-1)
		s.safely("disconnect", func() { s.hooks.Disconnect(c, reason) }, nil)
	})
}

// safely runs fn, turning a panic into a log line and onPanic.
func (s *Server) safely(what string, fn func(), onPanic func()) {
	defer func() {
		if rec := recover(); rec != nil {
			s.log.Error("panic in hub handler", "handler", what, "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if onPanic != nil {
				onPanic()
			}
		}
	}()
	fn()
}

func unmarshalObject(p []byte, out *map[string]any) error {
	if err := json.Unmarshal(p, out); err != nil {
		return err
	}
	if *out == nil {
		*out = map[string]any{}
	}
	return nil
}

// members are a room's sockets on this node. Most rooms (a user's, an organization's on a small
// node) hold one socket: that one is kept without a map.
type members struct {
	one  *Conn
	many map[*Conn]struct{}
}

func (m *members) add(c *Conn) {
	switch {
	case m.many != nil:
		m.many[c] = struct{}{}
	case m.one == nil || m.one == c:
		m.one = c
	default:
		m.many = map[*Conn]struct{}{m.one: {}, c: {}}
		m.one = nil
	}
}

// remove takes c out and reports whether the room is empty.
func (m *members) remove(c *Conn) bool {
	if m.many != nil {
		delete(m.many, c)
		return len(m.many) == 0
	}
	if m.one == c {
		m.one = nil
	}
	return m.one == nil
}

func (m *members) len() int {
	if m.many != nil {
		return len(m.many)
	}
	if m.one != nil {
		return 1
	}
	return 0
}

// each calls fn for every socket.
func (m *members) each(fn func(*Conn)) {
	if m.many == nil {
		if m.one != nil {
			fn(m.one)
		}
		return
	}
	for c := range m.many {
		fn(c)
	}
}
