package main

import (
	"fmt"
	"net"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/app"
	"github.com/p2psandbox/hub/platform/authcore"
)

// authcoreCmd runs the Go core on its own, so that several serve nodes can share one core
// without the Java service: point them at it with P2P_SUPERTOKENS_CONNECTION_URI.
func authcoreCmd(load func() (*setup, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "authcore",
		Short: "Serve the embedded SuperTokens-compatible core on auth.core_addr (shared by several nodes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			if a.cfg.Auth.APIKey == "" && a.cfg.Production() {
				return usageError{fmt.Errorf("config: P2P_SUPERTOKENS_API_KEY is required for a standalone core in production")}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			conns, err := app.Connect(ctx, a.cfg, a.log, a.cfg.MigrateOnStart)
			if err != nil {
				return err
			}
			defer conns.Close()
			core, err := authcore.New(ctx, conns.Pool, app.CoreConfig(a.cfg, app.APIKeys(a.cfg), a.log))
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", a.cfg.Auth.CoreAddr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", a.cfg.Auth.CoreAddr, err)
			}
			a.log.Info("auth core serving", "addr", ln.Addr().String())
			return core.Serve(ctx, ln)
		},
	}
}
