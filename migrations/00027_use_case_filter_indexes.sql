-- +goose Up
-- The library filters by lower(category) and lower(industry) (any case), which the plain-column
-- indexes of 00015 cannot serve: with 100,000 published use cases a page with both filters read
-- the whole table (1.6-2.1 s p95). Found with BenchmarkLibrary100k (docs/perf.md); with these a
-- page of the newest or highest-ROI falls to p95 21-30 ms there. The statistics tell the planner
-- that a category and an industry are not independent.
CREATE INDEX use_cases_filters ON use_cases (lower(category), lower(industry), published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_industry_lower ON use_cases (lower(industry), published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
-- The sidebar's facets count per category and industry (and the organizations behind them)
-- from the index alone.
CREATE INDEX use_cases_facets ON use_cases (category, industry, organization_id)
    WHERE status = 'published' AND deleted_at IS NULL;
-- "Liked by me" and my likes read by user.
CREATE INDEX use_case_likes_user ON use_case_likes (user_id, use_case_id);
CREATE STATISTICS use_cases_category_industry (dependencies) ON lower(category), lower(industry) FROM use_cases;

-- +goose Down
DROP STATISTICS use_cases_category_industry;
DROP INDEX use_case_likes_user;
DROP INDEX use_cases_facets;
DROP INDEX use_cases_industry_lower;
DROP INDEX use_cases_filters;
