-- +goose Up
-- The public map's points in a table of their own (issue 13). A box of the map read its 10,000
-- rows from use_cases, whose rows are wide (the document, the search vector, the keys): 10,000
-- rows there are thousands of pages, the largest part of the statement (docs/perf.md). Here a
-- point is one narrow row holding the whole GeoJSON feature as served, kept by a trigger for the
-- published, live, located use cases only, so a box reads few pages and the store only frames
-- the features it reads.
CREATE TABLE use_case_map_points (
    use_case_id  uuid        PRIMARY KEY REFERENCES use_cases (id) ON DELETE CASCADE,
    published_at timestamptz NOT NULL,
    latitude     float8      NOT NULL,
    longitude    float8      NOT NULL,
    feature      text        NOT NULL  -- {"type":"Feature","id":…,"geometry":…,"properties":<map_point>}
);
CREATE INDEX use_case_map_points_box ON use_case_map_points (latitude, longitude);

-- +goose StatementBegin
CREATE FUNCTION use_cases_keep_map_points() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'published' AND NEW.deleted_at IS NULL AND NEW.map_point IS NOT NULL
       AND NEW.map_latitude IS NOT NULL AND NEW.map_longitude IS NOT NULL AND NEW.published_at IS NOT NULL THEN
        INSERT INTO use_case_map_points (use_case_id, published_at, latitude, longitude, feature)
        VALUES (NEW.id, NEW.published_at, NEW.map_latitude, NEW.map_longitude,
            '{"type":"Feature","id":' || to_json(NEW.id::text)::text || ',"geometry":{"type":"Point","coordinates":['
            || NEW.map_longitude::text || ',' || NEW.map_latitude::text || ']},"properties":' || NEW.map_point || '}')
        ON CONFLICT (use_case_id) DO UPDATE SET published_at = excluded.published_at, latitude = excluded.latitude,
            longitude = excluded.longitude, feature = excluded.feature;
    ELSE
        DELETE FROM use_case_map_points WHERE use_case_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- After the row's own trigger (00031) has written map_point: counters and views never run it.
CREATE TRIGGER use_cases_map_points AFTER INSERT OR UPDATE OF document, status, deleted_at, published_at ON use_cases
    FOR EACH ROW EXECUTE FUNCTION use_cases_keep_map_points();
INSERT INTO use_case_map_points (use_case_id, published_at, latitude, longitude, feature)
SELECT id, published_at, map_latitude, map_longitude,
    '{"type":"Feature","id":' || to_json(id::text)::text || ',"geometry":{"type":"Point","coordinates":['
    || map_longitude::text || ',' || map_latitude::text || ']},"properties":' || map_point || '}'
FROM use_cases
WHERE status = 'published' AND deleted_at IS NULL AND map_point IS NOT NULL
  AND map_latitude IS NOT NULL AND map_longitude IS NOT NULL AND published_at IS NOT NULL;

-- +goose Down
DROP TRIGGER use_cases_map_points ON use_cases;
DROP FUNCTION use_cases_keep_map_points();
DROP TABLE use_case_map_points;
