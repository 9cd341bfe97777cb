-- +goose Up
-- The forum (domain/forum): platform-wide topics in categories, threaded replies, likes,
-- bookmarks and best answers. Counters live on their rows and change in the transaction of what
-- they count.
CREATE TABLE forum_categories (
    id          text PRIMARY KEY,            -- the slug
    name_en     text NOT NULL,
    name_ar     text NOT NULL,
    position    int  NOT NULL,
    topic_count int  NOT NULL DEFAULT 0
);
INSERT INTO forum_categories (id, name_en, name_ar, position) VALUES
    ('automation', 'Automation', 'الأتمتة', 1),
    ('quality-management', 'Quality Management', 'إدارة الجودة', 2),
    ('maintenance', 'Maintenance', 'الصيانة', 3),
    ('artificial-intelligence', 'Artificial Intelligence', 'الذكاء الاصطناعي', 4),
    ('internet-of-things', 'Internet of Things', 'إنترنت الأشياء', 5),
    ('general', 'General', 'عام', 6);

-- Arabic spelling variants read alike: alef forms (أ إ آ ٱ → ا), taa marbuta (ة → ه), alef
-- maqsura (ى → ي); diacritics and tatweel dropped. Search indexes and queries both go through it.
-- +goose StatementBegin
CREATE FUNCTION forum_normalize(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(regexp_replace(t, '[\u064B-\u065F\u0670\u0640]', '', 'g'), 'أإآٱةى', 'ااااهي')
$$;
-- +goose StatementEnd

-- Text made safe to show as HTML before search marks its matches with <mark>.
-- +goose StatementBegin
CREATE FUNCTION forum_escape_html(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
$$;
-- +goose StatementEnd

-- Of a search's English and Arabic snippets, the one that marks a match (the English one when
-- neither does, since it keeps the spelling as written).
-- +goose StatementBegin
CREATE FUNCTION forum_marked(en text, ar text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN strpos(en, '<mark>') > 0 OR strpos(ar, '<mark>') = 0 THEN en ELSE ar END
$$;
-- +goose StatementEnd

CREATE TABLE forum_topics (
    id               uuid        PRIMARY KEY,
    category_id      text        NOT NULL REFERENCES forum_categories (id),
    author_id        uuid        NOT NULL REFERENCES users (id),
    kind             text        NOT NULL CHECK (kind IN ('question', 'discussion')),
    title            text        NOT NULL,
    body             text        NOT NULL,  -- Markdown, as written
    body_html        text        NOT NULL,  -- rendered and sanitized
    excerpt          text        NOT NULL,  -- the start of its plain text
    body_text        text        NOT NULL,  -- its plain text, for search snippets
    tags             text[]      NOT NULL DEFAULT '{}',
    is_pinned        boolean     NOT NULL DEFAULT false,
    is_locked        boolean     NOT NULL DEFAULT false,
    best_answer_id   uuid,
    reply_count      int         NOT NULL DEFAULT 0,
    like_count       int         NOT NULL DEFAULT 0,
    view_count       int         NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    edited_at        timestamptz,
    last_activity_at timestamptz NOT NULL,
    deleted_at       timestamptz
);
CREATE INDEX forum_topics_activity ON forum_topics (is_pinned DESC, last_activity_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_newest ON forum_topics (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_category ON forum_topics (category_id, last_activity_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_author ON forum_topics (author_id, created_at DESC);
CREATE INDEX forum_topics_liked ON forum_topics (like_count DESC, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_viewed ON forum_topics (view_count DESC, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_unanswered ON forum_topics (created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND kind = 'question' AND reply_count = 0;
CREATE INDEX forum_topics_recent ON forum_topics (last_activity_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_open ON forum_topics (last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL AND kind = 'question' AND best_answer_id IS NULL;
ALTER TABLE forum_topics ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('arabic', forum_normalize(title)), 'A') ||
    to_tsvector('english', body_text) || to_tsvector('arabic', forum_normalize(body_text))) STORED;
CREATE INDEX forum_topics_search ON forum_topics USING gin (search) WHERE deleted_at IS NULL;

-- Replies: to the topic (parent_id NULL) or to another reply, at any depth.
CREATE TABLE forum_posts (
    id          uuid        PRIMARY KEY,
    topic_id    uuid        NOT NULL REFERENCES forum_topics (id),
    parent_id   uuid        REFERENCES forum_posts (id),
    author_id   uuid        NOT NULL REFERENCES users (id),
    depth       int         NOT NULL CHECK (depth >= 0),
    body        text        NOT NULL,
    body_html   text        NOT NULL,
    like_count  int         NOT NULL DEFAULT 0,
    reply_count int         NOT NULL DEFAULT 0,  -- direct replies
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    edited_at   timestamptz,
    deleted_at  timestamptz
);
CREATE INDEX forum_posts_thread ON forum_posts (topic_id, parent_id, created_at, id);
CREATE INDEX forum_posts_parent ON forum_posts (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
ALTER TABLE forum_topics ADD CONSTRAINT forum_topics_best_answer
    FOREIGN KEY (best_answer_id) REFERENCES forum_posts (id);

CREATE TABLE forum_likes (
    target_type text        NOT NULL CHECK (target_type IN ('topic', 'post')),
    target_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (target_type, target_id, user_id)
);

CREATE TABLE forum_bookmarks (
    user_id    uuid        NOT NULL REFERENCES users (id),
    topic_id   uuid        NOT NULL REFERENCES forum_topics (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);

-- +goose Down
DROP TABLE forum_bookmarks;
DROP TABLE forum_likes;
ALTER TABLE forum_topics DROP CONSTRAINT forum_topics_best_answer;
DROP TABLE forum_posts;
DROP TABLE forum_topics;
DROP TABLE forum_categories;
DROP FUNCTION forum_normalize(text);
DROP FUNCTION forum_escape_html(text);
DROP FUNCTION forum_marked(text, text);
