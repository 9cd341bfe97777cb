-- +goose Up
-- Forum moderation (domain/forum/moderation.go): a moderator hides a topic or reply with a reason
-- (it leaves the lists as a deletion does, the author is told why); pinning and locking use the
-- flags of 00011. Who did it stays on the row.
ALTER TABLE forum_topics ADD COLUMN hidden_by uuid REFERENCES users (id),
                         ADD COLUMN hidden_reason text;
ALTER TABLE forum_posts ADD COLUMN hidden_by uuid REFERENCES users (id),
                        ADD COLUMN hidden_reason text;

-- Revision history: every earlier version of an edited topic (title and body) or reply, written
-- by a trigger, so no code path that edits can forget it. written_at is when that version was
-- written (the post's creation or its previous edit).
CREATE TABLE forum_revisions (
    id          bigserial   PRIMARY KEY,
    target_type text        NOT NULL CHECK (target_type IN ('topic', 'post')),
    target_id   uuid        NOT NULL,
    title       text,                       -- topics only
    body        text        NOT NULL,       -- Markdown, as written
    body_html   text        NOT NULL,
    written_at  timestamptz NOT NULL
);
CREATE INDEX forum_revisions_target ON forum_revisions (target_type, target_id, id);

-- +goose StatementBegin
CREATE FUNCTION forum_keep_topic_revision() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE FUNCTION forum_keep_post_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        INSERT INTO forum_revisions (target_type, target_id, body, body_html, written_at)
        VALUES ('post', OLD.id, OLD.body, OLD.body_html, coalesce(OLD.edited_at, OLD.created_at));
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- UPDATE OF: counters and flags never run the function.
CREATE TRIGGER forum_topics_revision BEFORE UPDATE OF title, body ON forum_topics
    FOR EACH ROW EXECUTE FUNCTION forum_keep_topic_revision();
CREATE TRIGGER forum_posts_revision BEFORE UPDATE OF body ON forum_posts
    FOR EACH ROW EXECUTE FUNCTION forum_keep_post_revision();

-- +goose Down
DROP TRIGGER forum_posts_revision ON forum_posts;
DROP TRIGGER forum_topics_revision ON forum_topics;
DROP FUNCTION forum_keep_post_revision();
DROP FUNCTION forum_keep_topic_revision();
DROP TABLE forum_revisions;
ALTER TABLE forum_posts DROP COLUMN hidden_reason, DROP COLUMN hidden_by;
ALTER TABLE forum_topics DROP COLUMN hidden_reason, DROP COLUMN hidden_by;
