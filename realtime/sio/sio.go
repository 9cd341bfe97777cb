// Package sio is the one place that knows the Socket.IO library (github.com/zishang520/socket.io).
// It turns the library's callbacks into a handful of hooks and small types (Conn, Server, Emitter)
// so that the hub's rules (auth, rooms, presence, typing) never see a library type and the
// transport can be tuned or replaced without touching them.
//
// It also carries our guards against the library's measured defects:
//   - a lost namespace CONNECT: ConnectTimeout closes the stuck connection so the client retries;
//   - "disconnect" firing twice: Conn runs the Disconnect hook once;
//   - binary arguments relayed across Redis arriving as {}: incoming buffers become []byte before
//     any hook sees them, and outgoing payloads are normalised to plain maps, slices and []byte;
//   - cross-origin websocket upgrades refused: CORS is configured from the REST origins;
//   - net/http's buffers pinned by upgraded connections: the ResponseWriter drops them on Hijack;
//   - well-formed events that the library's decoder refuses (numbers beyond float64, deep nesting,
//     long ack ids) closing the connection: they are answered with an error ack (guard.go).
package sio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	redisadapter "github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Options configure the server.
type Options struct {
	PingInterval   time.Duration
	PingTimeout    time.Duration
	ConnectTimeout time.Duration // close connections whose namespace CONNECT (and auth) did not finish
	MaxPayload     int
	CORSOrigins    []string
	// Redis carries broadcasts between nodes (the classic pub/sub adapter). Nil keeps rooms in
	// this process only.
	Redis goredis.UniversalClient
	// Channel is the prefix of the adapter's pub/sub channels; the Emitter must use the same.
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

// Ack answers a client event that asked for an acknowledgement. It is nil when the client did not.
type Ack func(payload any)

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

// Server is a Socket.IO server bound to the root namespace.
type Server struct {
	io        *socket.Server
	nsp       socket.Namespace
	handler   http.Handler
	hooks     Hooks
	log       *slog.Logger
	authWait  time.Duration
	accepting atomic.Bool
	conns     sync.Map // socket id → *Conn
	count     atomic.Int64
	cancel    context.CancelFunc
	closing   atomic.Bool
	gates     sync.Map // engine session id → *gate
	adapterOK bool
	fan       *fanout // nil without Redis
	handlers  *runner
	onErr     atomic.Pointer[func(error)]
	// marker names the events that stand for packets the guard refused (guardPacket). It is
	// random, so that no client can send one.
	marker string
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
	s := &Server{hooks: hooks, log: o.Log, marker: "sio:unusable:" + uuid.NewString()}
	s.accepting.Store(true)
	// Auth must finish well inside ConnectTimeout, which also bounds the handshake: a slow auth
	// would otherwise be cut by the library's timer with no connect_error at all.
	s.authWait = o.ConnectTimeout * 2 / 3

	opts := socket.DefaultServerOptions()
	opts.SetPingInterval(o.PingInterval)
	opts.SetPingTimeout(o.PingTimeout)
	opts.SetMaxHttpBufferSize(int64(o.MaxPayload))
	opts.SetConnectTimeout(o.ConnectTimeout)
	opts.SetServeClient(false)
	opts.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, engine.WebSocket))
	opts.SetAllowUpgrades(true)
	opts.SetCors(&types.Cors{
		Origin:      append([]string(nil), o.CORSOrigins...),
		Credentials: true, // the sAccessToken cookie
		Methods:     []string{"GET", "POST", "OPTIONS"},
	})
	opts.SetAllowRequest(func(*types.HttpContext) error {
		if !s.accepting.Load() {
			return ErrDraining
		}
		return nil
	})

	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.handlers = newRunner(rctx, handlerGoroutines)
	if o.Redis != nil {
		rc := redisadapter.NewRedisClient(rctx, o.Redis)
		_ = rc.On("error", func(args ...any) {
			err, _ := first(args).(error)
			if err == nil {
				err = fmt.Errorf("redis adapter: %v", first(args))
			}
			s.reportErr(err)
		})
		ao := adapter.DefaultRedisAdapterOptions()
		ao.SetKey(o.Channel)
		// The classic adapter: the sharded and streams adapters of this release turn []byte into
		// base64 on the way through Redis.
		opts.SetAdapter(&adapter.RedisAdapterBuilder{Redis: rc, Opts: ao})
		s.adapterOK = true
	}

	s.io = socket.NewServer(nil, opts)
	s.nsp = s.io.Sockets()
	if o.Redis != nil {
		fan, err := startFanout(rctx, o.Redis, o.Channel+"-rooms#", s.deliverLocal, s.reportErr)
		if err != nil {
			cancel()
			return nil, err
		}
		s.fan = fan
	}
	s.io.Use(s.middleware)
	_ = s.io.On("connection", s.onConnection)
	s.handler = s.io.ServeHandler(nil)
	// Our engine "connection" listener must run before the library's, so that our "data" listener
	// on each connection runs before the library's too (see holdUntilConnected).
	eng := s.io.Engine()
	prev := eng.Listeners("connection")
	eng.RemoveAllListeners("connection")
	_ = eng.On("connection", s.onEngineConnection)
	_ = eng.On("connection", prev...)
	return s, nil
}

