-- consentry storage schema, version 21: the vantage each run looked from (`[vantage]`,
-- docs/scenarios.md#vantage): its label, and its settings as JSON (label, proxy as
-- scheme://host:port, whether it had credentials, locale, timezone; never the
-- credentials). Runs stored before v21 have NULL in both and read as vantage `default`.
-- Drift compares runs of one vantage (docs/drift.md), hence the index.
ALTER TABLE runs ADD COLUMN vantage TEXT;
ALTER TABLE runs ADD COLUMN vantage_settings TEXT;
CREATE INDEX runs_site_vantage ON runs (site, vantage, started_at);
