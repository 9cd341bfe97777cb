-- +goose Up
-- Messages arrive all the time. With GIN's default 4 MB pending list, every few thousand
-- messages one insert merged the whole list into the index while it held its conversations'
-- row locks, and sends stalled for seconds; with no pending list at all, every message rewrote
-- the posting lists of each of its words, tens of megabytes of WAL a second. Small lists keep
-- the merging batched and each merge short (docs/perf.md).
ALTER INDEX messages_search SET (gin_pending_list_limit = 256);

-- +goose Down
ALTER INDEX messages_search RESET (gin_pending_list_limit);
