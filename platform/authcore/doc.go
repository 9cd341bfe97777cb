// Package authcore is an embedded SuperTokens core: the subset of the core-driver interface (CDI)
// 3.1 that supertokens-golang v0.25.2 calls for the emailpassword, session, emailverification,
// userroles and usermetadata recipes, stored in PostgreSQL (schema "authcore").
//
// The specification is reference/supertokens-cdi-3.1.md. The SDK reads most responses with
// unchecked type assertions, so every response shape here is the one the SDK reads, and real
// failures are HTTP 4xx/5xx rather than an invented status (the SDK maps any unknown status to
// "email exists", "wrong credentials" or "token theft").
//
// Sessions follow the real core: access tokens are v4 JWTs signed with RS256; refresh tokens
// rotate, and replaying a replaced one reports token theft. Refresh tokens are sealed with
// AES-256-GCM under a secret kept in the database, so nobody can forge one from the
// refreshTokenHash1 an access token reveals; only hashes of refresh, verification and reset
// tokens are stored.
//
// RS256 is implemented here with crypto/rsa rather than a JWT library: the core must emit one
// exact header ({"alg","typ","kid","version":"4"}) and accept only RS256 tokens it signed itself,
// which is a few lines of code, while a general JWT library would add algorithm negotiation we
// must then disable.
//
// Every time comes from Config.Now, so tests expire tokens by moving a clock. The package has no
// global state; several Cores may share a database (several nodes), and they coordinate through it.
//
// Use: apply Migrations (postgres.NewMigrator), then
//
//	core, err := authcore.New(ctx, pool, authcore.Config{APIKeys: []string{key}})
//	go core.Serve(ctx, ln) // or mount core.Handler()
//
// and give the SDK ConnectionURI "http://"+ln.Addr().String() and the same APIKey. Run Cleanup
// now and then to drop expired sessions and tokens.
//
// Where this core differs from the real one: only the tenant "public" exists (no multitenancy
// API); only cdi-version 3.1 is spoken; request bodies with fields the endpoint does not read are
// refused (400) rather than ignored; regenerate checks the token's signature.
package authcore
