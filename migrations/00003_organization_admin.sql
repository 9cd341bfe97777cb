-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE users
    ADD COLUMN deleted_at   timestamptz,
    ADD COLUMN last_seen_at timestamptz;

-- Member search: names and email, matched by substring (trigram index) within an organization.
ALTER TABLE users ADD COLUMN search_text text
    GENERATED ALWAYS AS (lower(first_name || ' ' || last_name || ' ' || email)) STORED;
CREATE INDEX users_search ON users USING gin (search_text gin_trgm_ops);
CREATE INDEX users_org_name ON users (organization_id, lower(last_name), lower(first_name), id);
CREATE INDEX users_org_email ON users (organization_id, lower(email), id);
CREATE INDEX users_org_login ON users (organization_id, (COALESCE(last_login_at, to_timestamp(0))), id);

CREATE TABLE invitations (
    id              uuid PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    email           text        NOT NULL,
    first_name      text        NOT NULL,
    last_name       text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('admin', 'member')),
    invited_by      uuid        NOT NULL REFERENCES users (id),
    -- sha256 of the token in the link; the token itself is only ever in the mail.
    token_hash      bytea       NOT NULL UNIQUE,
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    accepted_user   uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One open invitation per address and organization.
CREATE UNIQUE INDEX invitations_open ON invitations (organization_id, lower(email)) WHERE accepted_at IS NULL;
CREATE INDEX invitations_org ON invitations (organization_id, created_at DESC, id DESC);

CREATE TABLE audit_log (
    id              uuid PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    actor_id        uuid        NOT NULL REFERENCES users (id),
    action          text        NOT NULL,
    target_type     text        NOT NULL,
    target_id       text        NOT NULL,
    before          jsonb,
    after           jsonb,
    request_id      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org ON audit_log (organization_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE invitations;
DROP INDEX users_org_login;
DROP INDEX users_org_email;
DROP INDEX users_org_name;
DROP INDEX users_search;
ALTER TABLE users DROP COLUMN search_text, DROP COLUMN last_seen_at, DROP COLUMN deleted_at;
