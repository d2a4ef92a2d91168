-- Mirrors created by jobs, jobs with their items, the transactional outbox and leases for
-- leader election (SQLite flavour of the PostgreSQL migration; the GitLab request budget table
-- is PostgreSQL only).
--
-- Jobs, items and outbox rows refer to pairs, mirrors and instances by plain ids, without
-- foreign keys: a job's history outlives the pair or mirror it worked on. JSON is TEXT holding
-- valid JSON (CHECKed).

-- ---- mirrors ----
--
-- SQLite cannot drop NOT NULL, so the table is rebuilt (https://sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): create the new table, copy, drop, rename,
-- recreate the indexes. No table refers to mirrors, so foreign keys need not be switched off
-- (which is impossible inside the migration's transaction anyway). AUTOINCREMENT: a deleted
-- mirror's id is never handed out again (job items keep referring to it), as in PostgreSQL.

CREATE TABLE mirrors_new (
    id                              INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id                         INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
    -- NULL until the create job has looked the project up.
    source_project_id               INTEGER,
    source_project_path             TEXT NOT NULL
                                    CONSTRAINT mirrors_source_project_path_length CHECK (length(source_project_path) BETWEEN 1 AND 500),
    target_project_id               INTEGER,
    target_project_path             TEXT NOT NULL
                                    CONSTRAINT mirrors_target_project_path_length CHECK (length(target_project_path) BETWEEN 1 AND 500),
    mirror_overwrite_diverged       INTEGER CHECK (mirror_overwrite_diverged IN (0, 1)),
    mirror_trigger_builds           INTEGER CHECK (mirror_trigger_builds IN (0, 1)),
    only_mirror_protected_branches  INTEGER CHECK (only_mirror_protected_branches IN (0, 1)),
    mirror_branch_regex             TEXT
                                    CONSTRAINT mirrors_mirror_branch_regex_length CHECK (mirror_branch_regex IS NULL OR length(mirror_branch_regex) BETWEEN 1 AND 255),
    lifecycle                       TEXT NOT NULL DEFAULT 'ready'
                                    CONSTRAINT mirrors_lifecycle_value
                                    CHECK (lifecycle IN ('creating', 'ready', 'create_failed', 'deleting')),
    gitlab_mirror_id                INTEGER,
    enabled                         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    last_update_status              TEXT,
    last_successful_update_time     TEXT,
    last_update_time                TEXT,
    last_error                      TEXT,
    status_check_time               TEXT,
    encrypted_mirror_token          TEXT
                                    CONSTRAINT mirrors_encrypted_mirror_token_format CHECK (encrypted_mirror_token IS NULL OR encrypted_mirror_token LIKE 'v1:%'),
    mirror_token_name               TEXT
                                    CONSTRAINT mirrors_mirror_token_name_length CHECK (mirror_token_name IS NULL OR length(mirror_token_name) <= 100),
    mirror_token_expire_time        TEXT,
    gitlab_token_id                 INTEGER,
    token_project_id                INTEGER,
    create_time                     TEXT NOT NULL,
    update_time                     TEXT NOT NULL,
    CONSTRAINT mirrors_pair_projects_key UNIQUE (pair_id, source_project_id, target_project_id),
    CONSTRAINT mirrors_pair_paths_key UNIQUE (pair_id, source_project_path, target_project_path)
) STRICT;

-- Rows that exist already were created in GitLab.
INSERT INTO mirrors_new (
    id, pair_id, source_project_id, source_project_path, target_project_id,
    target_project_path, mirror_overwrite_diverged, mirror_trigger_builds,
    only_mirror_protected_branches, mirror_branch_regex, lifecycle, gitlab_mirror_id, enabled,
    last_update_status, last_successful_update_time, last_update_time, last_error,
    status_check_time, encrypted_mirror_token, mirror_token_name, mirror_token_expire_time,
    gitlab_token_id, token_project_id, create_time, update_time
)
SELECT
    id, pair_id, source_project_id, source_project_path, target_project_id,
    target_project_path, mirror_overwrite_diverged, mirror_trigger_builds,
    only_mirror_protected_branches, mirror_branch_regex, 'ready', gitlab_mirror_id, enabled,
    last_update_status, last_successful_update_time, last_update_time, last_error,
    status_check_time, encrypted_mirror_token, mirror_token_name, mirror_token_expire_time,
    gitlab_token_id, token_project_id, create_time, update_time
FROM mirrors;

DROP TABLE mirrors;
ALTER TABLE mirrors_new RENAME TO mirrors;

-- The indexes of the initial schema.
CREATE INDEX mirrors_last_update_status_idx ON mirrors (last_update_status);
CREATE INDEX mirrors_update_time_idx ON mirrors (update_time);
CREATE INDEX mirrors_source_project_path_idx ON mirrors (source_project_path);
CREATE INDEX mirrors_target_project_path_idx ON mirrors (target_project_path);
CREATE INDEX mirrors_enabled_idx ON mirrors (enabled);
-- List filters and sorts (pair_id first: the console lists the mirrors of one pair). Sorting by
-- source path within a pair uses mirrors_pair_paths_key. NULLs sort first in SQLite.
CREATE INDEX mirrors_create_time_idx ON mirrors (create_time, id);
CREATE INDEX mirrors_pair_create_time_idx ON mirrors (pair_id, create_time, id);
CREATE INDEX mirrors_pair_update_time_idx ON mirrors (pair_id, update_time, id);
CREATE INDEX mirrors_pair_status_idx ON mirrors (pair_id, last_update_status, id);
CREATE INDEX mirrors_pair_target_path_idx ON mirrors (pair_id, target_project_path, id);
CREATE INDEX mirrors_token_expire_time_idx ON mirrors (mirror_token_expire_time);
-- The status scheduler: ready mirrors, never checked first.
CREATE INDEX mirrors_status_check_idx ON mirrors (status_check_time, id)
    WHERE lifecycle = 'ready';

-- ---- jobs ----

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL
                    CONSTRAINT jobs_kind_length CHECK (length(kind) BETWEEN 1 AND 100),
    state           TEXT NOT NULL
                    CONSTRAINT jobs_state_value
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'partially_failed', 'cancelled')),
    pair_id         INTEGER,
    mirror_id       INTEGER,
    instance_id     INTEGER,
    requested_by    TEXT NOT NULL,
    params          TEXT NOT NULL DEFAULT '{}'
                    CONSTRAINT jobs_params_json CHECK (json_valid(params)),
    total           INTEGER NOT NULL DEFAULT 0,
    done            INTEGER NOT NULL DEFAULT 0,
    succeeded       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    cancelled       INTEGER NOT NULL DEFAULT 0,
    warning_count   INTEGER NOT NULL DEFAULT 0,
    create_time     TEXT NOT NULL,
    start_time      TEXT,
    end_time        TEXT,
    update_time     TEXT NOT NULL,
    -- Every counter update keeps these; a violation is a bug, never silent drift.
    CONSTRAINT jobs_counters CHECK (
        done BETWEEN 0 AND total
        AND succeeded >= 0 AND failed >= 0 AND skipped >= 0 AND cancelled >= 0
        AND succeeded + failed + skipped + cancelled = done
        AND warning_count >= 0
    )
) STRICT;

