-- no-transaction
-- consentry storage schema, version 18: a scenario may be visited several times in one
-- run (`audit --repeat N`, issue 22): `visits.repetition` (1 to N, 1 for every visit
-- before) and one visit per run, scenario and repetition (was: per run and scenario).
--
-- SQLite cannot drop a table's UNIQUE constraint, so `visits` is rebuilt, SQLite's own
-- way (https://sqlite.org/lang_altertable.html, "other kinds of table schema changes"):
-- foreign keys off (only possible outside a transaction, hence `no-transaction` above
-- and the explicit transaction below), the new table filled with the old rows (ids
-- kept), the old one dropped (with foreign keys off, no child row is deleted), the new
-- one renamed; the child tables' `REFERENCES visits (id)` then name it. Foreign keys are
-- switched back on for the connection afterwards.
--
-- The first statement is the guard: on a database this migration already changed it
-- fails ("duplicate column name"), so a second process that opened the same new file at
-- the same moment gives up and, asked again, finds version 18 applied.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
ALTER TABLE visits ADD COLUMN repetition INTEGER NOT NULL DEFAULT 1;
CREATE TABLE visits_v18 (
    id                   INTEGER PRIMARY KEY,
    run_id               INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    scenario             TEXT    NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('complete', 'incomplete')),
    reason               TEXT,
    started_at           TEXT    NOT NULL,
    finished_at          TEXT    NOT NULL,
    final_consent        TEXT    NOT NULL,
    final_li_objected    BOOLEAN NOT NULL,
    final_actions        TEXT    NOT NULL,
    session_start_ms     INTEGER NOT NULL,
    load_ms              INTEGER NOT NULL,
    settle_ms            INTEGER NOT NULL,
    capture_ms           INTEGER NOT NULL,
    close_ms             INTEGER NOT NULL,
    warnings             TEXT    NOT NULL,
    position             INTEGER,
    failure_kind         TEXT,
    third_party_requests INTEGER,
    cmp_actions          TEXT    NOT NULL DEFAULT '[]',
    steps_ms             INTEGER NOT NULL DEFAULT 0,
    settles              TEXT    NOT NULL DEFAULT '[]',
    screenshot_ms        INTEGER NOT NULL DEFAULT 0,
    inventory_set        INTEGER REFERENCES inventory_sets (id),
    repetition           INTEGER NOT NULL DEFAULT 1 CHECK (repetition >= 1)
);
INSERT INTO visits_v18 (id, run_id, scenario, status, reason, started_at, finished_at,
       final_consent, final_li_objected, final_actions, session_start_ms,
       load_ms, settle_ms, capture_ms, close_ms, warnings, position,
       failure_kind, third_party_requests, cmp_actions, steps_ms, settles,
       screenshot_ms, inventory_set, repetition)
SELECT id, run_id, scenario, status, reason, started_at, finished_at,
       final_consent, final_li_objected, final_actions, session_start_ms,
       load_ms, settle_ms, capture_ms, close_ms, warnings, position,
       failure_kind, third_party_requests, cmp_actions, steps_ms, settles,
       screenshot_ms, inventory_set, repetition
FROM visits;
DROP TABLE visits;
ALTER TABLE visits_v18 RENAME TO visits;
CREATE UNIQUE INDEX visits_run_scenario_repetition ON visits (run_id, scenario, repetition);
COMMIT;
PRAGMA foreign_keys = ON;
