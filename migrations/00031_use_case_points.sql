-- +goose Up
-- The public map's points. A point needs a dozen small fields of the document, and reading them
-- from the document detoasted 10,000 documents of about 2.5 kB for a box of the map (163 ms of
-- the statement's 190 ms at 100,000 use cases, docs/perf.md). The point is kept beside the
-- document, small enough to stay in the row, by a trigger, so every writer of the document (the
-- store, a seed, an operator's UPDATE) keeps it right: benefits are the first three stated
-- improvements as "metric: improvement". map_point is the feature's properties as the API
-- serves them (the id included), written out as JSON text (never queried inside, and text needs
-- no conversion when read); map_latitude and map_longitude are its geometry.
ALTER TABLE use_cases ADD COLUMN map_point text, ADD COLUMN map_latitude float8, ADD COLUMN map_longitude float8;

-- +goose StatementBegin
CREATE FUNCTION use_case_map_point(d jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'title', coalesce(d->>'title', ''),
        'description', coalesce(d->>'description', ''),
        'factoryName', coalesce(d->>'factoryName', ''),
        'city', coalesce(d->'location'->>'city', ''),
        'category', coalesce(d->>'category', ''),
        'implementationTime', coalesce(d->'implementation'->>'implementationTime', ''),
        'benefits', coalesce((SELECT jsonb_agg(b.benefit ORDER BY b.i) FROM (
            SELECT coalesce(m->>'metric', '') || ': ' || (m->>'improvement') AS benefit, i
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'results'->'quantitativeMetrics') = 'array'
                THEN d->'results'->'quantitativeMetrics' ELSE '[]' END) WITH ORDINALITY e(m, i)
            WHERE coalesce(m->>'improvement', '') <> '' ORDER BY i LIMIT 3) b), '[]'),
        'roiPercentage', coalesce(d->'results'->>'roiPercentage', ''),
        'contactPerson', coalesce(d->>'contactPerson', ''),
        'contactTitle', coalesce(d->>'contactTitle', ''))
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION use_cases_keep_map_point() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.map_point := (use_case_map_point(NEW.document) || jsonb_build_object('id', NEW.id))::text;
    NEW.map_latitude := CASE WHEN jsonb_typeof(NEW.document->'location'->'latitude') = 'number'
        THEN (NEW.document->'location'->'latitude')::float8 END;
    NEW.map_longitude := CASE WHEN jsonb_typeof(NEW.document->'location'->'longitude') = 'number'
        THEN (NEW.document->'location'->'longitude')::float8 END;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- UPDATE OF document: counters, status and review changes never run it.
CREATE TRIGGER use_cases_map_point BEFORE INSERT OR UPDATE OF document ON use_cases
    FOR EACH ROW EXECUTE FUNCTION use_cases_keep_map_point();
UPDATE use_cases SET document = document; -- the trigger fills the new columns

-- +goose Down
DROP TRIGGER use_cases_map_point ON use_cases;
DROP FUNCTION use_cases_keep_map_point();
DROP FUNCTION use_case_map_point(jsonb);
ALTER TABLE use_cases DROP COLUMN map_longitude, DROP COLUMN map_latitude, DROP COLUMN map_point;
