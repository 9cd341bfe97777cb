-- +goose Up
-- The durable event log (platform/outbox). A change and the events that say what happened are
-- written in one transaction; subscribers read the log in order, each from its own cursor.
--
-- The order is (txid, id): a row is read only once every transaction with a smaller id has ended
-- (txid < pg_snapshot_xmin), so a transaction that commits late can never slip in behind a cursor
-- that has moved on, which ordering by id alone allows (ids are taken before commit).
CREATE TABLE domain_events (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    name       text NOT NULL,
    aggregate  text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (txid, id)
);

-- Where each subscriber is, and how often the event after it has failed.
CREATE TABLE domain_event_cursors (
    subscriber text PRIMARY KEY,
    txid       xid8 NOT NULL,
    id         bigint NOT NULL,
    attempts   int NOT NULL DEFAULT 0,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events a subscriber gave up on after its retries, kept for an operator to replay.
CREATE TABLE domain_event_dead_letters (
    subscriber text NOT NULL,
    event_id   bigint NOT NULL,
    name       text NOT NULL,
    aggregate  text NOT NULL,
    payload    jsonb NOT NULL,
    error      text NOT NULL,
    attempts   int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber, event_id)
);

-- +goose Down
DROP TABLE domain_event_dead_letters;
DROP TABLE domain_event_cursors;
DROP TABLE domain_events;
