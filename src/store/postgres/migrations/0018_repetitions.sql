-- consentry storage schema, version 18 (the SQLite migration of the same number):
-- `visits.repetition` (1 to N, `audit --repeat N`; 1 for every visit before) and one
-- visit per run, scenario and repetition (was: per run and scenario).
ALTER TABLE visits ADD COLUMN repetition BIGINT NOT NULL DEFAULT 1 CHECK (repetition >= 1);
ALTER TABLE visits DROP CONSTRAINT visits_run_id_scenario_key;
CREATE UNIQUE INDEX visits_run_scenario_repetition ON visits (run_id, scenario, repetition);
