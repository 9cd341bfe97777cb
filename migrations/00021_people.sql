-- +goose Up
-- People (domain/people): follows between users and the directory's indexes.
CREATE TABLE people_follows (
    follower_id uuid        NOT NULL REFERENCES users (id),
    followee_id uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
-- Followers of one person, newest first (the followers list); following uses the primary key
-- prefix plus this order through people_follows_following.
CREATE INDEX people_follows_followers ON people_follows (followee_id, created_at DESC, follower_id DESC);
CREATE INDEX people_follows_following ON people_follows (follower_id, created_at DESC, followee_id DESC);

-- Counts kept in the follow's transaction, so the directory and the dashboard read them
-- without counting.
CREATE TABLE people_follow_counts (
    user_id   uuid PRIMARY KEY REFERENCES users (id),
    followers integer NOT NULL DEFAULT 0 CHECK (followers >= 0),
    following integer NOT NULL DEFAULT 0 CHECK (following >= 0)
);

-- The directory lists people by name (keyset on the lower-cased full name and id), matches a
-- part of a name through trigrams and expertise tags through GIN.
CREATE INDEX users_directory_name ON users ((lower(first_name || ' ' || last_name)), id)
    WHERE deleted_at IS NULL AND is_active AND profile_visibility <> 'private';
CREATE INDEX users_directory_name_trgm ON users USING gin ((lower(first_name || ' ' || last_name)) gin_trgm_ops)
    WHERE deleted_at IS NULL AND is_active AND profile_visibility <> 'private';
CREATE INDEX users_directory_expertise ON users USING gin (expertise_tags)
    WHERE deleted_at IS NULL AND is_active AND profile_visibility <> 'private';

-- +goose Down
DROP INDEX users_directory_expertise;
DROP INDEX users_directory_name_trgm;
DROP INDEX users_directory_name;
DROP TABLE people_follow_counts;
DROP TABLE people_follows;
