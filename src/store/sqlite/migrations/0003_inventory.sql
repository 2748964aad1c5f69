-- consentry storage schema, version 3: what drift and the LIA review pack need, kept
-- small enough to outlive `consentry purge` of the raw records (docs/storage.md).

-- The declared vendor a finding is about (NULL: undeclared host or cookie, a scenario,
-- a map issue; and every finding recorded before version 3).
ALTER TABLE findings ADD COLUMN vendor TEXT;

-- Per visit and declared vendor: what it did, and how much of it its declared basis did
-- not allow (src/inventory.rs).
CREATE TABLE visit_vendors (
    id             INTEGER PRIMARY KEY,
    visit_id       INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    vendor         TEXT    NOT NULL,
    requests       INTEGER NOT NULL,
    cookie_writes  INTEGER NOT NULL,
    storage_writes INTEGER NOT NULL,
    unauthorized   INTEGER NOT NULL,
    objected       INTEGER NOT NULL,
    UNIQUE (visit_id, vendor)
);
CREATE INDEX visit_vendors_run ON visit_vendors (run_id);

-- Per visit: third-party hosts, cookies (name@domain, lifetime, declared retention) and
-- hosts loaded by another declared vendor's script.
CREATE TABLE visit_inventory (
    id             INTEGER PRIMARY KEY,
    visit_id       INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('host', 'cookie', 'loaded-by')),
    item           TEXT    NOT NULL,
    vendor         TEXT,
    lifetime_secs  INTEGER,
    declared_secs  INTEGER,
    over_retention BOOLEAN NOT NULL DEFAULT 0,
    detail         TEXT
);
CREATE INDEX visit_inventory_run ON visit_inventory (run_id);

-- The declared map of each run: one row per (vendor, purpose), so a report can tell a
-- change of declaration from a change of behaviour.
CREATE TABLE run_declarations (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    vendor             TEXT    NOT NULL,
    vendor_name        TEXT    NOT NULL,
    purpose            TEXT    NOT NULL,
    basis              TEXT    NOT NULL,
    strictly_necessary BOOLEAN NOT NULL,
    tcf_purpose        INTEGER,
    UNIQUE (run_id, vendor, purpose)
);
