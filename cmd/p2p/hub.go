package main

import (
	"context"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/httpserver"
	"github.com/p2psandbox/hub/realtime"
)

// newHub starts this node of the realtime hub. Join authorizers are registered here as the
// domain areas that own topic and conversation rooms arrive.
func (a *app) newHub(ctx context.Context, d deps, auth realtime.Authenticator, msgs *messaging.Service, reg prometheus.Registerer) (*realtime.Hub, error) {
	h := a.cfg.Hub
	return realtime.New(ctx, realtime.Config{
		PingInterval:   h.PingInterval,
		PingTimeout:    h.PingTimeout,
		MaxPayload:     h.MaxPayload,
		ConnectTimeout: h.ConnectTimeout,
		CORSOrigins:    a.cfg.HTTP.CORSOrigins,
		EventRate:      h.EventRate,
		EventBurst:     h.EventBurst,
		TypingTTL:      h.TypingTTL,
		PresenceTTL:    h.PresenceTTL,
		DrainBatch:     h.DrainBatch,
		DrainInterval:  h.DrainInterval,
	}, realtime.Deps{
		Log:       a.log,
		Redis:     d.rdb,
		KeyPrefix: a.cfg.Redis.Prefix,
		Auth:      auth,
		Joins:     a.joinAuthorizers(msgs),
		Messaging: msgs,
		Registry:  reg,
	})
}

// joinAuthorizers maps the joinable room kinds to the domain's checks. Topic rooms arrive with
// the forum. In the test environment a "load" kind, open to any signed-in user, gives the load
// tool a room as large as it likes (a group conversation stops at ten people).
func (a *app) joinAuthorizers(msgs *messaging.Service) map[string]realtime.JoinAuthorizer {
	joins := map[string]realtime.JoinAuthorizer{realtime.KindConversation: msgs}
	if a.cfg.Env == config.EnvTest {
		joins[loadRoomKind] = realtime.JoinFunc(func(context.Context, identity.Principal, string) error { return nil })
	}
	return joins
}

const loadRoomKind = "load"

// withHub routes /socket.io/ to the hub and everything else to the REST router, so that no Gin
// middleware wraps the long-lived websocket and polling connections.
func withHub(hub *realtime.Hub, rest http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub.Handler())
	mux.Handle("/", rest)
	return mux
}

// serveWithHub serves srv until ctx ends; then it drains the hub (its sockets reconnect to other
// nodes in batches) before the HTTP server shuts down, and closes the hub last.
func (a *app) serveWithHub(ctx context.Context, hub *realtime.Hub, srv *http.Server, ln net.Listener) error {
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	done := make(chan error, 1)
	go func() { done <- httpserver.Serve(httpCtx, srv, ln, a.cfg.HTTP.ShutdownTimeout) }()
	select {
	case err := <-done:
		hub.Close()
		return err
	case <-ctx.Done():
	}
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.HTTP.ShutdownTimeout)
	if err := hub.Drain(drainCtx); err != nil {
		a.log.Warn("hub drain incomplete", "err", err)
	}
	cancel()
	hub.Close()
	stopHTTP()
	return <-done
}
