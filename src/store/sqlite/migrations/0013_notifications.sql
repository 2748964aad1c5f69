-- consentry storage schema, version 13: alert deliveries (docs/alerts.md). One row per
-- notification and target: the run it was about (a single-site audit) or the fleet run
-- (a fleet audit), where it went (scheme, host, port and first path segment only: a
-- webhook's path beyond that, its query and any credentials are never stored), the shape
-- sent, whether it was delivered, after how many attempts, the last HTTP status and error.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs (id),
    fleet_run_id INTEGER REFERENCES fleet_runs (id),
    target TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('slack', 'generic')),
    status TEXT NOT NULL CHECK (status IN ('delivered', 'failed')),
    attempts INTEGER NOT NULL,
    http_status INTEGER,
    error TEXT,
    sent_at TEXT NOT NULL,
    CHECK (run_id IS NOT NULL OR fleet_run_id IS NOT NULL)
);
CREATE INDEX notifications_by_run ON notifications (run_id);
CREATE INDEX notifications_by_fleet_run ON notifications (fleet_run_id);
