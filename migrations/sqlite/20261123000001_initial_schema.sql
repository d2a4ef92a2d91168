-- Users, GitLab instances, instance pairs and mirrors (SQLite flavour of the PostgreSQL schema).
--
-- Timestamps are TEXT in one fixed UTC format, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so text order is
-- time order. Booleans are INTEGER 0/1 with CHECKs. STRICT tables reject values of the wrong
-- type. Requires foreign_keys=ON (set on every connection by mm-storage).

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL
                    CONSTRAINT users_username_length CHECK (length(username) BETWEEN 1 AND 100),
    email           TEXT
                    CONSTRAINT users_email_length CHECK (email IS NULL OR length(email) BETWEEN 1 AND 255),
    password_hash   TEXT NOT NULL,
    is_admin        INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    create_time     TEXT NOT NULL,
    update_time     TEXT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
) STRICT;

CREATE TABLE instances (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL
                    CONSTRAINT instances_name_length CHECK (length(name) BETWEEN 1 AND 100),
    url             TEXT NOT NULL
                    CONSTRAINT instances_url_length CHECK (length(url) BETWEEN 1 AND 500),
    description     TEXT NOT NULL DEFAULT ''
                    CONSTRAINT instances_description_length CHECK (length(description) <= 500),
    -- AES-256-GCM ciphertext (`v1:<key id>:<base64>`); the plaintext token is never stored.
    encrypted_token TEXT NOT NULL
                    CONSTRAINT instances_encrypted_token_format CHECK (encrypted_token LIKE 'v1:%'),
    token_user_id   INTEGER,
    token_username  TEXT,
    gitlab_version  TEXT,
    gitlab_edition  TEXT,
    verify_time     TEXT,
    create_time     TEXT NOT NULL,
    update_time     TEXT NOT NULL,
    CONSTRAINT instances_name_key UNIQUE (name)
) STRICT;

CREATE INDEX instances_create_time_idx ON instances (create_time, id);
CREATE INDEX instances_update_time_idx ON instances (update_time, id);

CREATE TABLE pairs (
    id                              INTEGER PRIMARY KEY,
    name                            TEXT NOT NULL
                                    CONSTRAINT pairs_name_length CHECK (length(name) BETWEEN 1 AND 100),
    source_instance_id              INTEGER NOT NULL REFERENCES instances (id) ON DELETE RESTRICT,
    target_instance_id              INTEGER NOT NULL REFERENCES instances (id) ON DELETE RESTRICT,
    mirror_direction                TEXT NOT NULL
                                    CONSTRAINT pairs_mirror_direction_value CHECK (mirror_direction IN ('push', 'pull')),
    mirror_overwrite_diverged       INTEGER NOT NULL DEFAULT 0 CHECK (mirror_overwrite_diverged IN (0, 1)),
    mirror_trigger_builds           INTEGER NOT NULL DEFAULT 0 CHECK (mirror_trigger_builds IN (0, 1)),
    only_mirror_protected_branches  INTEGER NOT NULL DEFAULT 0 CHECK (only_mirror_protected_branches IN (0, 1)),
    mirror_branch_regex             TEXT
                                    CONSTRAINT pairs_mirror_branch_regex_length CHECK (mirror_branch_regex IS NULL OR length(mirror_branch_regex) BETWEEN 1 AND 255),
    description                     TEXT NOT NULL DEFAULT ''
                                    CONSTRAINT pairs_description_length CHECK (length(description) <= 500),
    create_time                     TEXT NOT NULL,
    update_time                     TEXT NOT NULL,
    CONSTRAINT pairs_name_key UNIQUE (name),
    CONSTRAINT pairs_distinct_instances CHECK (source_instance_id <> target_instance_id)
) STRICT;

CREATE INDEX pairs_source_target_idx ON pairs (source_instance_id, target_instance_id);
CREATE INDEX pairs_target_instance_idx ON pairs (target_instance_id);
CREATE INDEX pairs_create_time_idx ON pairs (create_time, id);
CREATE INDEX pairs_update_time_idx ON pairs (update_time, id);

CREATE TABLE mirrors (
    id                              INTEGER PRIMARY KEY,
    pair_id                         INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
    source_project_id               INTEGER NOT NULL,
    source_project_path             TEXT NOT NULL
                                    CONSTRAINT mirrors_source_project_path_length CHECK (length(source_project_path) BETWEEN 1 AND 500),
    target_project_id               INTEGER NOT NULL,
    target_project_path             TEXT NOT NULL
                                    CONSTRAINT mirrors_target_project_path_length CHECK (length(target_project_path) BETWEEN 1 AND 500),
    mirror_overwrite_diverged       INTEGER CHECK (mirror_overwrite_diverged IN (0, 1)),
    mirror_trigger_builds           INTEGER CHECK (mirror_trigger_builds IN (0, 1)),
    only_mirror_protected_branches  INTEGER CHECK (only_mirror_protected_branches IN (0, 1)),
    mirror_branch_regex             TEXT
                                    CONSTRAINT mirrors_mirror_branch_regex_length CHECK (mirror_branch_regex IS NULL OR length(mirror_branch_regex) BETWEEN 1 AND 255),
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
    CONSTRAINT mirrors_pair_projects_key UNIQUE (pair_id, source_project_id, target_project_id)
) STRICT;

CREATE INDEX mirrors_last_update_status_idx ON mirrors (last_update_status);
CREATE INDEX mirrors_update_time_idx ON mirrors (update_time);
CREATE INDEX mirrors_source_project_path_idx ON mirrors (source_project_path);
CREATE INDEX mirrors_target_project_path_idx ON mirrors (target_project_path);
CREATE INDEX mirrors_enabled_idx ON mirrors (enabled);
