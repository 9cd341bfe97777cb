-- +goose Up
-- The document body of use cases behind usecase.Documents, the PostgreSQL twin of the MongoDB
-- collection use_case_documents (issue 16): one row per use case, written after the relational
-- change with the version of the row, so a retried write heals a crash between the two and a
-- late one never goes back in time (version only grows: see usecasedocs.Put).
CREATE TABLE use_case_documents (
    id      text  PRIMARY KEY,
    version int   NOT NULL CHECK (version >= 1),
    content jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object')
);

-- +goose Down
DROP TABLE use_case_documents;
