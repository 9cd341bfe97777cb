-- +goose Up
-- Conversations between users of any organization. Each message takes the next seq of its
-- conversation (last_seq, under the conversation's row lock), so read state is one number per
-- participant and unread counts are last_seq - last_read_seq: exact under concurrent sends and
-- reads, without counters to keep in step.
CREATE TABLE conversations (
    id              uuid PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('direct', 'group')),
    title           text        NOT NULL DEFAULT '',
    created_by      uuid        NOT NULL REFERENCES users (id),
    -- "<smaller user id>:<larger user id>" for direct conversations: one per pair.
    direct_key      text UNIQUE,
    last_seq        bigint      NOT NULL DEFAULT 0,
    last_message_id uuid,
    last_message_at timestamptz,
    -- Orders the conversation list: the last message's time, or the creation's.
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE conversation_participants (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id),
    role            text        NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    joined_at       timestamptz NOT NULL DEFAULT now(),
    left_at         timestamptz,
    -- The first seq this participant may read (joining a group does not open its history).
    from_seq        bigint      NOT NULL DEFAULT 1,
    last_read_seq   bigint      NOT NULL DEFAULT 0,
    delivered_seq   bigint      NOT NULL DEFAULT 0,
    archived        boolean     NOT NULL DEFAULT false,
    muted           boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_participants_user ON conversation_participants (user_id) WHERE left_at IS NULL;

CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint      NOT NULL,
    sender_id       uuid        NOT NULL REFERENCES users (id),
    client_id       text,
    content         text        NOT NULL,
    reply_to        uuid REFERENCES messages (id),
    attachments     jsonb       NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    edited_at       timestamptz,
    deleted_at      timestamptz,
    -- English and Arabic: both configurations' lexemes, so a search in either language matches.
    search          tsvector GENERATED ALWAYS AS (
        to_tsvector('english', content) || to_tsvector('arabic', content)) STORED,
    UNIQUE (conversation_id, seq)
);
-- A retry with the same clientId finds the message it already made.
CREATE UNIQUE INDEX messages_client ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_search ON messages USING gin (search) WHERE deleted_at IS NULL;

-- Files uploaded into a conversation; they join a message when it is sent. Unattached uploads
-- are swept after a day.
CREATE TABLE message_attachments (
    id              uuid PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    uploader_id     uuid        NOT NULL REFERENCES users (id),
    -- Deferred: a message and the claim of its attachments are written in one transaction.
    message_id      uuid REFERENCES messages (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    name            text        NOT NULL,
    content_type    text        NOT NULL,
    size            bigint      NOT NULL,
    blob_key        text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_attachments_unattached ON message_attachments (created_at) WHERE message_id IS NULL;

CREATE TABLE user_blocks (
    blocker_id uuid        NOT NULL REFERENCES users (id),
    blocked_id uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

-- +goose Down
DROP TABLE user_blocks;
DROP TABLE message_attachments;
DROP TABLE messages;
DROP TABLE conversation_participants;
DROP TABLE conversations;
