-- PostgreSQL mirror of src/store/sqlite/migrations/0009_screenshots.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 9: screenshots of the consent banner before and
-- after each consent action (src/screenshots.rs), run evidence. The PNG files live under
-- the reports directory (`<reports>/<site>/run-<id>/`); a row holds the file's absolute
-- path as written, never the image. `consentry purge` deletes the rows and the files of
-- the runs it purges. `visits.screenshot_ms`: the time taking them cost (0 before v9).
CREATE TABLE visit_screenshots (
    visit_id BIGINT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    step_index BIGINT NOT NULL,
    action TEXT COLLATE "C" NOT NULL CHECK (action IN ('accept_all', 'reject_all', 'object_li')),
    phase_when TEXT COLLATE "C" NOT NULL CHECK (phase_when IN ('before', 'after')),
    taken_at TEXT COLLATE "C" NOT NULL,
    page TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    capture_ms BIGINT NOT NULL,
    action_failed BOOLEAN NOT NULL,
    PRIMARY KEY (visit_id, seq)
);
ALTER TABLE visits ADD COLUMN screenshot_ms BIGINT NOT NULL DEFAULT 0;