// OnAdapterError registers fn for errors of the Redis adapter and of the fan-out (publish or
// subscribe failures).
func (s *Server) OnAdapterError(fn func(error)) { s.onErr.Store(&fn) }

func (s *Server) reportErr(err error) {
	// Closing cancels the adapter's and the fan-out's Redis calls: those are the shutdown, not
	// failures to report.
	if s.closing.Load() && errors.Is(err, context.Canceled) {
		return
	}
	if fn := s.onErr.Load(); fn != nil {
		(*fn)(err)
	}
}

// Handler serves Engine.IO under the path it is mounted at (/socket.io/).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The library builds its responses on these headers (the polling ones, the refusals) and
		// hands them to the websocket upgrade, which writes them in its 101.
		setSecurityHeaders(w.Header())
		if !isUpgrade(r) {
			s.handler.ServeHTTP(w, r)
			return
		}
		rw := &releasingWriter{w: w}
		if r.URL.Query().Get("sid") == "" {
			// A new websocket session: hold the connection's reads until the library has bound
			// the session to its socket.io client (that happens before ServeHTTP returns). Read
			// earlier, the client's namespace CONNECT finds no listener and is lost.
			rw.gate = make(chan struct{})
			defer close(rw.gate)
		}
		s.handler.ServeHTTP(rw, r)
	})
}

// SetAccepting opens or closes the door to new connections; existing ones are not touched.
func (s *Server) SetAccepting(ok bool) { s.accepting.Store(ok) }

// Count is the number of connected sockets on this node.
func (s *Server) Count() int { return int(s.count.Load()) }

// RoomCount is the number of rooms with a member on this node, not counting each socket's own
// room.
func (s *Server) RoomCount() int {
	n := s.nsp.Adapter().Rooms().Len() - int(s.count.Load())
	return max(n, 0)
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
	return s.nsp.To(socket.Room(room)).Emit(event, Normalize(payload))
}

// BroadcastExcept sends event to every socket in room on every node except the socket exceptID.
func (s *Server) BroadcastExcept(room, exceptID, event string, payload any) error {
	return s.nsp.To(socket.Room(room)).Except(socket.Room(exceptID)).Emit(event, Normalize(payload))
}

