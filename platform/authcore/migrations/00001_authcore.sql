-- +goose Up
-- The embedded SuperTokens core (platform/authcore) keeps everything in its own schema so that it
-- can be migrated, dropped or replaced by the real core without touching the system of record.
CREATE SCHEMA authcore;

-- Email-password users. Emails are stored trimmed and lower-cased; the core compares them so.
CREATE TABLE authcore.users (
    id            text        PRIMARY KEY,
    tenant        text        NOT NULL,
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    time_joined   timestamptz NOT NULL,
    CONSTRAINT users_tenant_email UNIQUE (tenant, email)
);
CREATE INDEX users_time_joined ON authcore.users (tenant, time_joined);

-- One row per session. rt_hash2 is sha256(sha256(refresh token)) of the committed refresh token;
-- expires_at is the refresh token's expiry (the session ends with it).
CREATE TABLE authcore.sessions (
    handle         text        PRIMARY KEY,
    user_id        text        NOT NULL,
    tenant         text        NOT NULL,
    rt_hash2       text        NOT NULL,
    jwt_data       jsonb       NOT NULL,
    db_data        jsonb       NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    use_static_key boolean     NOT NULL
);
CREATE INDEX sessions_user_id ON authcore.sessions (user_id);
CREATE INDEX sessions_expires_at ON authcore.sessions (expires_at);

-- RS256 signing keys: kind 'd' rotates, kind 's' is the one static key. The private key is kept
-- (PKCS #8 PEM) so that every node and every restart signs and verifies with the same keys.
CREATE TABLE authcore.signing_keys (
    kid         text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('d', 's')),
    private_pem text        NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX signing_keys_one_static ON authcore.signing_keys (kind) WHERE kind = 's';

-- The AES-256-GCM key that seals refresh tokens. One row.
CREATE TABLE authcore.refresh_secret (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    secret bytea   NOT NULL
);

-- Tokens are stored as sha256 hex of the token sent by mail, never the token itself.
CREATE TABLE authcore.ev_tokens (
    token_hash text        PRIMARY KEY,
    user_id    text        NOT NULL,
    email      text        NOT NULL,
    tenant     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX ev_tokens_user_email ON authcore.ev_tokens (user_id, email);
CREATE INDEX ev_tokens_expires_at ON authcore.ev_tokens (expires_at);

-- Verification is per (user, email) for the whole app: a changed email is unverified.
CREATE TABLE authcore.verified_emails (
    user_id text NOT NULL,
    email   text NOT NULL,
    PRIMARY KEY (user_id, email)
);

CREATE TABLE authcore.reset_tokens (
    token_hash text        PRIMARY KEY,
    user_id    text        NOT NULL,
    tenant     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX reset_tokens_user_id ON authcore.reset_tokens (user_id);
CREATE INDEX reset_tokens_expires_at ON authcore.reset_tokens (expires_at);

-- Roles and permissions are app-wide; assignments are per tenant.
CREATE TABLE authcore.roles (
    role text PRIMARY KEY
);

CREATE TABLE authcore.role_permissions (
    role       text NOT NULL REFERENCES authcore.roles (role) ON DELETE CASCADE,
    permission text NOT NULL,
    PRIMARY KEY (role, permission)
);
CREATE INDEX role_permissions_permission ON authcore.role_permissions (permission);

CREATE TABLE authcore.user_roles (
    tenant  text NOT NULL,
    user_id text NOT NULL,
    role    text NOT NULL REFERENCES authcore.roles (role) ON DELETE CASCADE,
    PRIMARY KEY (tenant, user_id, role)
);
CREATE INDEX user_roles_role ON authcore.user_roles (tenant, role);
CREATE INDEX user_roles_user_id ON authcore.user_roles (user_id);

CREATE TABLE authcore.user_metadata (
    user_id  text  PRIMARY KEY,
    metadata jsonb NOT NULL
);

-- +goose Down
DROP SCHEMA authcore CASCADE;
