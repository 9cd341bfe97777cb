-- +goose Up
-- The platform's search (domain/search) finds replies and organizations too.
--
-- Replies are matched as topics are (00011): one tsvector of the English and the Arabic
-- (forum_normalize'd) words, under a GIN index of the live ones. A reply keeps no plain text, only
-- its Markdown and its sanitized HTML, so the text is taken from the HTML: tags become spaces (a
-- paragraph's last word does not run into the next one's first), the entities the sanitizer
-- writes are decoded (&amp; last, so that an escaped entity stays text) and runs of spaces
-- collapse. Snippets are made from the same text, so what is marked is what was indexed.
-- +goose StatementBegin
CREATE FUNCTION forum_html_text(html text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(
        replace(replace(replace(replace(replace(replace(replace(
            regexp_replace(html, '<[^>]*>', ' ', 'g'),
            '&lt;', '<'), '&gt;', '>'), '&#34;', '"'), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '), '&amp;', '&'),
        '\s+', ' ', 'g'))
$$;
-- +goose StatementEnd
ALTER TABLE forum_posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('english', forum_html_text(body_html)) || to_tsvector('arabic', forum_normalize(forum_html_text(body_html)))) STORED;
CREATE INDEX forum_posts_search ON forum_posts USING gin (search) WHERE deleted_at IS NULL;

-- Organizations are matched by a part of their name, normalised and lower-cased as titles are
-- for suggestions, and for the reason of 00028 the key is stored: with the expression, every
-- candidate's recheck ran forum_normalize, and a word in every name cost 160 ms on 20,000
-- organizations. Only those that may be shown (active, not suspended) are indexed.
ALTER TABLE organizations ADD COLUMN name_key text GENERATED ALWAYS AS (lower(forum_normalize(name))) STORED;
CREATE INDEX organizations_name_key ON organizations USING gin (name_key gin_trgm_ops)
    WHERE is_active AND suspended_at IS NULL;
-- One or two letters are looked for at the start of names (a trigram cannot narrow them).
CREATE INDEX organizations_name_prefix ON organizations (name_key text_pattern_ops)
    WHERE is_active AND suspended_at IS NULL;

-- +goose Down
DROP INDEX organizations_name_prefix;
DROP INDEX organizations_name_key;
ALTER TABLE organizations DROP COLUMN name_key;
DROP INDEX forum_posts_search;
ALTER TABLE forum_posts DROP COLUMN search;
DROP FUNCTION forum_html_text(text);
