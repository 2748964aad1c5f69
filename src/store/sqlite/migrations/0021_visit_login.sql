-- consentry storage schema, version 22: the scenario file's `[login]` as each visit ran
-- it (docs/scenarios.md#login): a JSON `LoginObs` (its steps' outcomes, the time it
-- completed, null when it failed). NULL for a visit that ran no login, and for every
-- visit stored before v22. A finding's evidence says itself whether it was logged in.
ALTER TABLE visits ADD COLUMN login TEXT;
