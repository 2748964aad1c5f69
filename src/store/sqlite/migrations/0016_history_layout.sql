-- consentry storage schema, version 16: history that scales with the fleet (issue 26;
-- docs/storage.md, "History layout"). What repeats night after night is stored once and
-- referenced:
--   * the declared map of a run: `declaration_sets` + `declaration_items`, referenced by
--     `runs.declaration_set` (was one `run_declarations` row per run, vendor and purpose);
--   * the inventory of a visit (the declared vendors that acted, third-party hosts,
--     cookies, loaders): `inventory_sets` + `inventory_items`, referenced by
--     `visits.inventory_set` (was `visit_vendors` and `visit_inventory`, row by row);
--   * a finding's identity (fingerprint, code, severity, site, scenario, subject, vendor,
--     rule) and its first message: `finding_keys`, referenced by each run's `findings`
--     row, which keeps what changes from night to night (occurrences, evidence, and the
--     message only when it differs from the key's, e.g. a count in it).
-- What the drift pack reads per run is summed once, when the visit is written:
-- `run_vendors`, per run and declared vendor (was summed from `visit_vendors` per pack).
--
-- A set's `digest` is the SHA-256 of its canonical content, computed by the writer
-- (src/store/sql/sets.rs), which reuses a set with the same digest. SQL has no SHA-256
-- here, so the sets this migration converts carry no digest: they are deduplicated among
-- themselves (by their content, below) but not reused by later writes.
--
-- Existing rows are converted in place, then the old tables are dropped. The order of
-- rows within a set is the order the old tables gave them (by id), so every reader sees
-- what it saw before.

-- The declared map.
CREATE TABLE declaration_sets (
    id     INTEGER PRIMARY KEY,
    digest TEXT UNIQUE
);
CREATE TABLE declaration_items (
    set_id             INTEGER NOT NULL REFERENCES declaration_sets (id) ON DELETE CASCADE,
    seq                INTEGER NOT NULL,
    vendor             TEXT    NOT NULL,
    vendor_name        TEXT    NOT NULL,
    purpose            TEXT    NOT NULL,
    basis              TEXT    NOT NULL,
    strictly_necessary BOOLEAN NOT NULL,
    tcf_purpose        INTEGER,
    PRIMARY KEY (set_id, seq)
) WITHOUT ROWID;
ALTER TABLE runs ADD COLUMN declaration_set INTEGER REFERENCES declaration_sets (id);

CREATE TEMP TABLE m16_run_keys (run_id INTEGER PRIMARY KEY, k TEXT NOT NULL);
INSERT INTO m16_run_keys (run_id, k)
SELECT run_id,
       group_concat(vendor || char(31) || vendor_name || char(31) || purpose || char(31)
                    || basis || char(31) || strictly_necessary || char(31)
                    || COALESCE(tcf_purpose, ''), char(30) ORDER BY id)
FROM run_declarations GROUP BY run_id;
CREATE TEMP TABLE m16_decl_sets (k TEXT PRIMARY KEY, id INTEGER NOT NULL);
INSERT INTO m16_decl_sets (k, id) SELECT k, MIN(run_id) FROM m16_run_keys GROUP BY k;
INSERT INTO declaration_sets (id) SELECT id FROM m16_decl_sets;
INSERT INTO declaration_items
    (set_id, seq, vendor, vendor_name, purpose, basis, strictly_necessary, tcf_purpose)
SELECT run_id, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY id) - 1,
       vendor, vendor_name, purpose, basis, strictly_necessary, tcf_purpose
FROM run_declarations WHERE run_id IN (SELECT id FROM m16_decl_sets);
UPDATE runs SET declaration_set = (
    SELECT s.id FROM m16_run_keys r JOIN m16_decl_sets s ON s.k = r.k WHERE r.run_id = runs.id
);
DROP TABLE m16_run_keys;
DROP TABLE m16_decl_sets;
DROP TABLE run_declarations;

-- The inventory. `kind` 'vendor': a declared vendor that made requests, cookie writes
-- or storage writes in the visit (`item` is its id); the other kinds as before.
CREATE TABLE inventory_sets (
    id     INTEGER PRIMARY KEY,
    digest TEXT UNIQUE
);
CREATE TABLE inventory_items (
    set_id         INTEGER NOT NULL REFERENCES inventory_sets (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('vendor', 'host', 'cookie', 'loaded-by')),
    item           TEXT    NOT NULL,
    vendor         TEXT,
    lifetime_secs  INTEGER,
    declared_secs  INTEGER,
    over_retention BOOLEAN NOT NULL DEFAULT 0,
    detail         TEXT,
    PRIMARY KEY (set_id, seq)
) WITHOUT ROWID;
-- NULL: the visit carries no inventory (not observed, or recorded before version 3).
ALTER TABLE visits ADD COLUMN inventory_set INTEGER REFERENCES inventory_sets (id);

CREATE TEMP TABLE m16_visit_items AS
SELECT visit_id, 0 AS grp, vendor AS ord_text, id AS ord, 'vendor' AS kind, vendor AS item,
       NULL AS vendor, NULL AS lifetime_secs, NULL AS declared_secs, 0 AS over_retention,
       NULL AS detail
FROM visit_vendors
UNION ALL
SELECT visit_id, 1, '', id, kind, item, vendor, lifetime_secs, declared_secs, over_retention,
       detail
