-- consentry storage schema, version 4: the acknowledgements as they stood in each run
-- (docs/drift.md, "Acknowledgements"), written with the run's end, so a stored run
-- re-renders with the same acknowledgement statuses and the same verdict.
-- (Append-only, like every migration: see 0001_initial.sql.)

CREATE TABLE run_acks (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,                -- order within the run's snapshot
    fingerprint     TEXT    NOT NULL,                -- the finding acknowledged
    site            TEXT,                            -- the entry's site restriction, if any
    owner           TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    expires         TEXT    NOT NULL,                -- last instant it applies
    acknowledged_at TEXT,                            -- first instant it applies, if given
    status          TEXT    NOT NULL CHECK (status IN ('active', 'expired', 'unused')),
    location        TEXT    NOT NULL,                -- file:line of the entry
    UNIQUE (run_id, seq)
);
-- Drift: the acknowledgement status of one finding across runs.
CREATE INDEX run_acks_fingerprint ON run_acks (fingerprint);
