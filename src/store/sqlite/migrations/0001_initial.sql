-- consentry storage schema, version 1.
--
-- Migrations are APPEND-ONLY: never edit or delete a migration that has shipped
-- (sqlx stores a checksum of every applied migration and refuses to open a database
-- whose history differs). Change the schema by adding 0002_..., 0003_..., etc.
--
-- Conventions (see docs/storage.md):
-- * timestamps are TEXT, RFC 3339 in UTC with exactly 9 fractional digits and a `Z`
--   suffix (`2025-01-31T09:15:02.123456789Z`), so text order is time order;
-- * booleans are BOOLEAN (0/1 in SQLite);
-- * lists are JSON arrays in TEXT columns;
-- * a consent state is three columns: <prefix>consent, <prefix>li_objected,
--   <prefix>actions (JSON array of action names), plus a derived `phase` label;
-- * cookie and storage VALUES are never stored, only `value_hash`.

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    site          TEXT    NOT NULL,
    scenario_file TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    status        TEXT    NOT NULL
        CHECK (status IN ('running', 'complete', 'incomplete', 'interrupted')),
    status_reason TEXT
);
CREATE INDEX runs_site_started_at ON runs (site, started_at);
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE visits (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    scenario           TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('complete', 'incomplete')),
    reason             TEXT,
    started_at         TEXT    NOT NULL,
    finished_at        TEXT    NOT NULL,
    final_consent      TEXT    NOT NULL,
    final_li_objected  BOOLEAN NOT NULL,
    final_actions      TEXT    NOT NULL,
    session_start_ms   INTEGER NOT NULL,
    load_ms            INTEGER NOT NULL,
    settle_ms          INTEGER NOT NULL,
    capture_ms         INTEGER NOT NULL,
    close_ms           INTEGER NOT NULL,
    warnings           TEXT    NOT NULL,
    UNIQUE (run_id, scenario)
);

CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    visit_id    INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    step_index  INTEGER NOT NULL,
    description TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
    detail      TEXT,
    started_at  TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    UNIQUE (visit_id, step_index)
);

CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    visit_id      INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    url           TEXT    NOT NULL,
    host          TEXT,
    method        TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    initiator     TEXT,
    frame_id      TEXT,
    target        TEXT    NOT NULL,
    http_status   INTEGER,
    error         TEXT,
    time          TEXT    NOT NULL,
    page          TEXT    NOT NULL,
    phase         TEXT    NOT NULL,
    consent       TEXT    NOT NULL,
    li_objected   BOOLEAN NOT NULL,
    actions       TEXT    NOT NULL,
    UNIQUE (visit_id, seq)
);
CREATE INDEX requests_host ON requests (host);

CREATE TABLE cookie_writes (
    id                      INTEGER PRIMARY KEY,
    visit_id                INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq                     INTEGER NOT NULL,
    name                    TEXT    NOT NULL,
    domain                  TEXT    NOT NULL,
    path                    TEXT,
    value_hash              TEXT    NOT NULL,
    requested_lifetime_secs INTEGER,
    source_kind             TEXT    NOT NULL CHECK (source_kind IN ('header', 'script')),
    source_url              TEXT    NOT NULL,
    blocked_reasons         TEXT    NOT NULL,
    time                    TEXT    NOT NULL,
    page                    TEXT    NOT NULL,
    phase                   TEXT    NOT NULL,
    consent                 TEXT    NOT NULL,
    li_objected             BOOLEAN NOT NULL,
    actions                 TEXT    NOT NULL,
    UNIQUE (visit_id, seq)
);
CREATE INDEX cookie_writes_name_domain ON cookie_writes (name, domain);

CREATE TABLE cookies (
    id            INTEGER PRIMARY KEY,
    visit_id      INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    domain        TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    value_hash    TEXT    NOT NULL,
    expires       TEXT,
    secure        BOOLEAN NOT NULL,
    http_only     BOOLEAN NOT NULL,
    same_site     TEXT,
    partition_key TEXT,
    observed_at   TEXT    NOT NULL,
    phase         TEXT    NOT NULL,
    consent       TEXT    NOT NULL,
    li_objected   BOOLEAN NOT NULL,
    actions       TEXT    NOT NULL,
    UNIQUE (visit_id, seq)
);
CREATE INDEX cookies_name_domain ON cookies (name, domain);

CREATE TABLE storage_writes (
    id          INTEGER PRIMARY KEY,
    visit_id    INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    area        TEXT    NOT NULL,
    origin      TEXT    NOT NULL,
    storage_key TEXT    NOT NULL,
    value_hash  TEXT    NOT NULL,
    time        TEXT    NOT NULL,
    page        TEXT    NOT NULL,
    phase       TEXT    NOT NULL,
    consent     TEXT    NOT NULL,
    li_objected BOOLEAN NOT NULL,
    actions     TEXT    NOT NULL,
    UNIQUE (visit_id, seq)
);

CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    scenario    TEXT,
    subject     TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    occurrences INTEGER NOT NULL,
    evidence    TEXT    NOT NULL,
    UNIQUE (run_id, seq)
);
-- (run_id) lookups use the UNIQUE (run_id, seq) index; likewise every child table's
-- (visit_id) lookups use its UNIQUE (visit_id, ...) index.
CREATE INDEX findings_fingerprint ON findings (fingerprint);
