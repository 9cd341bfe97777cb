-- +goose Up
-- Messages arrive all the time; with GIN's pending list, every few megabytes of them one insert
-- merges the whole list into the index while it holds its conversations' row locks, and sends
-- stall for seconds (docs/perf.md). Without it each insert updates the index itself: a little
-- more work per message, none of the stalls.
ALTER INDEX messages_search SET (fastupdate = off);

-- +goose Down
ALTER INDEX messages_search RESET (fastupdate);
