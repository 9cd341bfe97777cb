-- +goose Up
-- A topic's attachments are the files attached to it (files.attached_*), read with the topic.
CREATE INDEX files_attached ON files (attached_id, attached_at) WHERE attached_id IS NOT NULL;

-- +goose Down
DROP INDEX files_attached;
