-- consentry storage schema, version 2: typed failures, per-visit findings, what the
-- verdict needs to be re-rendered, and what the declaration was.
-- (Append-only, like every migration: see 0001_initial.sql.)

-- The run's settings and the digests of the files it audited.
ALTER TABLE runs ADD COLUMN fail_on TEXT;           -- a severity, 'never', or NULL (before v2)
ALTER TABLE runs ADD COLUMN scenario_digest TEXT;   -- SHA-256 prefix of the scenario file
ALTER TABLE runs ADD COLUMN policy_digest TEXT;     -- SHA-256 prefix of the policy file
-- Who runs it: a later audit on the same host marks a `running` run whose process is gone
-- as incomplete.
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host TEXT;

-- Visits: their place in the run order, the kind of failure, third-party request count.
ALTER TABLE visits ADD COLUMN position INTEGER;
ALTER TABLE visits ADD COLUMN failure_kind TEXT;
ALTER TABLE visits ADD COLUMN third_party_requests INTEGER;
ALTER TABLE steps ADD COLUMN failure_kind TEXT;

-- Requests the browser cancelled, or whose document navigated away before a response.
ALTER TABLE requests ADD COLUMN cancelled BOOLEAN NOT NULL DEFAULT 0;
-- A Set-Cookie / document.cookie Expires attribute that could not be parsed (its raw text).
ALTER TABLE cookie_writes ADD COLUMN expiry_unparsed TEXT;

-- Uncaught exceptions in the visit's pages, frames and workers.
CREATE TABLE page_errors (
    id       INTEGER PRIMARY KEY,
    visit_id INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    message  TEXT    NOT NULL,
    source   TEXT,
    time     TEXT    NOT NULL,
    page     TEXT    NOT NULL,
    UNIQUE (visit_id, seq)
);

-- The visit whose analysis produced a finding (NULL: a run-level finding). Findings of a
-- visit are written in the same transaction as the visit.
ALTER TABLE findings ADD COLUMN visit_id INTEGER REFERENCES visits (id) ON DELETE CASCADE;
CREATE INDEX findings_run_visit ON findings (run_id, visit_id);

-- Per-database settings; `hash_key` is the random key cookie and storage values are
-- hashed with (so hashes compare within this history but cannot be confirmed offline).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
