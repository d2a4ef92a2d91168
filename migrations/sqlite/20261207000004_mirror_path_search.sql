-- Substring search over mirror paths without scanning `mirrors`: an FTS5 index of trigrams
-- (case-insensitive), kept in step by triggers. It is the SQLite counterpart of the pg_trgm
-- indexes of the PostgreSQL schema. The index holds no text of its own (`content = 'mirrors'`).
-- Its case folding covers more than ASCII, unlike LIKE; GitLab paths are ASCII, so both answer
-- alike.

CREATE VIRTUAL TABLE mirror_path_search USING fts5 (
    source_project_path,
    target_project_path,
    content = 'mirrors',
    content_rowid = 'id',
    tokenize = 'trigram'
);

INSERT INTO mirror_path_search (mirror_path_search) VALUES ('rebuild');

CREATE TRIGGER mirror_path_search_on_insert AFTER INSERT ON mirrors BEGIN
    INSERT INTO mirror_path_search (rowid, source_project_path, target_project_path)
    VALUES (NEW.id, NEW.source_project_path, NEW.target_project_path);
END;

CREATE TRIGGER mirror_path_search_on_delete AFTER DELETE ON mirrors BEGIN
    INSERT INTO mirror_path_search (mirror_path_search, rowid, source_project_path, target_project_path)
    VALUES ('delete', OLD.id, OLD.source_project_path, OLD.target_project_path);
END;

CREATE TRIGGER mirror_path_search_on_update AFTER UPDATE OF source_project_path, target_project_path ON mirrors
BEGIN
    INSERT INTO mirror_path_search (mirror_path_search, rowid, source_project_path, target_project_path)
    VALUES ('delete', OLD.id, OLD.source_project_path, OLD.target_project_path);
    INSERT INTO mirror_path_search (rowid, source_project_path, target_project_path)
    VALUES (NEW.id, NEW.source_project_path, NEW.target_project_path);
END;