// Close disconnects every socket and unsubscribes from Redis.
func (s *Server) Close() {
	s.accepting.Store(false)
	s.closing.Store(true)
	done := make(chan struct{})
	s.io.Close(func(error) { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	s.cancel()
}

// middleware authenticates the namespace CONNECT.
func (s *Server) middleware(so *socket.Socket, next func(*socket.ExtendedError)) {
	defer func() {
		if rec := recover(); rec != nil {
			s.log.Error("panic in handshake", "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			next(types.NewExtendedError("internal", map[string]any{"code": "internal"}))
		}
	}()
	if !s.accepting.Load() {
		// Close the transport instead of refusing: a refused CONNECT makes socket.io-client give
		// up, a closed transport makes it reconnect, through the balancer, to another node.
		so.Conn().Close(false)
		next(types.NewExtendedError(ErrDraining.Error(), map[string]any{"code": "unavailable"}))
		return
	}
	g := s.gate(so)
	g.arm()
	hs := so.Handshake()
	h := Handshake{Auth: hs.Auth, Header: so.Request().Request().Header.Clone(), Address: hs.Address}
	ctx, cancel := context.WithTimeout(context.Background(), s.authWait)
	defer cancel()
	data, err := s.hooks.Authenticate(ctx, h)
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			next(types.NewExtendedError(r.Message, r.Data))
		} else {
			next(types.NewExtendedError(err.Error(), nil))
		}
		g.release()
		return
	}
	so.SetData(data)
	next(nil)
}

// gate holds a connection's incoming packets while its namespace CONNECT is being completed.
//
// The library answers CONNECT before it records the socket under its namespace, on another
// goroutine; a client that emits as soon as it is connected (socket.io-client does, with its
// buffered events) gets its first packet refused as "invalid state" and its connection closed.
// Our "data" listener runs before the library's and waits, on that connection's reading goroutine,
// until the connect has completed or failed.
type gate struct {
	marker  string // Server.marker
	mu      sync.Mutex
	pending chan struct{}
	limit   time.Duration
	// arrivals are when the event packets read from the connection and not yet handled arrived,
	// oldest first: events wait on the socket's queue, and a rate limit must count them as the
	// client sent them, not as the server got round to them.
	arrivals []time.Time
}

// maxArrivals bounds the arrival times kept for one connection (events for a namespace the
// server does not serve are read but never handled).
const maxArrivals = 1024

// onData runs on the connection's reading goroutine for every message it reads, before the
// library decodes it. It also rewrites, in place, a packet that the library's decoder would
// refuse although it is well formed (see guardPacket): the library's own "data" listener gets
// the same buffer after this one.
func (g *gate) onData(args ...any) {
	if b, ok := first(args).(*types.StringBuffer); ok {
		p := b.Bytes()
		if q := guardPacket(p, g.marker); q != nil {
			b.Reset()
			_, _ = b.Write(q)
			p = q
		}
		// Socket.IO packet types 2 (EVENT) and 5 (BINARY_EVENT) are the events the hooks see.
		if len(p) > 0 && (p[0] == '2' || p[0] == '5') {
			g.mu.Lock()
			if len(g.arrivals) < maxArrivals {
				g.arrivals = append(g.arrivals, time.Now())
			}
			g.mu.Unlock()
		}
	}
	g.wait()
}

// arrived is when the event now being handled was read, or now if that is not known.
func (g *gate) arrived() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.arrivals) == 0 {
		return time.Now()
	}
	t := g.arrivals[0]
	g.arrivals = g.arrivals[1:]
	return t
}

func (g *gate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == nil {
		g.pending = make(chan struct{})
	}
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending != nil {
		close(g.pending)
		g.pending = nil
	}
}

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.pending
	g.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(g.limit)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

func (s *Server) onEngineConnection(args ...any) {
	conn, ok := first(args).(engine.Socket)
	if !ok {
		return
	}
	g := &gate{limit: s.authWait + time.Second, marker: s.marker}
	s.gates.Store(conn.Id(), g)
	_ = conn.On("data", g.onData)
	_ = conn.Once("close", func(...any) {
		g.release()
		s.gates.Delete(conn.Id())
	})
}

func (s *Server) gate(so *socket.Socket) *gate {
	if v, ok := s.gates.Load(so.Conn().Id()); ok {
		return v.(*gate)
	}
	return &gate{limit: s.authWait}
}

