-- +goose Up
-- Trending (domain/trending): the last rankings the periodic job computed, for cold starts when
-- Redis holds none. The job replaces every row in one transaction after computing them all, so
-- a reader sees one whole run or the one before it.
CREATE TABLE trending_snapshots (
    kind        text        NOT NULL,    -- topics | use-cases
    time_window text        NOT NULL,    -- 24h | 7d | 30d
    category    text        NOT NULL,    -- '' for overall, else the category in lower case
    position    int         NOT NULL,
    item        jsonb       NOT NULL,    -- trending.Item
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (kind, time_window, category, position)
);

-- Signals by time, for the job's scan of the last 30 days.
CREATE INDEX forum_posts_created ON forum_posts (created_at);
CREATE INDEX forum_likes_created ON forum_likes (created_at) WHERE target_type = 'topic';
CREATE INDEX forum_bookmarks_created ON forum_bookmarks (created_at);
CREATE INDEX use_case_likes_created ON use_case_likes (created_at);
CREATE INDEX use_case_saves_created ON use_case_saves (created_at);

-- +goose Down
DROP INDEX use_case_saves_created;
DROP INDEX use_case_likes_created;
DROP INDEX forum_bookmarks_created;
DROP INDEX forum_likes_created;
DROP INDEX forum_posts_created;
DROP TABLE trending_snapshots;
