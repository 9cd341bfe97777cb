-- +goose Up
-- ?tech= matches the tags and the technology components' names, lower-cased, through a GIN index
-- on an expression over the document (00024). GIN's containment is checked again on each row it
-- finds, and with an expression that meant detoasting the row's whole document: a page of
-- Jeddah's IoT use cases (574 of 5,835) took 136-179 ms at 100,000 (docs/perf.md). Stored, the
-- keys are a small column beside the row.
ALTER TABLE use_cases ADD COLUMN tech_keys jsonb GENERATED ALWAYS AS (
    lower((coalesce(document->'tags', '[]') || jsonb_path_query_array(document, '$.solution.technologyComponents[*].component'))::text)::jsonb) STORED;
DROP INDEX use_cases_technologies;
CREATE INDEX use_cases_technologies ON use_cases USING gin (tech_keys jsonb_path_ops)
    WHERE status = 'published' AND deleted_at IS NULL;
-- The verified ones by their stated ROI: the count of a "verified, ROI at least N" page reads
-- this index alone instead of every verified row (117-136 ms).
CREATE INDEX use_cases_verified_roi ON use_cases (roi)
    WHERE status = 'published' AND deleted_at IS NULL AND verified_at IS NOT NULL;

-- +goose Down
DROP INDEX use_cases_verified_roi;
DROP INDEX use_cases_technologies;
ALTER TABLE use_cases DROP COLUMN tech_keys;
CREATE INDEX use_cases_technologies ON use_cases USING gin (
    (lower((coalesce(document->'tags', '[]') || jsonb_path_query_array(document, '$.solution.technologyComponents[*].component'))::text)::jsonb)
    jsonb_path_ops) WHERE status = 'published' AND deleted_at IS NULL;
