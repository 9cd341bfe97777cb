-- +goose Up
-- Suggestions while typing (GET /api/v1/search/suggest) match any part of a title, in either
-- language with Arabic spelling unified as the forum's search does: trigram indexes over the
-- normalised, lower-cased titles of what may be suggested (live topics, published use cases).
CREATE INDEX forum_topics_title_trgm ON forum_topics
    USING gin (lower(forum_normalize(title)) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX use_cases_title_trgm ON use_cases
    USING gin (lower(forum_normalize(title)) gin_trgm_ops) WHERE status = 'published' AND deleted_at IS NULL;

-- +goose Down
DROP INDEX use_cases_title_trgm;
DROP INDEX forum_topics_title_trgm;
