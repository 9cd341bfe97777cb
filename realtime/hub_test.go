package realtime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/realtime/sioclient"
)

// fakeAuth accepts "ok:<user>:<org>[:<session>[:<role>[:<expiry, unix ms>]]]" tokens.
type fakeAuth struct{}

func (fakeAuth) PrincipalFromToken(_ context.Context, token string) (identity.Principal, error) {
	switch {
	case token == "expired":
		return identity.Principal{}, identity.ErrTokenExpired
	case strings.HasPrefix(token, "ok:"):
		parts := append(strings.Split(token, ":"), "", "", "")
		p := identity.Principal{UserID: parts[1], OrganizationID: parts[2], SessionHandle: parts[3]}
		if parts[4] != "" {
			p.Roles = []string{parts[4]}
		}
		if ms, err := strconv.ParseInt(parts[5], 10, 64); err == nil {
			p.ExpiresAt = time.UnixMilli(ms)
		}
		return p, nil
	default:
		return identity.Principal{}, identity.ErrUnauthenticated
	}
}

// topics lets anyone join topic "open", hides "secret", panics on "boom" and takes 800 ms to
// let anyone into "slow".
var topics = realtime.JoinFunc(func(_ context.Context, _ identity.Principal, id string) error {
	switch id {
	case "open", "t1", "t2":
		return nil
	case "secret":
		return errs.E(errs.NotFound, "no such topic")
	case "private":
		return errs.E(errs.Forbidden, "members only")
	case "boom":
		panic("authorizer exploded")
	case "slow":
		time.Sleep(800 * time.Millisecond)
		return nil
	}
	return errs.E(errs.NotFound, "no such topic")
})

// cluster is a set of hub nodes sharing one Redis prefix.
type cluster struct {
	t      *testing.T
	rdb    *goredis.Client
	prefix string
	// setup, when set, adds to each node before it serves (events, room kinds, presence rules).
	setup func(*realtime.Hub)
}

func newCluster(t *testing.T) *cluster {
	rdb, prefix := redistest.New(t)
	return &cluster{t: t, rdb: rdb, prefix: prefix}
}

type node struct {
	hub *realtime.Hub
	url string
	reg *prometheus.Registry
	srv *httptest.Server
}

func baseConfig() realtime.Config {
	return realtime.Config{
		PingInterval:   25 * time.Second,
		PingTimeout:    20 * time.Second,
		MaxPayload:     1 << 20,
		ConnectTimeout: 3 * time.Second,
		CORSOrigins:    []string{"http://app.example"},
		EventRate:      100,
		EventBurst:     100,
		TypingTTL:      time.Second,
		PresenceTTL:    60 * time.Second,
		DrainBatch:     2,
		DrainInterval:  10 * time.Millisecond,
	}
}

func (cl *cluster) node(cfg realtime.Config) *node {
	t := cl.t
	reg := prometheus.NewRegistry()
	h, err := realtime.New(context.Background(), cfg, realtime.Deps{
		Redis:     cl.rdb,
		KeyPrefix: cl.prefix,
		Auth:      fakeAuth{},
		Registry:  reg,
	})
	require.NoError(t, err)
	h.AllowJoin(realtime.KindTopic, topics)
	if cl.setup != nil {
		cl.setup(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", h.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return &node{hub: h, url: srv.URL, reg: reg, srv: srv}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, n *node, token string, auth ...map[string]any) *sioclient.Client {
	t.Helper()
	a := map[string]any{"token": token}
	for _, m := range auth {
		for k, v := range m {
			a[k] = v
		}
	}
	c, err := sioclient.Dial(ctxT(t), n.url, sioclient.Options{Auth: a})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Abort() })
	return c
}

// call emits with an ack and returns the ack object.
func call(t *testing.T, c *sioclient.Client, event string, args ...any) map[string]any {
	t.Helper()
	res, err := c.EmitWithAck(ctxT(t), event, args...)
	require.NoError(t, err)
	require.Len(t, res, 1)
	m, ok := res[0].(map[string]any)
	require.True(t, ok, "ack is an object: %v", res)
	return m
}

