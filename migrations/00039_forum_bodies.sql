-- +goose Up
-- Forum bodies in a document store (issue 16): with MongoDB configured, what a topic or reply
-- says (its Markdown, its HTML, a topic's title as of each version) and every earlier version of
-- it live there, one document per version (domain/forum/forummongo); PostgreSQL keeps the rest:
-- ids, authors, counters, the title, the excerpt and the plain text that search indexes.
--
-- A row whose body is NULL has its body in the document store; a row with a body keeps it here
-- (no store configured, or written before the store was, until `p2p docs migrate` moves it). So
-- the two can be mixed, row by row, and a reader never needs to guess.
ALTER TABLE forum_topics ALTER COLUMN body DROP NOT NULL, ALTER COLUMN body_html DROP NOT NULL;
ALTER TABLE forum_posts ALTER COLUMN body DROP NOT NULL, ALTER COLUMN body_html DROP NOT NULL;

-- body_version numbers a post's versions: 1 as first written, one more for each edit of its
-- title or body (with or without a store), so that the store's documents, the revisions kept
-- here and the outbox below name the same versions.
ALTER TABLE forum_topics ADD COLUMN body_version int NOT NULL DEFAULT 1 CHECK (body_version >= 1);
ALTER TABLE forum_posts ADD COLUMN body_version int NOT NULL DEFAULT 1 CHECK (body_version >= 1);
UPDATE forum_topics t SET body_version = 1 + r.n
    FROM (SELECT target_id, count(*)::int AS n FROM forum_revisions WHERE target_type = 'topic' GROUP BY target_id) r
    WHERE r.target_id = t.id;
UPDATE forum_posts p SET body_version = 1 + r.n
    FROM (SELECT target_id, count(*)::int AS n FROM forum_revisions WHERE target_type = 'post' GROUP BY target_id) r
    WHERE r.target_id = p.id;

-- A reply's plain text, for search, when its HTML is not here (topics have had body_text since
-- 00011). It is forum_html_text of the HTML, computed by the same function when the reply is
-- written, so a reply is found and its snippet reads the same on either backend.
ALTER TABLE forum_posts ADD COLUMN body_text text;
DROP INDEX forum_posts_search;
ALTER TABLE forum_posts DROP COLUMN search;
ALTER TABLE forum_posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('english', coalesce(body_text, forum_html_text(body_html)))
    || to_tsvector('arabic', forum_normalize(coalesce(body_text, forum_html_text(body_html))))) STORED;
CREATE INDEX forum_posts_search ON forum_posts USING gin (search) WHERE deleted_at IS NULL;

-- The revision triggers of 00014 keep a version here only while the body is here: a body that
-- moves to the store (NULL) keeps its last version here too, as the store's history starts after
-- it; a body in the store keeps its versions there.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION forum_keep_topic_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.body IS NOT NULL AND (NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body) THEN
        INSERT INTO forum_revisions (target_type, target_id, title, body, body_html, written_at)
        VALUES ('topic', OLD.id, OLD.title, OLD.body, OLD.body_html, coalesce(OLD.edited_at, OLD.created_at));
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION forum_keep_post_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.body IS NOT NULL AND NEW.body IS DISTINCT FROM OLD.body THEN
        INSERT INTO forum_revisions (target_type, target_id, body, body_html, written_at)
        VALUES ('post', OLD.id, OLD.body, OLD.body_html, coalesce(OLD.edited_at, OLD.created_at));
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- The transactional outbox of bodies bound for the store, as use_case_document_outbox (00038)
-- is for use case documents, with one difference: every version is kept until delivered, since
-- each is a revision the store must hold, not only the newest.
CREATE TABLE forum_body_outbox (
    target_type text        NOT NULL CHECK (target_type IN ('topic', 'post')),
    target_id   uuid        NOT NULL,
    version     int         NOT NULL CHECK (version >= 1),
    title       text,                               -- topics only
    body        text        NOT NULL,
    body_html   text        NOT NULL,
    written_at  timestamptz NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_type, target_id, version)
);
CREATE INDEX forum_body_outbox_queued ON forum_body_outbox (queued_at);

-- +goose Down
DROP TABLE forum_body_outbox;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION forum_keep_topic_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body THEN
        INSERT INTO forum_revisions (target_type, target_id, title, body, body_html, written_at)
        VALUES ('topic', OLD.id, OLD.title, OLD.body, OLD.body_html, coalesce(OLD.edited_at, OLD.created_at));
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION forum_keep_post_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        INSERT INTO forum_revisions (target_type, target_id, body, body_html, written_at)
        VALUES ('post', OLD.id, OLD.body, OLD.body_html, coalesce(OLD.edited_at, OLD.created_at));
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
DROP INDEX forum_posts_search;
ALTER TABLE forum_posts DROP COLUMN search;
ALTER TABLE forum_posts DROP COLUMN body_text;
ALTER TABLE forum_posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('english', forum_html_text(body_html)) || to_tsvector('arabic', forum_normalize(forum_html_text(body_html)))) STORED;
CREATE INDEX forum_posts_search ON forum_posts USING gin (search) WHERE deleted_at IS NULL;
ALTER TABLE forum_posts DROP COLUMN body_version;
ALTER TABLE forum_topics DROP COLUMN body_version;
-- Down leaves body and body_html nullable: rows whose body is in the store have none to give
-- back here (run `p2p docs migrate --to postgres` before going down).