func (s *Server) onConnection(args ...any) {
	so, ok := first(args).(*socket.Socket)
	if !ok {
		return
	}
	g := s.gate(so)
	c := &Conn{so: so, srv: s, id: string(so.Id())}
	defer g.release()
	s.conns.Store(c.id, c)
	s.count.Add(1)
	_ = so.On("disconnect", func(args ...any) {
		reason, _ := first(args).(string)
		c.disconnected(reason)
	})
	if !so.Connected() {
		// The library emits its connection event and may close the socket before the listener
		// above exists (a drain or a client gone at once): without this the socket would stay
		// listed in Conns for good.
		c.disconnected("transport close")
		return
	}
	// Binary arguments arrive as library buffers; hand them on as []byte (see the package doc),
	// then dispatch here rather than through per-event listeners so that unknown events can be
	// answered too. Middlewares run on the socket's queue, so events stay ordered.
	so.Use(func(event []any, _ func(error)) {
		if len(event) == 0 {
			return
		}
		name, _ := event[0].(string)
		args := event[1:]
		var ack Ack
		if n := len(args); n > 0 {
			if fn, ok := args[n-1].(socket.Ack); ok {
				args = args[:n-1]
				var once sync.Once
				ack = func(payload any) {
					once.Do(func() { fn([]any{forSocket(payload)}, nil) })
				}
			}
		}
		arrived := g.arrived() // taken for every event, to keep the arrivals in step
		if name == s.marker {
			// A packet the guard refused: its only argument is why. No hook sees it.
			reason, _ := first(args).(string)
			s.log.Debug("unusable event refused", "socket", c.id, "reason", reason)
			if ack != nil {
				ack(map[string]any{"ok": false, "error": map[string]any{"code": "invalid_request", "message": reason}})
			}
			return
		}
		for i := range args {
			args[i] = fromWire(args[i])
		}
		c.arrived = arrived
		s.handlers.run(func() {
			s.safely("event "+name, func() { s.hooks.Event(c, name, args, ack) }, func() {
				if ack != nil {
					ack(map[string]any{"ok": false, "error": map[string]any{"code": "internal", "message": "an unexpected error occurred"}})
				}
			})
		})
	})
	s.safely("connect", func() { s.hooks.Connect(c) }, func() { c.Close() })
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

// Conn is one connected socket.
type Conn struct {
	id      string
	so      *socket.Socket
	srv     *Server
	once    sync.Once
	state   atomic.Value
	arrived time.Time // of the event being handled; events are handled one at a time
}

// EventArrived is when the event being handled was read from the connection. Valid inside the
// Event hook.
func (c *Conn) EventArrived() time.Time { return c.arrived }

// ID is the socket id (public; not the Engine.IO session id).
func (c *Conn) ID() string { return c.id }

// Data is what Authenticate returned.
func (c *Conn) Data() any { return c.so.Data() }

// Auth is the auth object the client sent with its CONNECT.
func (c *Conn) Auth() map[string]any { return c.so.Handshake().Auth }

// SetState and State hold the hub's per-connection state.
func (c *Conn) SetState(v any) { c.state.Store(v) }

// State returns what SetState stored, or nil.
func (c *Conn) State() any { return c.state.Load() }

// Transport names the current transport: "polling" or "websocket".
func (c *Conn) Transport() string { return c.so.Conn().Transport().Name() }

// Join adds the socket to rooms (on this node; broadcasts reach it from every node).
func (c *Conn) Join(rooms ...string) {
	rs := make([]socket.Room, len(rooms))
	for i, r := range rooms {
		rs[i] = socket.Room(r)
	}
	c.so.Join(rs...)
}

// Leave removes the socket from room.
func (c *Conn) Leave(room string) { c.so.Leave(socket.Room(room)) }

// In reports whether the socket is in room.
func (c *Conn) In(room string) bool { return c.so.Rooms().Has(socket.Room(room)) }

// Rooms lists the socket's rooms, without its own id room.
func (c *Conn) Rooms() []string {
	var out []string
	for _, r := range c.so.Rooms().Keys() {
		if string(r) != c.ID() {
			out = append(out, string(r))
		}
	}
	return out
}

// Emit sends event to this socket only.
func (c *Conn) Emit(event string, payload any) error {
	return c.so.Emit(event, Normalize(payload))
}

// Close closes the transport without a Socket.IO DISCONNECT packet, so that socket.io-client
// reconnects on its own (a DISCONNECT would make it stay away).
func (c *Conn) Close() { c.so.Conn().Close(false) }

// disconnectGrace is how long a client told to disconnect has to close its connection before
// the server closes it.
const disconnectGrace = 2 * time.Second

// Disconnect ends the socket with a Socket.IO DISCONNECT packet, after what was emitted to it
// before: socket.io-client reports "io server disconnect" and does not reconnect on its own.
// The library's Disconnect(true) closes the connection in the same step, which can overtake the
// queued packet (the client then saw "transport close" and reconnected); so the packet goes
// alone, the client closes its connection on it, and one that does not is closed after a grace.
func (c *Conn) Disconnect() {
	c.so.Disconnect(false)
	conn := c.so.Conn()
	time.AfterFunc(disconnectGrace, func() {
		if conn.ReadyState() == "open" {
			conn.Close(false)
		}
	})
}

// disconnected runs the Disconnect hook once: the library may report a disconnect twice.
func (c *Conn) disconnected(reason string) {
	c.once.Do(func() {
		c.srv.conns.Delete(c.ID())
		c.srv.count.Add(-1)
		c.srv.safely("disconnect", func() { c.srv.hooks.Disconnect(c, reason) }, nil)
	})
}

func first(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}
