-- +goose Up
-- Suggestions match a title's normalised, lower-cased text (00026 indexed the expression). The
-- index finds candidates, but PostgreSQL rechecks every candidate row's LIKE, and with the
-- expression that meant running forum_normalize per row: 8,000 matches of a common word cost
-- 100-200 ms (BenchmarkSearch). Stored once per write, the recheck is a plain LIKE.
ALTER TABLE forum_topics ADD COLUMN title_key text GENERATED ALWAYS AS (lower(forum_normalize(title))) STORED;
ALTER TABLE use_cases ADD COLUMN title_key text GENERATED ALWAYS AS (lower(forum_normalize(title))) STORED;
DROP INDEX forum_topics_title_trgm;
DROP INDEX use_cases_title_trgm;
CREATE INDEX forum_topics_title_key ON forum_topics USING gin (title_key gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX use_cases_title_key ON use_cases USING gin (title_key gin_trgm_ops) WHERE status = 'published' AND deleted_at IS NULL;

-- +goose Down
DROP INDEX use_cases_title_key;
DROP INDEX forum_topics_title_key;
CREATE INDEX forum_topics_title_trgm ON forum_topics
    USING gin (lower(forum_normalize(title)) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX use_cases_title_trgm ON use_cases
    USING gin (lower(forum_normalize(title)) gin_trgm_ops) WHERE status = 'published' AND deleted_at IS NULL;
ALTER TABLE use_cases DROP COLUMN title_key;
ALTER TABLE forum_topics DROP COLUMN title_key;
