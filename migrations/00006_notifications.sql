-- +goose Up
-- What happened to a user that they should know about (a message, a reply, an accepted
-- invitation, …). The type is not constrained here: later areas add theirs through the notify
-- service, which validates them.
--
-- A notification with a group_key stands for a run of events (a busy conversation is one
-- notification): while it is unread, the next event with the same key updates it (count, data,
-- updated_at) instead of adding a row. created_at is when it first became unread and drives the
-- email delay; updated_at is the latest event and orders the list.
CREATE TABLE notifications (
    id           uuid PRIMARY KEY,
    recipient_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type         text        NOT NULL,
    -- Users are only ever hard-deleted when their sign-up is undone; what their sign-up caused
    -- goes with them.
    actor_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    target_type  text        NOT NULL,
    target_id    text        NOT NULL,
    data         jsonb       NOT NULL DEFAULT '{}',
    group_key    text,
    count        integer     NOT NULL DEFAULT 1 CHECK (count >= 1),
    -- The channels the recipient's preferences chose at the latest event. A row with in_app
    -- false is kept only for the email digest: it is never listed or counted.
    in_app       boolean     NOT NULL,
    email        boolean     NOT NULL,
    read_at      timestamptz,
    emailed_at   timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
-- The list, newest activity first, and its unread-only filter (also the unread count).
CREATE INDEX notifications_list ON notifications (recipient_id, updated_at DESC, id DESC) WHERE in_app;
CREATE INDEX notifications_unread ON notifications (recipient_id, updated_at DESC, id DESC)
    WHERE in_app AND read_at IS NULL;
-- At most one unread notification per group: the upsert's conflict target.
CREATE UNIQUE INDEX notifications_group ON notifications (recipient_id, group_key)
    WHERE read_at IS NULL AND group_key IS NOT NULL;
-- "The user read this conversation": its unread notifications.
CREATE INDEX notifications_target ON notifications (recipient_id, target_type, target_id) WHERE read_at IS NULL;
-- What a digest may mail.
CREATE INDEX notifications_email ON notifications (recipient_id, created_at)
    WHERE email AND read_at IS NULL AND emailed_at IS NULL;

-- Only the choices a user made; the defaults live in the service.
CREATE TABLE notification_preferences (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       text        NOT NULL,
    in_app     boolean     NOT NULL,
    email      boolean     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, type)
);

-- One row per recipient: every change of their notifications locks it and bumps version, so the
-- changes of one recipient happen one at a time (the unread count each computes is exact) and
-- the counts pushed to clients are ordered (a client keeps the one with the highest version).
CREATE TABLE notification_state (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version bigint NOT NULL
);

-- +goose Down
DROP TABLE notification_state;
DROP TABLE notification_preferences;
DROP TABLE notifications;
