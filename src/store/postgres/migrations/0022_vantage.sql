-- PostgreSQL mirror of src/store/sqlite/migrations/0021_vantage.sql (same version
-- number; TEXT in the "C" collation, as docs/storage.md, "PostgreSQL", says).
-- consentry storage schema, version 21: the vantage each run looked from (`[vantage]`,
-- docs/scenarios.md#vantage): its label, and its settings as JSON (label, proxy as
-- scheme://host:port, whether it had credentials, locale, timezone; never the
-- credentials). Runs stored before v21 have NULL in both and read as vantage `default`.
-- Drift compares runs of one vantage (docs/drift.md), hence the index.
ALTER TABLE runs ADD COLUMN vantage TEXT COLLATE "C";
ALTER TABLE runs ADD COLUMN vantage_settings TEXT COLLATE "C";
CREATE INDEX runs_site_vantage ON runs (site, vantage, started_at);
