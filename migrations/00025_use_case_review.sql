-- +goose Up
-- The use cases' review workflow (domain/usecase/review.go): a moderator claims a submitted use
-- case (under_review, claimed_by), sends it back with comments per field of the form
-- (review_field_comments), and a published one is archived and restored; every change of status
-- is appended to use_case_transitions in the transaction that makes it.
ALTER TABLE use_cases DROP CONSTRAINT use_cases_status_check;
ALTER TABLE use_cases ADD CONSTRAINT use_cases_status_check
    CHECK (status IN ('draft', 'submitted', 'under_review', 'changes_requested', 'published', 'rejected', 'archived'));
ALTER TABLE use_cases
    ADD COLUMN review_field_comments jsonb,                      -- [{"field", "comment"}] of the last decision
    ADD COLUMN claimed_by            uuid REFERENCES users (id), -- the moderator reviewing it (under_review only)
    ADD COLUMN claimed_at            timestamptz;

-- The queue holds what waits for a moderator and what one is reviewing, oldest first.
DROP INDEX use_cases_queue;
CREATE INDEX use_cases_queue ON use_cases (submitted_at, id)
    WHERE status IN ('submitted', 'under_review') AND deleted_at IS NULL;

CREATE TABLE use_case_transitions (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    use_case_id    uuid        NOT NULL REFERENCES use_cases (id),
    from_status    text,                                -- NULL: created
    to_status      text        NOT NULL,
    action         text        NOT NULL,                -- create, submit, claim, release, publish, request_changes, reject, archive, restore
    actor_id       uuid        NOT NULL REFERENCES users (id),
    comments       text        NOT NULL DEFAULT '',
    field_comments jsonb       NOT NULL DEFAULT '[]',
    at             timestamptz NOT NULL
);
CREATE INDEX use_case_transitions_use_case ON use_case_transitions (use_case_id, id);

-- +goose Down
DROP TABLE use_case_transitions;
DROP INDEX use_cases_queue;
CREATE INDEX use_cases_queue ON use_cases (submitted_at, id) WHERE status = 'submitted' AND deleted_at IS NULL;
UPDATE use_cases SET status = 'submitted' WHERE status = 'under_review';
UPDATE use_cases SET status = 'rejected' WHERE status = 'archived'; -- never back in the library unasked
ALTER TABLE use_cases DROP COLUMN claimed_at, DROP COLUMN claimed_by, DROP COLUMN review_field_comments;
ALTER TABLE use_cases DROP CONSTRAINT use_cases_status_check;
ALTER TABLE use_cases ADD CONSTRAINT use_cases_status_check
    CHECK (status IN ('draft', 'submitted', 'changes_requested', 'published', 'rejected'));
