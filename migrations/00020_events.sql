-- +goose Up
-- Events (domain/calendar): platform events (organization_id NULL, created by moderators) and
-- organization events (seen by that organization's members only). Times are instants; time_zone
-- is the IANA zone the organizer meant, kept for the .ics and for showing local times.
CREATE TABLE calendar_events (
    id               uuid PRIMARY KEY,
    organization_id  uuid REFERENCES organizations (id),
    created_by       uuid        NOT NULL REFERENCES users (id),
    title            text        NOT NULL CHECK (length(title) BETWEEN 3 AND 200),
    title_ar         text        NOT NULL CHECK (length(title_ar) BETWEEN 3 AND 200),
    description      text        NOT NULL DEFAULT '',
    description_html text        NOT NULL DEFAULT '',
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    time_zone        text        NOT NULL,
    online_url       text        NOT NULL DEFAULT '',
    location         text        NOT NULL DEFAULT '',
    capacity         integer CHECK (capacity > 0),
    attendee_count   integer     NOT NULL DEFAULT 0 CHECK (attendee_count >= 0),
    -- The start the last reminder was sent for: a reminder task runs once per start, however
    -- often asynq delivers it, and a moved event's old task finds a different start and stops.
    reminded_for     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CHECK (ends_at > starts_at),
    CHECK (capacity IS NULL OR attendee_count <= capacity)
);
-- The upcoming list walks events in start order and skips those already over.
CREATE INDEX calendar_events_upcoming ON calendar_events (starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX calendar_events_org ON calendar_events (organization_id, starts_at, id)
    WHERE deleted_at IS NULL AND organization_id IS NOT NULL;

CREATE TABLE calendar_attendees (
    event_id   uuid        NOT NULL REFERENCES calendar_events (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX calendar_attendees_user ON calendar_attendees (user_id);

-- +goose Down
DROP TABLE calendar_attendees;
DROP TABLE calendar_events;
