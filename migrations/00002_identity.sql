-- +goose Up
CREATE TABLE organizations (
    id            uuid PRIMARY KEY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 2 AND 100),
    domain        text        NOT NULL DEFAULT '',
    industry      text        NOT NULL,
    size          text        NOT NULL CHECK (size IN ('startup', 'small', 'medium', 'large', 'enterprise')),
    country       text        NOT NULL,
    city          text        NOT NULL,
    logo_url      text,
    is_active     boolean     NOT NULL DEFAULT true,
    -- The owner: the user who created the organization. Set in the same transaction as that user.
    admin_user_id uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A user's id is the auth core's user id, so a session's subject finds its row directly.
CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    organization_id     uuid        NOT NULL REFERENCES organizations (id),
    email               text        NOT NULL,
    first_name          text        NOT NULL,
    last_name           text        NOT NULL,
    role                text        NOT NULL CHECK (role IN ('admin', 'member')),
    is_active           boolean     NOT NULL DEFAULT true,
    job_title           text        NOT NULL DEFAULT '',
    city                text        NOT NULL DEFAULT '',
    bio                 text        NOT NULL DEFAULT '',
    expertise_tags      text[]      NOT NULL DEFAULT '{}',
    language_preference text        NOT NULL DEFAULT 'en' CHECK (language_preference IN ('en', 'ar')),
    profile_visibility  text        NOT NULL DEFAULT 'public' CHECK (profile_visibility IN ('public', 'organization', 'private')),
    avatar_url          text,
    last_login_at       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_organization ON users (organization_id, created_at, id);

ALTER TABLE organizations
    ADD CONSTRAINT organizations_admin_user FOREIGN KEY (admin_user_id) REFERENCES users (id)
    DEFERRABLE INITIALLY DEFERRED;

-- +goose Down
DROP TABLE users CASCADE;
DROP TABLE organizations CASCADE;
