package app

import (
	"context"
	"log/slog"

	"github.com/p2psandbox/hub/app/identityapp"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/platform/config"
)

// SetModerator grants (on) or takes the platform's moderator role by address, for operators
// (`p2p moderators grant|revoke EMAIL`): with the auth core the nodes use (the embedded one is
// started for the time of the call), so the role reaches tokens in hand and open sockets at once.
func SetModerator(ctx context.Context, cfg config.Config, log *slog.Logger, email string, on bool) error {
	conns, err := Connect(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer conns.Close()
	core := identityapp.Core{Config: cfg, Log: log, Pool: conns.Pool, Redis: conns.Redis, Events: event.Discard{},
		CoreURI: cfg.Auth.ConnectionURI, CoreKey: firstKey(cfg)}
	if core.CoreURI == "" {
		uri, key, serve, err := embeddedCore(ctx, cfg, conns.Pool, log)
		if err != nil {
			return err
		}
		coreCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- serve(coreCtx) }()
		defer func() { stop(); <-done }()
		core.CoreURI, core.CoreKey = uri, key
	}
	id, err := identityapp.New(ctx, core)
	if err != nil {
		return err
	}
	_, err = id.Service.SetModeratorByEmail(ctx, email, on)
	return err
}
