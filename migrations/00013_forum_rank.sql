-- +goose Up
-- The hot list (forum.SortHot) reads a score kept on the topic instead of computing one per
-- request. Reddit's form: log10(engagement) + seconds since an origin / 45000. The age term grows
-- with the creation time, not with the clock, so the score of a topic changes only when its
-- counters do and the ORDER is the same at any moment: a topic sinks as newer ones arrive (each
-- 12.5 hours of age weighs as much as ten times the engagement), which is the time decay, and the
-- score can sit in an index. Engagement is the one Discourse's hot used here before:
-- 2 × likes + replies + 1. A stored generated column: every statement that changes the counters
-- (likes, replies, deletions, a direct UPDATE) recomputes it, none can forget it. The epoch is
-- taken from an interval (date_part on timestamptz is only stable, on an interval immutable).
ALTER TABLE forum_topics ADD COLUMN hot_score float8 GENERATED ALWAYS AS (
    log(greatest(2 * like_count + reply_count + 1, 1)::float8)
    + date_part('epoch', created_at - timestamptz '2024-01-01 00:00:00+00') / 45000) STORED;
CREATE INDEX forum_topics_hot ON forum_topics (hot_score DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX forum_topics_category_hot ON forum_topics (category_id, hot_score DESC, id DESC) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX forum_topics_category_hot;
DROP INDEX forum_topics_hot;
ALTER TABLE forum_topics DROP COLUMN hot_score;
