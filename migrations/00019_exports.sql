-- +goose Up
-- Exports (domain/export): a file made in the background for one user (a use case as PDF, the
-- library as Excel or CSV, an organization's members as Excel). The row is the job's state, read
-- by the status route; the file itself lives in object storage under file_key. A use case counts
-- its downloads (the PDF's) in download_count.
CREATE TABLE exports (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id  uuid        REFERENCES organizations (id) ON DELETE CASCADE,
    kind             text        NOT NULL CHECK (kind IN ('use-case-pdf', 'use-cases-xlsx', 'use-cases-csv', 'members-xlsx')),
    params           jsonb       NOT NULL DEFAULT '{}',
    status           text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    percent          int         NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
    rows             int         NOT NULL DEFAULT 0,
    file_key         text        NOT NULL DEFAULT '',
    file_name        text        NOT NULL DEFAULT '',
    content_type     text        NOT NULL DEFAULT '',
    size             bigint      NOT NULL DEFAULT 0,
    error_en         text        NOT NULL DEFAULT '',
    error_ar         text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX exports_user ON exports (user_id, created_at DESC);

ALTER TABLE use_cases ADD COLUMN download_count int NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE use_cases DROP COLUMN download_count;
DROP TABLE exports;
