-- +goose Up
-- Direct uploads (issue 14): images, videos and documents sent by presigned PUT, verified, then
-- processed into variants (responsive sizes, a poster, a first-page thumbnail). They share the
-- files table with avatars and logos.
--   status 'uploading': the row and the presigned PUT exist, the bytes may not yet;
--   size: the declared size until the file is ready, then every stored byte (original and variants);
--   variants: [{name, format, contentType, width, height, size, key}];
--   meta: {width, height, durationSeconds, pages};
--   attached_*: what content the file belongs to (set by Claim); an upload never attached is
--   swept after a day.
ALTER TABLE files DROP CONSTRAINT files_kind_check,
    ADD CONSTRAINT files_kind_check CHECK (kind IN ('avatar', 'logo', 'image', 'video', 'document'));
ALTER TABLE files DROP CONSTRAINT files_status_check,
    ADD CONSTRAINT files_status_check CHECK (status IN ('uploading', 'pending', 'ready', 'failed'));
ALTER TABLE files
    ADD COLUMN name          text NOT NULL DEFAULT '',
    ADD COLUMN error_ar      text NOT NULL DEFAULT '',
    ADD COLUMN variants      jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN meta          jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN attached_type text,
    ADD COLUMN attached_id   uuid,
    ADD COLUMN attached_at   timestamptz,
    ADD CONSTRAINT files_attached CHECK ((attached_type IS NULL) = (attached_id IS NULL) AND (attached_id IS NULL) = (attached_at IS NULL));
-- The sweeper's walk: uploads never attached, oldest first.
CREATE INDEX files_unattached ON files (created_at) WHERE attached_at IS NULL AND kind IN ('image', 'video', 'document');
-- Storage use counts message attachments by their uploader's organization.
CREATE INDEX IF NOT EXISTS message_attachments_uploader ON message_attachments (uploader_id);

-- +goose Down
DROP INDEX IF EXISTS message_attachments_uploader;
DROP INDEX files_unattached;
DELETE FROM files WHERE kind NOT IN ('avatar', 'logo') OR status = 'uploading';
ALTER TABLE files DROP CONSTRAINT files_attached,
    DROP COLUMN name, DROP COLUMN error_ar, DROP COLUMN variants, DROP COLUMN meta,
    DROP COLUMN attached_type, DROP COLUMN attached_id, DROP COLUMN attached_at;
ALTER TABLE files DROP CONSTRAINT files_status_check,
    ADD CONSTRAINT files_status_check CHECK (status IN ('pending', 'ready', 'failed'));
ALTER TABLE files DROP CONSTRAINT files_kind_check,
    ADD CONSTRAINT files_kind_check CHECK (kind IN ('avatar', 'logo'));