CREATE INDEX jobs_create_time_idx ON jobs (create_time DESC, id DESC);
CREATE INDEX jobs_state_idx ON jobs (state);
CREATE INDEX jobs_pair_idx ON jobs (pair_id);
CREATE INDEX jobs_mirror_idx ON jobs (mirror_id);

CREATE TABLE job_items (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    mirror_id       INTEGER,
    label           TEXT NOT NULL,
    task_kind       TEXT NOT NULL
                    CONSTRAINT job_items_task_kind_length CHECK (length(task_kind) BETWEEN 1 AND 100),
    payload         TEXT NOT NULL DEFAULT '{}'
                    CONSTRAINT job_items_payload_json CHECK (json_valid(payload)),
    state           TEXT NOT NULL
                    CONSTRAINT job_items_state_value
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]'
                    CONSTRAINT job_items_warnings_array CHECK (json_valid(warnings) AND json_type(warnings) = 'array'),
    result          TEXT NOT NULL DEFAULT 'null'
                    CONSTRAINT job_items_result_json CHECK (json_valid(result)),
    duration_ms     INTEGER,
    start_time      TEXT,
    end_time        TEXT
) STRICT;

CREATE INDEX job_items_job_idx ON job_items (job_id, id);
CREATE INDEX job_items_job_state_idx ON job_items (job_id, state);

-- ---- outbox ----

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          INTEGER,
    item_id         INTEGER,
    task_kind       TEXT NOT NULL,
    payload         TEXT NOT NULL
                    CONSTRAINT outbox_payload_json CHECK (json_valid(payload)),
    -- W3C trace context of the request that queued the work.
    traceparent     TEXT,
    available_at    TEXT NOT NULL,
    -- Claimed by a relay until then.
    locked_until    TEXT,
    claims          INTEGER NOT NULL DEFAULT 0,
    create_time     TEXT NOT NULL
) STRICT;

CREATE INDEX outbox_available_idx ON outbox (available_at, id);

-- ---- leases ----

CREATE TABLE leases (
    name            TEXT PRIMARY KEY,
    holder          TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT;
