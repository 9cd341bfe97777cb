-- +goose Up
-- Use cases (domain/usecase): what factories implemented and what it returned. The columns the
-- library filters, sorts and counts by are relational; the structured body (business challenge,
-- solution, implementation, results, lessons, location, contact) is one JSONB document, written
-- and read whole through usecase.Store, so another document store can take it later.
CREATE TABLE use_cases (
    id               uuid        PRIMARY KEY,
    organization_id  uuid        NOT NULL REFERENCES organizations (id),
    author_id        uuid        NOT NULL REFERENCES users (id),
    status           text        NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'submitted', 'changes_requested', 'published', 'rejected')),
    category         text        NOT NULL DEFAULT '',
    industry         text        NOT NULL DEFAULT '',
    title            text        NOT NULL DEFAULT '',
    city             text        NOT NULL DEFAULT '',
    region           text        NOT NULL DEFAULT '',
    view_count       int         NOT NULL DEFAULT 0,
    like_count       int         NOT NULL DEFAULT 0,
    save_count       int         NOT NULL DEFAULT 0,
    roi              numeric,                        -- the leading number of results.roiPercentage
    document         jsonb       NOT NULL DEFAULT '{}',
    version          int         NOT NULL DEFAULT 1, -- optimistic concurrency (If-Match)
    submissions      int         NOT NULL DEFAULT 0, -- times submitted (more than one: resubmitted)
    review_outcome   text,                           -- the last decision: publish | request_changes | reject
    review_comments  text,
    reviewed_by      uuid        REFERENCES users (id),
    reviewed_at      timestamptz,
    verified_at      timestamptz,                    -- a moderator checked its figures
    verified_by      uuid        REFERENCES users (id),
    featured_at      timestamptz,                    -- a moderator features it
    submitted_at     timestamptz,
    published_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    deleted_at       timestamptz
);
ALTER TABLE use_cases ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('arabic', forum_normalize(title)), 'A') ||
    to_tsvector('english', coalesce(document->>'description', '')) ||
    to_tsvector('arabic', forum_normalize(coalesce(document->>'description', '')))) STORED;

-- The library (published, newest first or by a counter) and its filters.
CREATE INDEX use_cases_published ON use_cases (published_at DESC, id DESC) WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_category ON use_cases (category, published_at DESC) WHERE status = 'published' AND deleted_at IS NULL;
-- The landing map's bounding box (usecasedb.Points).
CREATE INDEX use_cases_location ON use_cases (((document->'location'->>'latitude')::float8), ((document->'location'->>'longitude')::float8))
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_industry ON use_cases (industry, published_at DESC) WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX use_cases_search ON use_cases USING gin (search) WHERE status = 'published' AND deleted_at IS NULL;
-- The moderators' queue, oldest first.
CREATE INDEX use_cases_queue ON use_cases (submitted_at, id) WHERE status = 'submitted' AND deleted_at IS NULL;
-- An author's own.
CREATE INDEX use_cases_author ON use_cases (author_id, updated_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX use_cases_organization ON use_cases (organization_id) WHERE deleted_at IS NULL;

CREATE TABLE use_case_likes (
    use_case_id uuid        NOT NULL REFERENCES use_cases (id),
    user_id     uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (use_case_id, user_id)
);
CREATE TABLE use_case_saves (
    user_id     uuid        NOT NULL REFERENCES users (id),
    use_case_id uuid        NOT NULL REFERENCES use_cases (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, use_case_id)
);

-- +goose Down
DROP TABLE use_case_saves;
DROP TABLE use_case_likes;
DROP TABLE use_cases;
