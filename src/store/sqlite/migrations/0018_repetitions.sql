-- consentry storage schema, version 18: a scenario may be visited several times in one
-- run (`audit --repeat N`, issue 22): `visits.repetition` (1 to N, 1 for every visit
-- before) and one visit per run, scenario and repetition (was: per run and scenario).
--
-- SQLite cannot drop a table's UNIQUE constraint, so the table is rebuilt. The child
-- tables (steps, requests, ..., finding_batches) name `visits` in their foreign keys:
-- with `legacy_alter_table` on, renaming the old table does not rewrite those
-- references, so they name the new table once it exists, and dropping the renamed old
-- table deletes no child row (no foreign key names it). Ids are copied as they are.
PRAGMA legacy_alter_table = ON;
ALTER TABLE visits RENAME TO visits_v17;
CREATE TABLE visits (
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
INSERT INTO visits (id, run_id, scenario, status, reason, started_at, finished_at,
                    final_consent, final_li_objected, final_actions, session_start_ms,
                    load_ms, settle_ms, capture_ms, close_ms, warnings, position,
                    failure_kind, third_party_requests, cmp_actions, steps_ms, settles,
                    screenshot_ms, inventory_set)
SELECT id, run_id, scenario, status, reason, started_at, finished_at,
       final_consent, final_li_objected, final_actions, session_start_ms,
       load_ms, settle_ms, capture_ms, close_ms, warnings, position,
       failure_kind, third_party_requests, cmp_actions, steps_ms, settles,
       screenshot_ms, inventory_set
FROM visits_v17;
DROP TABLE visits_v17;
CREATE UNIQUE INDEX visits_run_scenario_repetition ON visits (run_id, scenario, repetition);
PRAGMA legacy_alter_table = OFF;