func errCode(ack map[string]any) string {
	e, _ := ack["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func next(t *testing.T, c *sioclient.Client, event string) map[string]any {
	t.Helper()
	e, err := c.Next(ctxT(t), event)
	require.NoError(t, err, "waiting for %s", event)
	require.NotEmpty(t, e.Args)
	m, _ := e.Args[0].(map[string]any)
	return m
}

func TestHandshakeAuth(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	cases := []struct {
		name   string
		auth   map[string]any
		cookie string
		code   string
	}{
		{"token accepted", map[string]any{"token": "ok:u1:o1"}, "", ""},
		{"cookie accepted", nil, "ok:u1:o1", ""},
		{"no token", map[string]any{}, "", "unauthorized"},
		{"bad token", map[string]any{"token": "forged"}, "", "unauthorized"},
		{"expired token", map[string]any{"token": "expired"}, "", "token_expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.cookie != "" {
				h.Set("Cookie", realtime.AccessTokenCookie+"="+tc.cookie)
			}
			c, err := sioclient.Dial(ctxT(t), n.url, sioclient.Options{Auth: tc.auth, Header: h})
			if tc.code == "" {
				require.NoError(t, err)
				ack := call(t, c, realtime.EventEcho, "hi")
				assert.Equal(t, map[string]any{"ok": true, "data": "hi"}, ack)
				_ = c.Close()
				return
			}
			var ce *sioclient.ConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code())
		})
	}
}

