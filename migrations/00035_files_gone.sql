-- +goose Up
-- Files whose content went away (a deleted use case's images): kept for media.retention after
-- gone_at, so that a mistaken deletion can still be undone by an operator, then deleted with
-- their bytes by the media sweep.
ALTER TABLE files ADD COLUMN gone_at timestamptz;
CREATE INDEX files_gone ON files (gone_at) WHERE gone_at IS NOT NULL;

-- +goose Down
DROP INDEX files_gone;
ALTER TABLE files DROP COLUMN gone_at;
