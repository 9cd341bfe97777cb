-- +goose Up
-- Who may start a conversation with a user or add them to a group (domain/identity/privacy.go):
-- anyone, users of verified organizations, colleagues, nobody. Open by default, as the platform
-- exists for organizations to meet; profile visibility still hides a user from strangers.
ALTER TABLE users ADD COLUMN allow_messages_from text NOT NULL DEFAULT 'anyone'
    CHECK (allow_messages_from IN ('anyone', 'verified', 'organization', 'nobody'));

-- A profile may be shown to users of verified organizations (and colleagues) only.
ALTER TABLE users DROP CONSTRAINT users_profile_visibility_check;
ALTER TABLE users ADD CONSTRAINT users_profile_visibility_check
    CHECK (profile_visibility IN ('public', 'verified_only', 'organization', 'private'));

-- When the platform's moderators verified the organization; NULL while it is not.
ALTER TABLE organizations ADD COLUMN verified_at timestamptz;

-- +goose Down
ALTER TABLE organizations DROP COLUMN verified_at;
-- The narrowest of the old values that shows a verified_only profile to no more people.
UPDATE users SET profile_visibility = 'organization' WHERE profile_visibility = 'verified_only';
ALTER TABLE users DROP CONSTRAINT users_profile_visibility_check;
ALTER TABLE users ADD CONSTRAINT users_profile_visibility_check
    CHECK (profile_visibility IN ('public', 'organization', 'private'));
ALTER TABLE users DROP COLUMN allow_messages_from;
