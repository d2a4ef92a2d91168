-- Read models behind the web console (dashboard, topology, quick stats, search). None of
-- them scans the mirrors at request time: counts come from `mirror_counts`, kept by
-- triggers, and everything else is an index range or a LIMITed index walk.

-- Mirrors counted per pair, lifecycle, status ('' = never checked), enabled flag and whether
-- they ever succeeded. Statement-level triggers fold each statement's changed rows into one
-- upsert per affected count (a 10,000-mirror import is one statement, not 10,000 writes of
-- the same row), and a status refresh that reads the same status changes nothing here.
CREATE TABLE mirror_counts (
    pair_id             BIGINT NOT NULL,
    lifecycle           TEXT NOT NULL,
    last_update_status  TEXT COLLATE "C" NOT NULL,
    enabled             BOOLEAN NOT NULL,
    succeeded           BOOLEAN NOT NULL,
    mirror_count        BIGINT NOT NULL,
    PRIMARY KEY (pair_id, lifecycle, last_update_status, enabled, succeeded)
);

-- Applies per-count deltas (a JSON array built from the statement's rows), in key order so concurrent statements lock the counts in the same order.
CREATE FUNCTION mirror_counts_apply(deltas JSONB) RETURNS void LANGUAGE sql AS $$
    INSERT INTO mirror_counts AS c
    SELECT (d->>'pair_id')::BIGINT, d->>'lifecycle', d->>'status', (d->>'enabled')::BOOLEAN,
           (d->>'succeeded')::BOOLEAN, (d->>'delta')::BIGINT
    FROM jsonb_array_elements(deltas) AS d
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (pair_id, lifecycle, last_update_status, enabled, succeeded)
    DO UPDATE SET mirror_count = c.mirror_count + excluded.mirror_count;
    DELETE FROM mirror_counts WHERE mirror_count = 0;
$$;

CREATE FUNCTION mirror_counts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mirror_counts_apply(COALESCE((
        SELECT jsonb_agg(jsonb_build_object('pair_id', pair_id, 'lifecycle', lifecycle,
            'status', status, 'enabled', enabled, 'succeeded', succeeded, 'delta', n))
        FROM (SELECT pair_id, lifecycle, COALESCE(last_update_status, '') AS status, enabled,
                     last_successful_update_time IS NOT NULL AS succeeded, COUNT(*) AS n
              FROM new_rows GROUP BY 1, 2, 3, 4, 5) g), '[]'));
    RETURN NULL;
END;
$$;

CREATE FUNCTION mirror_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mirror_counts_apply(COALESCE((
        SELECT jsonb_agg(jsonb_build_object('pair_id', pair_id, 'lifecycle', lifecycle,
            'status', status, 'enabled', enabled, 'succeeded', succeeded, 'delta', -n))
        FROM (SELECT pair_id, lifecycle, COALESCE(last_update_status, '') AS status, enabled,
                     last_successful_update_time IS NOT NULL AS succeeded, COUNT(*) AS n
              FROM old_rows GROUP BY 1, 2, 3, 4, 5) g), '[]'));
    RETURN NULL;
END;
$$;

CREATE FUNCTION mirror_counts_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mirror_counts_apply(COALESCE((
        SELECT jsonb_agg(jsonb_build_object('pair_id', pair_id, 'lifecycle', lifecycle,
            'status', status, 'enabled', enabled, 'succeeded', succeeded, 'delta', n))
        FROM (SELECT pair_id, lifecycle, status, enabled, succeeded, SUM(delta) AS n
              FROM (SELECT pair_id, lifecycle, COALESCE(last_update_status, '') AS status,
                           enabled, last_successful_update_time IS NOT NULL AS succeeded,
                           1 AS delta FROM new_rows
                    UNION ALL
                    SELECT pair_id, lifecycle, COALESCE(last_update_status, ''), enabled,
                           last_successful_update_time IS NOT NULL, -1 FROM old_rows) moved
              GROUP BY 1, 2, 3, 4, 5 HAVING SUM(delta) <> 0) g), '[]'));
    RETURN NULL;
END;
$$;

CREATE TRIGGER mirror_counts_on_insert AFTER INSERT ON mirrors
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_counts_on_insert();
CREATE TRIGGER mirror_counts_on_delete AFTER DELETE ON mirrors
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_counts_on_delete();
CREATE TRIGGER mirror_counts_on_update AFTER UPDATE ON mirrors
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_counts_on_update();

INSERT INTO mirror_counts
SELECT pair_id, lifecycle, COALESCE(last_update_status, ''), enabled,
       last_successful_update_time IS NOT NULL, COUNT(*)
FROM mirrors GROUP BY 1, 2, 3, 4, 5;

-- Newest success per pair (topology staleness): one index descent per pair.
CREATE INDEX mirrors_ready_success_idx ON mirrors (pair_id, last_successful_update_time)
    WHERE lifecycle = 'ready';

-- Quick stats: ready mirrors syncing now (status, then when it was read) and recent failures
-- (status, then GitLab's last update attempt). Freshness uses mirrors_status_check_idx.
CREATE INDEX mirrors_ready_status_idx ON mirrors (last_update_status, status_check_time,
    last_update_time) WHERE lifecycle = 'ready';

-- The status refresh block: the newest round of the scheduler's job kind.
CREATE INDEX jobs_kind_create_time_idx ON jobs (kind, create_time DESC, id DESC);

-- Search: substring matches of paths and names through trigrams (pg_trgm is a trusted
-- extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX mirrors_source_path_trgm_idx ON mirrors USING gin (source_project_path gin_trgm_ops);
CREATE INDEX mirrors_target_path_trgm_idx ON mirrors USING gin (target_project_path gin_trgm_ops);
