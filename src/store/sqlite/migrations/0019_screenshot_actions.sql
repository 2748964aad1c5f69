-- consentry storage schema, version 19: screenshots around a partial consent choice
-- (`accept_some`, issue 22) are stored like those of the other consent actions. Version
-- 9's CHECK on `visit_screenshots.action` named accept_all, reject_all and object_li
-- only. SQLite cannot change a CHECK in place, so the table is rebuilt (no other table
-- references it, so this needs no `no-transaction`): the new table, the old rows, the
-- old table dropped, the new one renamed.
CREATE TABLE visit_screenshots_v19 (
    visit_id INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step_index INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('accept_all', 'reject_all', 'object_li', 'accept_some')),
    phase_when TEXT NOT NULL CHECK (phase_when IN ('before', 'after')),
    taken_at TEXT NOT NULL,
    page TEXT NOT NULL,
    path TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    capture_ms INTEGER NOT NULL,
    action_failed BOOLEAN NOT NULL,
    PRIMARY KEY (visit_id, seq)
);
INSERT INTO visit_screenshots_v19 SELECT visit_id, seq, step_index, action, phase_when,
    taken_at, page, path, width, height, bytes, capture_ms, action_failed FROM visit_screenshots;
DROP TABLE visit_screenshots;
ALTER TABLE visit_screenshots_v19 RENAME TO visit_screenshots;
