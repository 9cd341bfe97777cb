-- +goose Up
-- The use case library's further filters and sorts (usecasedb.conditions and List): search also
-- finds the company and the tags, technologies are matched case-insensitively through one GIN
-- index, and the popularity and ROI sorts each have an index that serves their keyset pages.
ALTER TABLE use_cases DROP COLUMN search;
ALTER TABLE use_cases ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('arabic', forum_normalize(title)), 'A') ||
    setweight(to_tsvector('simple', coalesce(document->>'factoryName', '') || ' ' || coalesce(document->>'tags', '')), 'B') ||
    to_tsvector('english', coalesce(document->>'description', '')) ||
    to_tsvector('arabic', forum_normalize(coalesce(document->>'description', '')))) STORED;
CREATE INDEX use_cases_search ON use_cases USING gin (search) WHERE status = 'published' AND deleted_at IS NULL;

-- The tags and the technology components' names, lower-cased, as one JSON array (?tech=).
CREATE INDEX use_cases_technologies ON use_cases USING gin (
    (lower((coalesce(document->'tags', '[]') || jsonb_path_query_array(document, '$.solution.technologyComponents[*].component'))::text)::jsonb)
    jsonb_path_ops) WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_city ON use_cases (lower(city), published_at DESC) WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_viewed ON use_cases (view_count DESC, published_at DESC, id DESC) WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_liked ON use_cases (like_count DESC, published_at DESC, id DESC) WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_saved ON use_cases (save_count DESC, published_at DESC, id DESC) WHERE status = 'published' AND deleted_at IS NULL;
-- Highest ROI first; those that state none last (-1e300 stands for none in the cursor too).
CREATE INDEX use_cases_roi ON use_cases ((coalesce(roi::float8, -1e300)) DESC, published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;

-- +goose Down
DROP INDEX use_cases_roi;
DROP INDEX use_cases_saved;
DROP INDEX use_cases_liked;
DROP INDEX use_cases_viewed;
DROP INDEX use_cases_city;
DROP INDEX use_cases_technologies;
ALTER TABLE use_cases DROP COLUMN search;
ALTER TABLE use_cases ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('arabic', forum_normalize(title)), 'A') ||
    to_tsvector('english', coalesce(document->>'description', '')) ||
    to_tsvector('arabic', forum_normalize(coalesce(document->>'description', '')))) STORED;
CREATE INDEX use_cases_search ON use_cases USING gin (search) WHERE status = 'published' AND deleted_at IS NULL;
