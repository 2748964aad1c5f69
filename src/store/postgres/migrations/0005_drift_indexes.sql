-- PostgreSQL mirror of src/store/sqlite/migrations/0005_drift_indexes.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 5: indexes the drift pack needs over a long history
-- (bench/RESULTS-drift.md). `Store::site_history` asks, per visit, whether it carries an
-- inventory (`EXISTS ... visit_inventory WHERE visit_id = ?`); without this index that
-- is a full scan of `visit_inventory` for every visit without vendor activity (a visit
-- not observed), seconds per site-quarter on a year of 50 sites. It is also what the
-- `ON DELETE CASCADE` from `visits` needs.
CREATE INDEX visit_inventory_visit ON visit_inventory (visit_id);
