-- consentry storage schema, version 17: fewer, wider rows for what every night writes
-- (issue 26; docs/storage.md, "History layout"). On PostgreSQL every row costs about
-- 28 bytes of header and an index entry before its first column, and a nightly run wrote
-- one `run_vendors` row per declared vendor and one `findings` row per finding. Now:
--   * `run_vendor_sums`: one row per run, `sums` a JSON array of
--     [vendor, requests, cookie_writes, storage_writes, unauthorized, objected,
--     objected_observed], by vendor (was `run_vendors`, a row per run and vendor);
--   * `finding_batches`: the findings one write added to a run (a visit's, or the run's
--     own at its end) in one row: `seq` the first one's number in the run, `items` a
--     JSON array with one [key_id, message, occurrences, evidence] per finding, in order
--     (`message` null when it is the key's); finding n of the batch has number seq + n.
--     The view `finding_view` unpacks them into the rows it gave before.
-- Existing rows are converted in place (findings written together are found as the
-- runs of consecutive numbers of one run and visit), then the old tables are dropped.

CREATE TABLE run_vendor_sums (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    sums   TEXT    NOT NULL
);
INSERT INTO run_vendor_sums (run_id, sums)
SELECT run_id,
       json_group_array(json_array(vendor, requests, cookie_writes, storage_writes,
                                   unauthorized, objected, objected_observed) ORDER BY vendor)
FROM run_vendors GROUP BY run_id;
DROP TABLE run_vendors;

CREATE TABLE finding_batches (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    visit_id INTEGER REFERENCES visits (id) ON DELETE CASCADE,
    items    TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);
INSERT INTO finding_batches (run_id, seq, visit_id, items)
SELECT run_id, MIN(seq), visit_id,
       json_group_array(json_array(key_id, message, occurrences, json(evidence)) ORDER BY seq)
FROM (SELECT f.*, f.seq - ROW_NUMBER() OVER (PARTITION BY f.run_id, f.visit_id ORDER BY f.seq)
                  AS block
      FROM findings f)
GROUP BY run_id, visit_id, block;
DROP VIEW finding_view;
DROP TABLE findings;

CREATE VIEW finding_view AS
SELECT b.run_id, b.seq + j.key AS seq, b.visit_id, COALESCE(j.value ->> 1, k.message) AS message,
       j.value ->> 2 AS occurrences, j.value ->> 3 AS evidence,
       k.fingerprint, k.code, k.severity, k.site, k.scenario, k.subject, k.vendor, k.rule
FROM finding_batches b JOIN json_each(b.items) j JOIN finding_keys k ON k.id = j.value ->> 0;
