package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/auth"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/migrations"
	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/rest"
	"github.com/p2psandbox/hub/workers"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// setup runs the SDK in-process against the embedded core and returns an access token of a
// signed-up user and the database (the core's signing keys are in it). The SDK is
// process-global: one setup per test binary run (a test or the benchmark, not both).
func setup(b testing.TB) (*auth.Auth, string, *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	pool, _ := pgtest.NewWith(b, postgres.MainMigrations(migrations.FS), authcore.Migrations())
	rdb, prefix := redistest.New(b)
	core, err := authcore.New(ctx, pool, authcore.Config{APIKeys: []string{"bench-key-0123456789abcdef"}, BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	coreSrv := httptest.NewServer(core.Handler())
	b.Cleanup(coreSrv.Close)

	mailer := workers.MailQueue{Client: asynq.NewClientFromRedisClient(rdb), Queue: redistest.Queue(b, rdb, prefix+"q")}
	// The check with revocation: 10,000 sessions ended on other nodes lie in the list, as after
	// a busy hour of sign-outs.
	rev := auth.NewRevocations(rdb, prefix, time.Hour, nil)
	revCtx, stop := context.WithCancel(ctx)
	b.Cleanup(stop)
	if err := rev.Start(revCtx); err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		if err := rev.End(ctx, "someone", []string{fmt.Sprintf("ended-%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	accounts := identity.NewService(identity.Deps{Store: identitydb.New(pool), Credentials: auth.Credentials{Revocations: rev}, Mailer: mailer})
	a, err := auth.Init(auth.Config{
		AppName: "bench", APIDomain: "http://localhost:8080", WebsiteDomain: "http://localhost:5173",
		ConnectionURI: coreSrv.URL, APIKey: "bench-key-0123456789abcdef",
		CookieSameSite: "lax", AntiCSRF: "NONE", Log: logging.Discard(), Revocations: rev,
	}, accounts, mailer)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.EnsureRoles(); err != nil {
		b.Fatal(err)
	}
	router := rest.NewRouter(rest.Deps{
		Log: logging.Discard(), Registry: metrics.NewRegistry(), Auth: a, CORSHeaders: a.CORSHeaders(),
		HTTP: rest.HTTP{MaxBodyBytes: 1 << 20, CORSOrigins: []string{"http://localhost:5173"}},
	})
	a.Mount(router, ratelimit.New(rdb, prefix), auth.Limits{
		SignInPerAccount: ratelimit.Policy{Events: 5, Per: time.Minute},
		SignInPerIP:      ratelimit.Policy{Events: 20, Per: time.Minute},
		VerificationMail: ratelimit.Policy{Events: 1, Per: time.Minute},
	})
	form := `{"formFields":[{"id":"email","value":"bench@example.com"},{"id":"password","value":"Bench-pass1"},
		{"id":"firstName","value":"B"},{"id":"lastName","value":"M"},{"id":"organizationName","value":"Bench Co"},
		{"id":"industry","value":"Other"},{"id":"organizationSize","value":"small"},{"id":"city","value":"Riyadh"}]}`
	req := httptest.NewRequest(http.MethodPost, "/auth/signup", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("st-auth-mode", "header")
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	token := rec.Header().Get("st-access-token")
	if rec.Code != http.StatusOK || token == "" {
		b.Fatalf("sign-up: %d %s", rec.Code, rec.Body)
	}
	return a, token, pool
}

// BenchmarkVerify is the middleware's check of an access token, no core call: "first" is the
// SDK's full check (signature and claims against the cached JWKS), the first time a node sees a
// token; "repeat" is every later request with the same token, served by the verified-token cache
// and the revocation list; "hub" is the socket handshake's (and auth:refresh's) check.
func BenchmarkVerify(b *testing.B) {
	a, token, _ := setup(b)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if _, err := a.Verify(httptest.NewRecorder(), req); err != nil { // warms the JWKS cache
		b.Fatal(err)
	}
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.ForgetVerified()
			if _, err := a.Verify(httptest.NewRecorder(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repeat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Verify(httptest.NewRecorder(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hub-first", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			a.ForgetVerified()
			if _, err := a.PrincipalFromToken(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hub", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.PrincipalFromToken(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
