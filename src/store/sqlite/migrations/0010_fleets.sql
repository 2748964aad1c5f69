-- consentry storage schema, version 10: fleet runs (docs/fleet.md). One `consentry
-- audit` of several sites is a fleet run; each site's run is a run as before (so `runs`,
-- `report`, `drift` and `ack` work per site), tied to its fleet run by `fleet_run_id`
-- (NULL for a single-site audit and for every run before v10).
CREATE TABLE fleet_runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    fleet_file TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete', 'interrupted')),
    status_reason TEXT
);
ALTER TABLE runs ADD COLUMN fleet_run_id INTEGER REFERENCES fleet_runs (id);
CREATE INDEX runs_by_fleet_run ON runs (fleet_run_id) WHERE fleet_run_id IS NOT NULL;
