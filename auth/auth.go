// Package auth is the adapter to SuperTokens: it initialises supertokens-golang with the recipes
// the product uses (emailpassword with the organization sign-up, session, emailverification,
// userroles), bends the SDK's flows to the domain (an organization is created with its first user;
// a password reset signs the user out everywhere), and turns sessions into identity.Principal.
//
// The SDK keeps its state in package variables, so there is one Auth per process; tests that need
// several reset the SDK between them.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/supertokens/supertokens-golang/ingredients/emaildelivery"
	"github.com/supertokens/supertokens-golang/recipe/emailpassword"
	"github.com/supertokens/supertokens-golang/recipe/emailpassword/epmodels"
	"github.com/supertokens/supertokens-golang/recipe/emailverification"
	"github.com/supertokens/supertokens-golang/recipe/emailverification/evmodels"
	"github.com/supertokens/supertokens-golang/recipe/session"
	"github.com/supertokens/supertokens-golang/recipe/session/sessmodels"
	"github.com/supertokens/supertokens-golang/recipe/userroles"
	"github.com/supertokens/supertokens-golang/supertokens"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/mail"
)

// Config is what the SDK needs.
type Config struct {
	AppName        string
	APIDomain      string
	WebsiteDomain  string
	ConnectionURI  string
	APIKey         string
	CookieSecure   bool
	CookieSameSite string // lax | strict | none
	AntiCSRF       string // NONE | VIA_TOKEN | VIA_CUSTOM_HEADER
	Log            *slog.Logger
	// Revocations ends sessions on every node before their tokens expire (nil: only in the core).
	Revocations *Revocations
	// OnAPIError answers a request to an SDK route that failed with an error the SDK does not
	// turn into a response itself (bad JSON, a failed core call, a body over the limit).
	OnAPIError func(err error, r *http.Request, w http.ResponseWriter)
}

// Accounts is what auth needs from the identity domain.
type Accounts interface {
	Register(ctx context.Context, in identity.SignUp) (identity.Account, error)
	LookupInvitation(ctx context.Context, token string) (identity.InvitationPreview, error)
	AcceptInvitation(ctx context.Context, token string, in identity.SignUp) (identity.Account, error)
	Unregister(ctx context.Context, userID string) error
	Account(ctx context.Context, userID string) (identity.Account, error)
	OrganizationOf(ctx context.Context, userID string) (orgID string, active bool, err error)
	RecordSignIn(ctx context.Context, userID string) error
}

// Mailer queues templated mail.
type Mailer interface {
	Send(ctx context.Context, req mail.Request) error
}

// Auth is the initialised SDK.
type Auth struct {
	cfg      Config
	accounts Accounts
	mailer   Mailer
	log      *slog.Logger
	verified *verified
	tokens   *tokenCheck
}

// BasePath is where the SDK's frontend API is served.
const BasePath = "/auth"

// Init initialises the SDK for the process.
func Init(cfg Config, accounts Accounts, mailer Mailer) (*Auth, error) {
	a := &Auth{cfg: cfg, accounts: accounts, mailer: mailer, log: cfg.Log, verified: newVerified(50000),
		// dynamic: session.Init below leaves UseDynamicAccessTokenSigningKey at the SDK's default.
		tokens: &tokenCheck{dynamic: true, jwks: sdkKeys, now: time.Now}}
	basePath := BasePath
	sameSite := cfg.CookieSameSite
	antiCSRF := cfg.AntiCSRF
	secure := cfg.CookieSecure
	telemetry := false
	sendReset := a.sendPasswordResetEmail
	sendVerify := a.sendVerificationEmail

	err := supertokens.Init(supertokens.TypeInput{
		Supertokens: &supertokens.ConnectionInfo{ConnectionURI: cfg.ConnectionURI, APIKey: cfg.APIKey},
		AppInfo: supertokens.AppInfo{
			AppName:         cfg.AppName,
			APIDomain:       cfg.APIDomain,
			WebsiteDomain:   cfg.WebsiteDomain,
			APIBasePath:     &basePath,
			WebsiteBasePath: &basePath,
		},
		Telemetry:             &telemetry,
		OnSuperTokensAPIError: cfg.OnAPIError,
		RecipeList: []supertokens.Recipe{
			emailpassword.Init(&epmodels.TypeInput{
				SignUpFeature: &epmodels.TypeInputSignUp{FormFields: signUpFormFields()},
				Override: &epmodels.OverrideStruct{
					Functions: a.overrideEmailPasswordFunctions,
					APIs:      a.overrideEmailPasswordAPIs,
				},
				EmailDelivery: &emaildelivery.TypeInput{
					Service: &emaildelivery.EmailDeliveryInterface{SendEmail: &sendReset},
				},
			}),
			emailverification.Init(evmodels.TypeInput{
				// Optional: unverified users may sign in and read; publishing checks the claim.
				Mode: evmodels.ModeOptional,
				EmailDelivery: &emaildelivery.TypeInput{
					Service: &emaildelivery.EmailDeliveryInterface{SendEmail: &sendVerify},
				},
			}),
			session.Init(&sessmodels.TypeInput{
				CookieSecure:   &secure,
				CookieSameSite: &sameSite,
				AntiCsrf:       &antiCSRF,
				Override: &sessmodels.OverrideStruct{Functions: func(orig sessmodels.RecipeInterface) sessmodels.RecipeInterface {
					orig = a.overrideSessionFunctions(orig)
					if cfg.Revocations != nil {
						orig = cfg.Revocations.revokingSessions(orig)
					}
					return orig
				}},
			}),
			userroles.Init(nil),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: initialising SuperTokens: %w", err)
	}
	return a, nil
}

// Middleware serves the SDK's routes under BasePath and passes every other request to next.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return supertokens.Middleware(next)
}

// CORSHeaders are the request headers the SDK's frontend sends.
func (a *Auth) CORSHeaders() []string { return supertokens.GetAllCORSHeaders() }

// ExposedHeaders are the response headers the frontend must be able to read (header mode).
func ExposedHeaders() []string {
	return []string{"front-token", "st-access-token", "st-refresh-token", "anti-csrf"}
}

// ctxKey is the key under which API overrides leave the request context for the recipe
// overrides they call; the SDK passes a userContext map, not a context.Context.
const ctxKey = "p2p.ctx"

func withContext(uc supertokens.UserContext, ctx context.Context) {
	if uc != nil {
		(*uc)[ctxKey] = ctx
	}
}

func contextOf(uc supertokens.UserContext) context.Context {
	if uc != nil {
		if ctx, ok := (*uc)[ctxKey].(context.Context); ok {
			return ctx
		}
	}
	return context.Background()
}

// lang returns the mail language for a user, English when unknown.
func lang(acc identity.Account, err error) string {
	if err != nil || !strings.EqualFold(acc.User.LanguagePreference, "ar") {
		return "en"
	}
	return "ar"
}