FROM visit_inventory;
CREATE TEMP TABLE m16_visit_keys (visit_id INTEGER PRIMARY KEY, k TEXT NOT NULL);
INSERT INTO m16_visit_keys (visit_id, k)
SELECT visit_id,
       group_concat(kind || char(31) || item || char(31) || COALESCE(vendor, char(1))
                    || char(31) || COALESCE(lifetime_secs, char(1)) || char(31)
                    || COALESCE(declared_secs, char(1)) || char(31) || over_retention
                    || char(31) || COALESCE(detail, char(1)), char(30) ORDER BY grp, ord_text, ord)
FROM m16_visit_items GROUP BY visit_id;
CREATE TEMP TABLE m16_inv_sets (k TEXT PRIMARY KEY, id INTEGER NOT NULL);
INSERT INTO m16_inv_sets (k, id) SELECT k, MIN(visit_id) FROM m16_visit_keys GROUP BY k;
INSERT INTO inventory_sets (id) SELECT id FROM m16_inv_sets;
INSERT INTO inventory_items
    (set_id, seq, kind, item, vendor, lifetime_secs, declared_secs, over_retention, detail)
SELECT visit_id, ROW_NUMBER() OVER (PARTITION BY visit_id ORDER BY grp, ord_text, ord) - 1,
       kind, item, vendor, lifetime_secs, declared_secs, over_retention, detail
FROM m16_visit_items WHERE visit_id IN (SELECT id FROM m16_inv_sets);
UPDATE visits SET inventory_set = (
    SELECT s.id FROM m16_visit_keys v JOIN m16_inv_sets s ON s.k = v.k
    WHERE v.visit_id = visits.id
);
DROP TABLE m16_visit_items;
DROP TABLE m16_visit_keys;
DROP TABLE m16_inv_sets;

-- Per run and declared vendor: its activity summed over the run's visits, and the
-- records made after an objection in visits observed completely (what the LIA review
-- reads as "objection not honoured").
CREATE TABLE run_vendors (
    run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    vendor            TEXT    NOT NULL,
    requests          INTEGER NOT NULL,
    cookie_writes     INTEGER NOT NULL,
    storage_writes    INTEGER NOT NULL,
    unauthorized      INTEGER NOT NULL,
    objected          INTEGER NOT NULL,
    objected_observed INTEGER NOT NULL,
    PRIMARY KEY (run_id, vendor)
) WITHOUT ROWID;
INSERT INTO run_vendors (run_id, vendor, requests, cookie_writes, storage_writes,
                         unauthorized, objected, objected_observed)
SELECT x.run_id, x.vendor, SUM(x.requests), SUM(x.cookie_writes), SUM(x.storage_writes),
       SUM(x.unauthorized), SUM(x.objected),
       SUM(CASE WHEN v.status = 'complete' THEN x.objected ELSE 0 END)
FROM visit_vendors x JOIN visits v ON v.id = x.visit_id
GROUP BY x.run_id, x.vendor;
DROP TABLE visit_vendors;
DROP TABLE visit_inventory;

-- Findings: the identity once, each run's occurrence as a row, keyed by (run, seq) (no
-- surrogate id, no index on visit_id: nothing selects findings by visit, and visits are
-- never deleted but with their run).
CREATE TABLE finding_keys (
    id          INTEGER PRIMARY KEY,
    digest      TEXT UNIQUE,
    fingerprint TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    scenario    TEXT,
    subject     TEXT    NOT NULL,
    vendor      TEXT,
    rule        TEXT    NOT NULL,
    message     TEXT
);
CREATE INDEX finding_keys_fingerprint ON finding_keys (fingerprint);
INSERT INTO finding_keys (fingerprint, code, severity, site, scenario, subject, vendor, rule)
SELECT DISTINCT fingerprint, code, severity, site, scenario, subject, vendor, rule
FROM findings;
-- A key's message is that of its first finding; a finding keeps its own only when it
-- differs (a count in it changed), NULL otherwise.
UPDATE finding_keys SET message = (
    SELECT f.message FROM findings f
    WHERE f.fingerprint = finding_keys.fingerprint AND f.code = finding_keys.code
      AND f.severity = finding_keys.severity AND f.site = finding_keys.site
      AND f.scenario IS finding_keys.scenario AND f.subject = finding_keys.subject
      AND f.vendor IS finding_keys.vendor AND f.rule = finding_keys.rule
    ORDER BY f.id LIMIT 1
);
CREATE TABLE findings_v16 (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    visit_id    INTEGER REFERENCES visits (id) ON DELETE CASCADE,
    key_id      INTEGER NOT NULL REFERENCES finding_keys (id),
    message     TEXT,
    occurrences INTEGER NOT NULL,
    evidence    TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);
INSERT INTO findings_v16 (run_id, seq, visit_id, key_id, message, occurrences, evidence)
SELECT f.run_id, f.seq, f.visit_id, k.id,
       CASE WHEN f.message = k.message THEN NULL ELSE f.message END, f.occurrences, f.evidence
FROM findings f JOIN finding_keys k
  ON k.fingerprint = f.fingerprint AND k.code = f.code AND k.severity = f.severity
 AND k.site = f.site AND k.scenario IS f.scenario AND k.subject = f.subject
 AND k.vendor IS f.vendor AND k.rule = f.rule;
DROP TABLE findings;
ALTER TABLE findings_v16 RENAME TO findings;
CREATE INDEX findings_key ON findings (key_id);

-- What every reader of findings selects: the row with its identity.
CREATE VIEW finding_view AS
SELECT f.run_id, f.seq, f.visit_id, COALESCE(f.message, k.message) AS message,
       f.occurrences, f.evidence, k.fingerprint, k.code, k.severity, k.site, k.scenario, k.subject, k.vendor, k.rule
FROM findings f JOIN finding_keys k ON k.id = f.key_id;
