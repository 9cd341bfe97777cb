-- +goose Up
-- Platform moderators (domain/identity/moderation.go): staff of the platform, not of an
-- organization. They verify and suspend organizations and moderate the forum. NULL for everyone
-- else; the auth core keeps the same role for the token's role claim.
ALTER TABLE users ADD COLUMN platform_role text CHECK (platform_role IN ('moderator'));
CREATE INDEX users_platform_role ON users (platform_role) WHERE platform_role IS NOT NULL;

-- A suspended organization's members cannot sign in (is_active is false); when and why.
ALTER TABLE organizations ADD COLUMN suspended_at timestamptz,
                          ADD COLUMN suspension_reason text;

-- +goose Down
ALTER TABLE organizations DROP COLUMN suspension_reason, DROP COLUMN suspended_at;
DROP INDEX users_platform_role;
ALTER TABLE users DROP COLUMN platform_role;
