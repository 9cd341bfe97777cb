-- +goose Up
-- The library's category and industry filters match any case. 00027 indexed lower(category) and
-- lower(industry), but an expression index cannot serve an index-only scan: the count of a page
-- with both filters (2,035 of 100,000 in BenchmarkLibrary100k) then had to visit the heap for
-- each match, and the planner preferred a parallel scan of the whole facets index (72 ms of the
-- page's 160-290 ms). Stored keys are plain columns, so the count reads the index alone.
ALTER TABLE use_cases
    ADD COLUMN category_key text GENERATED ALWAYS AS (lower(category)) STORED,
    ADD COLUMN industry_key text GENERATED ALWAYS AS (lower(industry)) STORED;
DROP STATISTICS use_cases_category_industry;
DROP INDEX use_cases_industry_lower;
DROP INDEX use_cases_filters;
CREATE INDEX use_cases_filters ON use_cases (category_key, industry_key, published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_industry_key ON use_cases (industry_key, published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE STATISTICS use_cases_category_industry (dependencies) ON category_key, industry_key FROM use_cases;

-- +goose Down
DROP STATISTICS use_cases_category_industry;
DROP INDEX use_cases_industry_key;
DROP INDEX use_cases_filters;
CREATE INDEX use_cases_filters ON use_cases (lower(category), lower(industry), published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_industry_lower ON use_cases (lower(industry), published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE STATISTICS use_cases_category_industry (dependencies) ON lower(category), lower(industry) FROM use_cases;
ALTER TABLE use_cases DROP COLUMN industry_key, DROP COLUMN category_key;
