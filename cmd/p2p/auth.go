package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/platform/auth"
	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/rest"
	"github.com/p2psandbox/hub/workers"
)

// coreConfig maps the configuration onto the embedded core's.
func (a *app) coreConfig(apiKeys []string) authcore.Config {
	return authcore.Config{
		APIKeys:              apiKeys,
		AccessTokenValidity:  a.cfg.Auth.AccessTokenValidity,
		RefreshTokenValidity: a.cfg.Auth.RefreshTokenValidity,
		SigningKeyRotation:   a.cfg.Auth.SigningKeyRotation,
		BcryptCost:           a.cfg.Auth.BcryptCost,
		Log:                  a.log.With("component", "authcore"),
	}
}

// embeddedCore starts the Go core on a loopback port with a fresh API key, for a process that has
// no core configured. It returns the core's URI and key and the function that serves it.
func (a *app) embeddedCore(ctx context.Context, d deps) (uri, key string, serve func(context.Context) error, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("embedded core: api key: %w", err)
	}
	key = base64.RawURLEncoding.EncodeToString(b)
	core, err := authcore.New(ctx, d.pool, a.coreConfig([]string{key}))
	if err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, fmt.Errorf("embedded core: %w", err)
	}
	a.log.Info("embedded auth core listening", "addr", ln.Addr().String())
	return "http://" + ln.Addr().String(), key, func(ctx context.Context) error { return core.Serve(ctx, ln) }, nil
}

// identityStack is the sign-in machinery of serve.
type identityStack struct {
	auth     *auth.Auth
	accounts *identity.Service
}

// initAuth initialises the SDK against the core at uri and makes sure the roles exist there.
func (a *app) initAuth(d deps, uri, key string, notifier identity.Notifier) (*identityStack, error) {
	mailer := workers.MailQueue{Client: asynq.NewClientFromRedisClient(d.rdb), Queue: a.cfg.Worker.Queue}
	accounts := identity.NewService(identity.Deps{
		Store:       identitydb.New(d.pool),
		Credentials: auth.Credentials{},
		Mailer:      mailer,
		WebsiteURL:  a.cfg.App.WebsiteDomain,
		StorageUsed: mediadb.New(d.pool).StorageUsed,
		Notifier:    notifier,
	})
	au, err := auth.Init(auth.Config{
		AppName:        a.cfg.App.Name,
		APIDomain:      a.cfg.App.APIDomain,
		WebsiteDomain:  a.cfg.App.WebsiteDomain,
		ConnectionURI:  uri,
		APIKey:         key,
		CookieSecure:   a.cfg.Auth.CookieSecure,
		CookieSameSite: a.cfg.Auth.CookieSameSite,
		AntiCSRF:       a.cfg.Auth.AntiCSRF,
		Log:            a.log,
		OnAPIError:     rest.AuthAPIError(a.log),
	}, accounts, mailer)
	if err != nil {
		return nil, err
	}
	if err := au.EnsureRoles(); err != nil {
		return nil, err
	}
	return &identityStack{auth: au, accounts: accounts}, nil
}

// authLimits derives the brute-force limits from the configuration. An office behind one NAT
// address shares the per-address budget, hence four times the per-account one.
func (a *app) authLimits() rest.AuthLimits {
	n, w := a.cfg.Auth.SignInMaxAttempts, a.cfg.Auth.SignInWindow
	resend := max(a.cfg.Auth.ResendInterval, time.Second)
	return rest.AuthLimits{
		SignInPerAccount: ratelimit.Policy{Events: n, Per: w},
		SignInPerIP:      ratelimit.Policy{Events: 4 * n, Per: w},
		VerificationMail: ratelimit.Policy{Events: 1, Per: resend},
	}
}

// authcoreCmd runs the Go core on its own, so that several serve nodes can share one core
// without the Java service: point them at it with P2P_SUPERTOKENS_CONNECTION_URI.
func authcoreCmd(load func() (*app, error)) *cobra.Command {
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
			d, err := a.connect(ctx, a.cfg.MigrateOnStart)
			if err != nil {
				return err
			}
			defer d.close()
			var keys []string
			for _, k := range strings.Split(a.cfg.Auth.APIKey, ",") {
				if k = strings.TrimSpace(k); k != "" {
					keys = append(keys, k)
				}
			}
			core, err := authcore.New(ctx, d.pool, a.coreConfig(keys))
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
