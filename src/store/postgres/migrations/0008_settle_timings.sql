-- PostgreSQL mirror of src/store/sqlite/migrations/0008_settle_timings.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 8: where a visit's time went, without overlaps.
-- `steps_ms`: the scenario's steps without the settles and page loads inside them (before
-- version 8 steps were counted in `load_ms`; older rows keep 0 here).
-- `settles`: every settle of the visit as JSON, in order: `[{"why": .., "ms": ..,
-- "ended": "idle" | "quiet_window" | "timeout"}]` (what ended it, see docs/storage.md).
ALTER TABLE visits ADD COLUMN steps_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN settles TEXT COLLATE "C" NOT NULL DEFAULT '[]';
