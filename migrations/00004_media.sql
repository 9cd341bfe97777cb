-- +goose Up
-- Uploaded images (avatars, logos). The bytes live in blob storage under key: the original while
-- the file is pending, the processed image once it is ready. A failed file keeps nothing stored
-- (size 0) and says why in error.
CREATE TABLE files (
    id              uuid PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    owner_user_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('avatar', 'logo')),
    key             text        NOT NULL UNIQUE,
    content_type    text        NOT NULL,
    size            bigint      NOT NULL CHECK (size >= 0),
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    error           text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Storage used per organization, and a logo's slot.
CREATE INDEX files_organization ON files (organization_id, kind, status);
-- An avatar's slot.
CREATE INDEX files_owner ON files (owner_user_id, kind, status);

-- +goose Down
DROP TABLE files;