func TestEventsValidatedAndAuthorized(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	c := dial(t, n, "ok:u1:o1")
	cases := []struct {
		name  string
		event string
		args  []any
		code  string // "" for ok
	}{
		{"join an open topic", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:open"}}, ""},
		{"join again is idempotent", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:open"}}, ""},
		{"hidden topic", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:secret"}}, "not_found"},
		{"forbidden topic", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:private"}}, "forbidden"},
		{"kind without authorizer", realtime.EventRoomJoin, []any{map[string]any{"room": "conversation:c1"}}, "validation_failed"},
		{"automatic rooms", realtime.EventRoomJoin, []any{map[string]any{"room": "user:u2"}}, "forbidden"},
		{"presence rooms", realtime.EventRoomJoin, []any{map[string]any{"room": "presence:u2"}}, "forbidden"},
		{"malformed room", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:a b"}}, "validation_failed"},
		{"no payload", realtime.EventRoomJoin, nil, "invalid_request"},
		{"payload of the wrong type", realtime.EventRoomJoin, []any{"topic:open"}, "invalid_request"},
		{"unknown field", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:open", "x": 1}}, "invalid_request"},
		{"wrong field type", realtime.EventRoomJoin, []any{map[string]any{"room": 7}}, "invalid_request"},
		{"unknown event", "nope:nothing", []any{map[string]any{}}, "invalid_request"},
		{"leave", realtime.EventRoomLeave, []any{map[string]any{"room": "topic:open"}}, ""},
		{"leave the user room", realtime.EventRoomLeave, []any{map[string]any{"room": "user:u1"}}, "forbidden"},
		{"typing outside a joined room", realtime.EventTypingStart, []any{map[string]any{"room": "topic:open"}}, "forbidden"},
		{"typing in a user room", realtime.EventTypingStart, []any{map[string]any{"room": "user:u1"}}, "validation_failed"},
		{"presence for nobody", realtime.EventPresenceSubscribe, []any{map[string]any{"userIds": []any{}}}, "validation_failed"},
		{"presence status", realtime.EventPresenceSet, []any{map[string]any{"status": "busy"}}, "validation_failed"},
		{"a panicking authorizer", realtime.EventRoomJoin, []any{map[string]any{"room": "topic:boom"}}, "internal"},
		{"and the socket lives on", realtime.EventEcho, []any{"still here"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ack := call(t, c, tc.event, tc.args...)
			if tc.code == "" {
				assert.Equal(t, true, ack["ok"], "%v", ack)
				return
			}
			assert.Equal(t, false, ack["ok"])
			assert.Equal(t, tc.code, errCode(ack), "%v", ack)
			assert.NotEmpty(t, ack["error"].(map[string]any)["message"])
		})
	}
}

func TestRateLimit(t *testing.T) {
	cfg := baseConfig()
	cfg.EventRate, cfg.EventBurst = 1, 3
	n := newCluster(t).node(cfg)
	c := dial(t, n, "ok:u1:o1")
	var codes []string
	for range 5 {
		codes = append(codes, errCode(call(t, c, realtime.EventEcho, 1)))
	}
	assert.Equal(t, []string{"", "", "", "rate_limited", "rate_limited"}, codes)
	ack := call(t, c, realtime.EventEcho, 1)
	assert.Greater(t, ack["error"].(map[string]any)["retryAfterMs"], float64(0))
}

// TestRateLimitCountsArrivals: events are counted when the client sent them, not when the hub
// gets to them, so a client within its rate is not refused because an earlier event of its
// socket took long.
func TestRateLimitCountsArrivals(t *testing.T) {
	cfg := baseConfig()
	cfg.EventRate, cfg.EventBurst = 10, 1
	n := newCluster(t).node(cfg)
	c := dial(t, n, "ok:u1:o1")
	emit := func(event string, arg any) chan []any {
		out := make(chan []any, 1)
		go func() {
			res, _ := c.EmitWithAck(ctxT(t), event, arg)
			out <- res
		}()
		return out
	}
	joined := emit(realtime.EventRoomJoin, map[string]any{"room": "topic:slow"})
	var echoes []chan []any
	for i := range 3 { // 5 a second, within the rate, all while the join is still being handled
		time.Sleep(200 * time.Millisecond)
		echoes = append(echoes, emit(realtime.EventEcho, i))
	}
	for i, ch := range append([]chan []any{joined}, echoes...) {
		res := <-ch
		require.Len(t, res, 1, "event %d", i)
		ack, _ := res[0].(map[string]any)
		assert.Equal(t, true, ack["ok"], "event %d: %v", i, ack)
	}
}

func TestEmitterReachesRoomsOnEveryNode(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	ca := dial(t, a, "ok:u1:o1")
	cb := dial(t, b, "ok:u2:o1")
	for _, c := range []*sioclient.Client{ca, cb} {
		require.Equal(t, true, call(t, c, realtime.EventRoomJoin, map[string]any{"room": "topic:t1"})["ok"])
	}
	em := realtime.NewEmitter(context.Background(), cl.rdb, cl.prefix)
	type post struct {
		TopicID string `json:"topicId"`
		Body    string `json:"body"`
	}
	require.NoError(t, em.Emit(context.Background(), realtime.TopicRoom("t1"), "topic:post:new", post{TopicID: "t1", Body: "hello"}))
	for _, c := range []*sioclient.Client{ca, cb} {
		assert.Equal(t, map[string]any{"topicId": "t1", "body": "hello"}, next(t, c, "topic:post:new"))
	}

	// A node's own Emit reaches the other node's sockets too; the org room was joined on connect.
	require.NoError(t, a.hub.Emit(context.Background(), realtime.OrgRoom("o1"), "org:updated", map[string]any{"n": 1}))
	assert.Equal(t, map[string]any{"n": float64(1)}, next(t, cb, "org:updated"))
	assert.Equal(t, map[string]any{"n": float64(1)}, next(t, ca, "org:updated"))
	require.NoError(t, em.Emit(context.Background(), realtime.UserRoom("u2"), "notification:new", map[string]any{"id": "x"}))
	assert.Equal(t, map[string]any{"id": "x"}, next(t, cb, "notification:new"))
}

func TestPresenceAcrossNodes(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	watcher := dial(t, a, "ok:w:o1")
	ack := call(t, watcher, realtime.EventPresenceSubscribe, map[string]any{"userIds": []any{"u1", "u1"}})
	require.Equal(t, true, ack["ok"], "%v", ack)
	users := ack["data"].(map[string]any)["users"].([]any)
	require.Len(t, users, 1)
	assert.Equal(t, "offline", users[0].(map[string]any)["status"])

	tab1 := dial(t, b, "ok:u1:o1")
	assert.Equal(t, "online", next(t, watcher, realtime.EventPresenceUpdate)["status"])
	tab2 := dial(t, a, "ok:u1:o1")
	// A socket's first event is handled after its connect work (presence included): wait for it,
	// or tab1 could go away before tab2 counts and the watcher would see away, online, away.
	call(t, tab2, realtime.EventEcho, nil)
	require.Equal(t, true, call(t, tab1, realtime.EventPresenceSet, map[string]any{"status": "away"})["ok"])
	require.Equal(t, true, call(t, tab2, realtime.EventPresenceSet, map[string]any{"status": "away"})["ok"])
	assert.Equal(t, "away", next(t, watcher, realtime.EventPresenceUpdate)["status"], "away once every tab is away")
	require.NoError(t, tab1.Close())
	require.NoError(t, tab2.Close())
	up := next(t, watcher, realtime.EventPresenceUpdate)
	assert.Equal(t, "offline", up["status"])
	assert.NotEmpty(t, up["lastSeen"])

	ack = call(t, watcher, realtime.EventPresenceUnsubscribe, map[string]any{"userIds": []any{"u1"}})
	assert.Equal(t, true, ack["ok"])
}

func TestTypingRelayAndExpiry(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	typist := dial(t, a, "ok:u1:o1")
	reader := dial(t, b, "ok:u2:o1")
	for _, c := range []*sioclient.Client{typist, reader} {
		require.Equal(t, true, call(t, c, realtime.EventRoomJoin, map[string]any{"room": "topic:t2"})["ok"])
	}
	room := map[string]any{"room": "topic:t2"}
	require.Equal(t, true, call(t, typist, realtime.EventTypingStart, room)["ok"])
	assert.Equal(t, map[string]any{"room": "topic:t2", "userId": "u1"}, next(t, reader, realtime.EventTypingStart))
	require.Equal(t, true, call(t, typist, realtime.EventTypingStop, room)["ok"])
	assert.Equal(t, map[string]any{"room": "topic:t2", "userId": "u1", "expired": false}, next(t, reader, realtime.EventTypingStop))

	// Without a refresh the server ends it after TypingTTL (1 s here).
	require.Equal(t, true, call(t, typist, realtime.EventTypingStart, room)["ok"])
	next(t, reader, realtime.EventTypingStart)
	assert.Equal(t, true, next(t, reader, realtime.EventTypingStop)["expired"])

	// The sender hears none of its own typing events: its next typing event would be the first.
	require.NoError(t, a.hub.Emit(context.Background(), realtime.UserRoom("u1"), "marker", nil))
	e, err := typist.Next(ctxT(t), "")
	require.NoError(t, err)
	assert.Equal(t, "marker", e.Name)
}

func TestBinaryEcho(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	c := dial(t, n, "ok:u1:o1")
	blob := []byte{0, 1, 2, 255}
	ack := call(t, c, realtime.EventEcho, map[string]any{"blob": blob, "name": "x"})
	assert.Equal(t, map[string]any{"ok": true, "data": map[string]any{"blob": blob, "name": "x"}}, ack)
}

func TestRoomsComeBackAfterReconnect(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	resume := map[string]any{"resume": "tab-0123456789"}
	c := dial(t, a, "ok:u1:o1", resume)
	require.Equal(t, true, call(t, c, realtime.EventRoomJoin, map[string]any{"room": "topic:t1"})["ok"])
	require.Equal(t, true, call(t, c, realtime.EventRoomJoin, map[string]any{"room": "topic:t2"})["ok"])
	require.Equal(t, true, call(t, c, realtime.EventRoomLeave, map[string]any{"room": "topic:t2"})["ok"])
	require.NoError(t, c.Abort())

	again := dial(t, b, "ok:u1:o1", resume)
	assert.Equal(t, map[string]any{"rooms": []any{"topic:t1"}}, next(t, again, realtime.EventRoomRestored))
	require.NoError(t, a.hub.Emit(context.Background(), realtime.TopicRoom("t1"), "topic:post:new", map[string]any{"id": "p1"}))
	assert.Equal(t, "p1", next(t, again, "topic:post:new")["id"])

	// Another user presenting the same resume value gets nothing of u1's: the first thing u2's
	// socket hears is a marker sent to u2's own room from the other node. The marker is sent
	// again until it arrives, because on busy cores the socket can join its user room on b
	// after the first one crossed Redis (CI lost it once that way).
	other := dial(t, b, "ok:u2:o1", resume)
	ctx := ctxT(t)
	for {
		require.NoError(t, a.hub.Emit(context.Background(), realtime.UserRoom("u2"), "marker", nil))
		wait, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		e, err := other.Next(wait, "")
		cancel()
		if err == nil {
			assert.Equal(t, "marker", e.Name)
			return
		}
		require.NoError(t, ctx.Err(), "no marker reached u2")
	}
}

func TestDrainClosesInBatchesAndRefusesNewSockets(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	var clients []*sioclient.Client
	for range 5 {
		clients = append(clients, dial(t, n, "ok:u1:o1"))
	}
	require.NoError(t, n.hub.Drain(ctxT(t)))
	for _, c := range clients {
		select {
		case <-c.Done():
		case <-ctxT(t).Done():
			t.Fatal("a socket outlived the drain")
		}
	}
	_, err := sioclient.Dial(ctxT(t), n.url, sioclient.Options{Auth: map[string]any{"token": "ok:u1:o1"}})
	require.Error(t, err, "new handshakes are refused at the HTTP level")
	var ce *sioclient.ConnectError
	assert.NotErrorAs(t, err, &ce)
}

func TestMetrics(t *testing.T) {
	n := newCluster(t).node(baseConfig())
	c := dial(t, n, "ok:u1:o1")
	call(t, c, realtime.EventEcho, 1)
	call(t, c, "made:up", 1)
	_, _ = sioclient.Dial(ctxT(t), n.url, sioclient.Options{Auth: map[string]any{"token": "expired"}})
	require.NoError(t, dial(t, n, "ok:u2:o1").Close())
	dropped := dial(t, n, "ok:u3:o1")
	require.NoError(t, dropped.Abort())
	gather := func() map[string]float64 {
		families, err := n.reg.Gather()
		require.NoError(t, err)
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				name := f.GetName()
				for _, l := range m.GetLabel() {
					name += "," + l.GetValue()
				}
				switch {
				case m.Gauge != nil:
					got[name] = m.Gauge.GetValue()
				case m.Counter != nil:
					got[name] = m.Counter.GetValue()
				case m.Histogram != nil:
					got[name+",count"] = float64(m.Histogram.GetSampleCount())
				}
			}
		}
		return got
	}
	// The server learns of the two departures after the clients have gone. Their reasons depend
	// on which the server reads first, the goodbye or the closed transport, but are never other.
	var got map[string]float64
	require.Eventually(t, func() bool {
		got = gather()
		return got["hub_disconnects_total,client namespace disconnect"]+got["hub_disconnects_total,transport close"] == 2
	}, 5*time.Second, 10*time.Millisecond)
	assert.NotContains(t, got, "hub_disconnects_total,other")
	assert.Equal(t, 1.0, got["hub_connected_sockets"])
	assert.Equal(t, 2.0, got["hub_rooms"], "user:u1 and org:o1")
	assert.Equal(t, 1.0, got["hub_events_received_total,hub:echo"])
	assert.Equal(t, 1.0, got["hub_events_received_total,other"])
	assert.Equal(t, 1.0, got["hub_handshakes_refused_total,token_expired"])
	assert.Equal(t, 3.0, got["hub_handshake_duration_seconds,ok,count"], "u1, u2 and u3 authenticated")
	assert.Equal(t, 1.0, got["hub_handshake_duration_seconds,refused,count"])
	assert.Contains(t, got, "hub_adapter_errors_total")
}

// TestManySocketsConcurrently connects, talks and leaves from many goroutines at once, for the race
// detector and the disconnect guard.
func TestManySocketsConcurrently(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := a
			if i%2 == 1 {
				n = b
			}
			c, err := sioclient.Dial(ctxT(t), n.url, sioclient.Options{Auth: map[string]any{"token": "ok:u1:o1"}})
			if !assert.NoError(t, err) {
				return
			}
			res, err := c.EmitWithAck(ctxT(t), realtime.EventRoomJoin, map[string]any{"room": "topic:t1"})
			assert.NoError(t, err)
			assert.Len(t, res, 1)
			if i%3 == 0 {
				_ = c.Abort()
			} else {
				_ = c.Close()
			}
		}()
	}
	wg.Wait()
	watcher := dial(t, a, "ok:w:o1")
	// Every tab of u1 is gone once the disconnects are processed: wait for that state.
	require.Eventually(t, func() bool {
		ack := call(t, watcher, realtime.EventPresenceSubscribe, map[string]any{"userIds": []any{"u1"}})
		return ack["data"].(map[string]any)["users"].([]any)[0].(map[string]any)["status"] == "offline"
	}, 10*time.Second, 50*time.Millisecond)
}

// Defect: a broadcast to several rooms at once reached only the sending node's sockets (the Redis
// adapter ignores a message published without a room in its channel), so ToUsers emits room by
// room.
func TestEmitToUsersReachesEveryNode(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.node(baseConfig()), cl.node(baseConfig())
	u1a, u1b := dial(t, a, "ok:u1:o1"), dial(t, b, "ok:u1:o1")
	u2, u3 := dial(t, b, "ok:u2:o2"), dial(t, a, "ok:u3:o3")
	to := realtime.ToUsers{B: a.hub}

	// u1 named twice: each socket still gets the event once.
	require.NoError(t, to.EmitToUsers(context.Background(), []string{"u1", "u2", "u1"}, "x:new", map[string]any{"n": 1}))
	for _, c := range []*sioclient.Client{u1a, u1b, u2} {
		assert.Equal(t, map[string]any{"n": float64(1)}, next(t, c, "x:new"))
	}
	// The next event reaches a socket first if nothing more of the first was on its way to it.
	require.NoError(t, to.EmitToUsers(context.Background(), []string{"u3", "u1"}, "x:new", map[string]any{"n": 2}))
	for _, c := range []*sioclient.Client{u3, u1a, u1b} {
		assert.Equal(t, map[string]any{"n": float64(2)}, next(t, c, "x:new"))
	}
}
