-- PostgreSQL mirror of src/store/sqlite/migrations/0007_cmp_actions.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 7: how each consent action of a visit was performed
-- and what the CMP recorded (src/cmp): a JSON list of `CmpAction` (action, method
-- autoconsent / selectors / fallback, the CMP autoconsent detected, success, the
-- detection-to-done time, the CMP's record read back and the effects applied to the
-- following phase). Visits stored before v7 read as an empty list.
ALTER TABLE visits ADD COLUMN cmp_actions TEXT COLLATE "C" NOT NULL DEFAULT '[]';
