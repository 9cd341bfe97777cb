-- +goose Up
-- The activity feed (domain/activity): one entry per thing worth telling that happened across the
-- areas, written by the activity subscriber in the transaction that moves its cursor (event_id
-- keeps a redelivered event from writing twice). Entries keep ids, not verdicts: whether an entry
-- may be seen (its actor's profile visibility, its topic, reply or use case still shown) is
-- decided when it is read, so hiding or deleting afterwards removes it from every feed at once.
CREATE TABLE activity_entries (
    id              bigserial   PRIMARY KEY,
    event_id        bigint      NOT NULL UNIQUE,
    kind            text        NOT NULL,
    actor_id        uuid        NOT NULL REFERENCES users (id),
    organization_id uuid        NOT NULL,               -- the actor's organization then
    owner_id        uuid,                                -- whose content it is about, when not the actor's
    topic_id        uuid,
    post_id         uuid,
    use_case_id     uuid,
    calendar_event_id uuid,
    content         text        NOT NULL,
    category        text        NOT NULL DEFAULT '',
    link            text        NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX activity_entries_organization ON activity_entries (organization_id, id DESC);
CREATE INDEX activity_entries_actor ON activity_entries (actor_id, id DESC);
CREATE INDEX activity_entries_owner ON activity_entries (owner_id, id DESC) WHERE owner_id IS NOT NULL;

-- +goose Down
DROP TABLE activity_entries;
