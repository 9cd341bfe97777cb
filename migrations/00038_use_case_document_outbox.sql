-- +goose Up
-- The transactional outbox of use case documents (issue 16), used when the documents live in a
-- Documents store (MongoDB): a save writes the projection to use_cases.document and the whole
-- content here, in one transaction; after the commit the content is Put in the store and its row
-- deleted (by version: a newer save's row stays). A row left behind (the Put failed, the process
-- died) is what Get reads the content from until the healer Puts it (usecasedb.Healer). One row
-- per use case: only its newest content needs to reach the store, since Put keeps the highest
-- version anyway.
CREATE TABLE use_case_document_outbox (
    use_case_id uuid        PRIMARY KEY REFERENCES use_cases (id) ON DELETE CASCADE,
    version     int         NOT NULL CHECK (version >= 1),
    content     jsonb       NOT NULL CHECK (jsonb_typeof(content) = 'object'),
    queued_at   timestamptz NOT NULL DEFAULT now()
);
-- The healer takes the oldest rows first.
CREATE INDEX use_case_document_outbox_queued ON use_case_document_outbox (queued_at);

-- +goose Down
DROP TABLE use_case_document_outbox;
