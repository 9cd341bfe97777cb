// Package identityapp is the identity area: people, organizations and invitations (domain/identity)
// behind REST, and sign-in through SuperTokens (package auth). It is the area the others stand
// on: the composition root builds it first, because the router and the hub authenticate with its
// Auth and every area asks its Service who people are.
package identityapp

import (
	"context"
	_ "embed"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/auth"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/rest"
	"github.com/p2psandbox/hub/workers"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the identity area.
type Area struct {
	Service     *identity.Service
	Auth        *auth.Auth
	Revocations *auth.Revocations
}

// Core is what identity is built from.
type Core struct {
	Config config.Config
	Log    *slog.Logger
	Pool   *pgxpool.Pool
	Redis  goredis.UniversalClient
	Events event.Publisher
	// CoreURI and CoreKey reach the SuperTokens core (the embedded one when not configured).
	CoreURI, CoreKey string
}

// NewWithoutSignIn builds the identity service alone, for a process that signs no one in (the
// worker): it asks who people are and mails them.
func NewWithoutSignIn(c Core) *Area {
	svc, rev := newService(c)
	return &Area{Service: svc, Revocations: rev}
}

func newService(c Core) (*identity.Service, *auth.Revocations) {
	cfg := c.Config
	rev := auth.NewRevocations(c.Redis, cfg.Redis.Prefix, cfg.Auth.AccessTokenValidity, c.Log)
	return identity.NewService(identity.Deps{
		Store:       identitydb.New(c.Pool),
		Credentials: auth.Credentials{Revocations: rev},
		Mailer:      workers.MailQueue{Client: asynq.NewClientFromRedisClient(c.Redis), Queue: cfg.Worker.Queue},
		WebsiteURL:  cfg.App.WebsiteDomain,
		Events:      c.Events,
		Moderators:  cfg.Auth.Moderators,
	}), rev
}

// New builds the identity service and initialises the SuperTokens SDK against the core, making
// sure the roles exist there.
func New(ctx context.Context, c Core) (*Area, error) {
	cfg := c.Config
	svc, rev := newService(c)
	mailer := workers.MailQueue{Client: asynq.NewClientFromRedisClient(c.Redis), Queue: cfg.Worker.Queue}
	log := c.Log
	au, err := auth.Init(auth.Config{
		AppName:        cfg.App.Name,
		APIDomain:      cfg.App.APIDomain,
		WebsiteDomain:  cfg.App.WebsiteDomain,
		ConnectionURI:  c.CoreURI,
		APIKey:         c.CoreKey,
		CookieSecure:   cfg.Auth.CookieSecure,
		CookieSameSite: cfg.Auth.CookieSameSite,
		AntiCSRF:       cfg.Auth.AntiCSRF,
		Log:            log,
		Revocations:    rev,
		OnAPIError:     rest.AuthAPIError(log),
	}, svc, mailer)
	if err != nil {
		return nil, err
	}
	if err := au.EnsureRoles(); err != nil {
		return nil, err
	}
	if err := svc.EnsureModerators(ctx, cfg.Auth.Moderators); err != nil {
		return nil, err
	}
	return &Area{Service: svc, Auth: au, Revocations: rev}, nil
}

// Name is "identity".
func (*Area) Name() string { return "identity" }

// OpenAPI is the area's part of the document: /auth and the identity routes.
func (*Area) OpenAPI() []byte { return openAPI }

// Register mounts /auth and the identity routes, and follows revocations where tokens are
// checked: the hub ends the sockets of ended sessions and hands open ones their new roles.
func (a *Area) Register(ctx context.Context, h *area.Host) error {
	if h.REST == nil {
		return nil
	}
	if h.Hub != nil {
		// Presence follows profile privacy: a hidden user's presence reads like an unknown id's.
		h.Hub.LimitPresence(a.Service)
		h.Hub.FollowRevocations(a.Revocations)
		a.Revocations.Watch(func(c auth.Change) {
			if c.Ended() {
				h.Hub.EndSessions(c.UserID, c.Sessions)
			} else {
				h.Hub.SetRoles(c.UserID, c.Roles)
			}
		})
	}
	revCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	if err := a.Revocations.Start(revCtx); err != nil {
		stop()
		return err
	}
	h.OnClose(stop)
	a.Auth.Mount(h.REST, ratelimit.New(h.Redis, h.Config.Redis.Prefix), Limits(h.Config.Auth))
	mountREST(h.REST, a.Service)
	mountModeration(h.REST, a.Service)
	return nil
}

// Limits derives the brute-force limits from the configuration. An office behind one NAT
// address shares the per-address budget, hence four times the per-account one.
func Limits(c config.Auth) auth.Limits {
	n, w := c.SignInMaxAttempts, c.SignInWindow
	resend := max(c.ResendInterval, time.Second)
	return auth.Limits{
		SignInPerAccount: ratelimit.Policy{Events: n, Per: w},
		SignInPerIP:      ratelimit.Policy{Events: 4 * n, Per: w},
		VerificationMail: ratelimit.Policy{Events: 1, Per: resend},
	}
}
