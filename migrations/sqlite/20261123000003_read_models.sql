-- Read models behind the web console (SQLite flavour of the PostgreSQL file). Counts come
-- from `mirror_counts`, kept by triggers; SQLite serialises writers, so no lock ordering is
-- needed.

CREATE TABLE mirror_counts (
    pair_id             INTEGER NOT NULL,
    lifecycle           TEXT NOT NULL,
    last_update_status  TEXT NOT NULL,
    enabled             INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    succeeded           INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
    mirror_count        INTEGER NOT NULL CONSTRAINT mirror_counts_not_negative CHECK (mirror_count >= 0),
    PRIMARY KEY (pair_id, lifecycle, last_update_status, enabled, succeeded)
) STRICT;

CREATE TRIGGER mirror_counts_on_insert AFTER INSERT ON mirrors BEGIN
    INSERT INTO mirror_counts VALUES (NEW.pair_id, NEW.lifecycle,
        COALESCE(NEW.last_update_status, ''), NEW.enabled,
        NEW.last_successful_update_time IS NOT NULL, 1)
    ON CONFLICT (pair_id, lifecycle, last_update_status, enabled, succeeded)
    DO UPDATE SET mirror_count = mirror_count + 1;
END;

CREATE TRIGGER mirror_counts_on_delete AFTER DELETE ON mirrors BEGIN
    UPDATE mirror_counts SET mirror_count = mirror_count - 1
    WHERE pair_id = OLD.pair_id AND lifecycle = OLD.lifecycle
      AND last_update_status = COALESCE(OLD.last_update_status, '') AND enabled = OLD.enabled
      AND succeeded = (OLD.last_successful_update_time IS NOT NULL);
    DELETE FROM mirror_counts WHERE mirror_count = 0 AND pair_id = OLD.pair_id;
END;

CREATE TRIGGER mirror_counts_on_update AFTER UPDATE ON mirrors
WHEN OLD.pair_id IS NOT NEW.pair_id
  OR OLD.lifecycle IS NOT NEW.lifecycle
  OR OLD.last_update_status IS NOT NEW.last_update_status
  OR OLD.enabled IS NOT NEW.enabled
  OR (OLD.last_successful_update_time IS NULL) <> (NEW.last_successful_update_time IS NULL)
BEGIN
    UPDATE mirror_counts SET mirror_count = mirror_count - 1
    WHERE pair_id = OLD.pair_id AND lifecycle = OLD.lifecycle
      AND last_update_status = COALESCE(OLD.last_update_status, '') AND enabled = OLD.enabled
      AND succeeded = (OLD.last_successful_update_time IS NOT NULL);
    INSERT INTO mirror_counts VALUES (NEW.pair_id, NEW.lifecycle,
        COALESCE(NEW.last_update_status, ''), NEW.enabled,
        NEW.last_successful_update_time IS NOT NULL, 1)
    ON CONFLICT (pair_id, lifecycle, last_update_status, enabled, succeeded)
    DO UPDATE SET mirror_count = mirror_count + 1;
    DELETE FROM mirror_counts WHERE mirror_count = 0 AND pair_id = OLD.pair_id;
END;

INSERT INTO mirror_counts
SELECT pair_id, lifecycle, COALESCE(last_update_status, ''), enabled,
       last_successful_update_time IS NOT NULL, COUNT(*)
FROM mirrors WHERE TRUE GROUP BY 1, 2, 3, 4, 5;

CREATE INDEX mirrors_ready_success_idx ON mirrors (pair_id, last_successful_update_time)
    WHERE lifecycle = 'ready';

CREATE INDEX mirrors_ready_status_idx ON mirrors (last_update_status, status_check_time,
    last_update_time) WHERE lifecycle = 'ready';

CREATE INDEX jobs_kind_create_time_idx ON jobs (kind, create_time DESC, id DESC);
