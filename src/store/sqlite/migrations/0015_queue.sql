-- consentry storage schema, version 15: the work queue of fleet runs (docs/queue.md).
-- `consentry enqueue` writes a fleet run, its sites' runs and their jobs in one
-- transaction; `consentry worker` processes, on any machine, lease one job at a time
-- (a lease expires unless its worker renews it), write its result and mark it done in one
-- transaction, exactly once.
--
-- queue_fleets: a queued fleet run: what its workers load (the input files, JSON), the
-- per-site limits, when it was queued. No alert target is stored (a webhook's URL is often
-- its credential): the worker that finishes the fleet posts to the fleet file's `notify`
-- and its own --notify.
CREATE TABLE queue_fleets (
    fleet_run_id INTEGER PRIMARY KEY REFERENCES fleet_runs (id),
    inputs TEXT NOT NULL,
    per_site INTEGER NOT NULL,
    page_delay_ms INTEGER NOT NULL,
    enqueued_at TEXT NOT NULL
);
-- queue_sites: a queued site's run, and when a page job of it was last leased (the
-- fleet's page_delay spaces them across workers). Leasing a page job locks this row.
CREATE TABLE queue_sites (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id),
    fleet_run_id INTEGER NOT NULL REFERENCES queue_fleets (fleet_run_id),
    last_leased_ms INTEGER
);
-- queue_jobs: discover a site's pages, visit one scenario, finish a site's run, finish
-- the fleet run. Times of leases are milliseconds since the epoch by the database's
-- clock (never a worker's). A visit keeps its observation (JSON) until its site's run
-- is finished (the run-level checks read it), then it is cleared.
CREATE TABLE queue_jobs (
    id INTEGER PRIMARY KEY,
    fleet_run_id INTEGER NOT NULL REFERENCES queue_fleets (fleet_run_id),
    run_id INTEGER REFERENCES runs (id),
    kind TEXT NOT NULL CHECK (kind IN ('discover', 'visit', 'finish-site', 'finish-fleet')),
    scenario TEXT,
    position INTEGER,
    state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    lease_until_ms INTEGER,
    last_error TEXT,
    observation TEXT,
    data_versions TEXT,
    done_at TEXT
);
CREATE INDEX queue_jobs_open ON queue_jobs (state, kind, id);
CREATE INDEX queue_jobs_by_run ON queue_jobs (run_id, state);
CREATE INDEX queue_jobs_by_fleet ON queue_jobs (fleet_run_id, state);
CREATE INDEX queue_jobs_by_owner ON queue_jobs (owner, state);
