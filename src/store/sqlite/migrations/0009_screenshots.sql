-- consentry storage schema, version 9: screenshots of the consent banner before and
-- after each consent action (src/screenshots.rs), run evidence. The PNG files live under
-- the reports directory (`<reports>/<site>/run-<id>/`); a row holds the file's absolute
-- path as written, never the image. `consentry purge` deletes the rows and the files of
-- the runs it purges. `visits.screenshot_ms`: the time taking them cost (0 before v9).
CREATE TABLE visit_screenshots (
    visit_id INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step_index INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('accept_all', 'reject_all', 'object_li')),
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
ALTER TABLE visits ADD COLUMN screenshot_ms INTEGER NOT NULL DEFAULT 0;
