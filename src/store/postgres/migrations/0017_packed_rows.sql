-- consentry storage schema, version 17 (PostgreSQL): the same as SQLite's
-- 0017_packed_rows.sql, whose comments say what and why: `run_vendor_sums` (one row per
-- run) replaces `run_vendors`, `finding_batches` (one row per write of findings)
-- replaces `findings`, and `finding_view` unpacks the batches into the rows it gave
-- before. `sums` and `items` are TEXT holding JSON, as on SQLite (one writer for both).

CREATE TABLE run_vendor_sums (
    run_id BIGINT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    sums   TEXT COLLATE "C" NOT NULL
);
INSERT INTO run_vendor_sums (run_id, sums)
SELECT run_id,
       json_agg(json_build_array(vendor, requests, cookie_writes, storage_writes,
                                 unauthorized, objected, objected_observed) ORDER BY vendor)::text
FROM run_vendors GROUP BY run_id;
DROP TABLE run_vendors;

CREATE TABLE finding_batches (
    run_id   BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq      BIGINT NOT NULL,
    visit_id BIGINT REFERENCES visits (id) ON DELETE CASCADE,
    items    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, seq)
);
INSERT INTO finding_batches (run_id, seq, visit_id, items)
SELECT run_id, MIN(seq), visit_id,
       json_agg(json_build_array(key_id, message, occurrences, evidence::json) ORDER BY seq)::text
FROM (SELECT f.*, f.seq - ROW_NUMBER() OVER (PARTITION BY f.run_id, f.visit_id ORDER BY f.seq)
                  AS block
      FROM findings f) x
GROUP BY run_id, visit_id, block;
DROP VIEW finding_view;
DROP TABLE findings;

CREATE VIEW finding_view AS
SELECT b.run_id, b.seq + j.ord - 1 AS seq, b.visit_id,
       COALESCE((j.value ->> 1) COLLATE "C", k.message) AS message,
       (j.value ->> 2)::bigint AS occurrences, (j.value -> 3)::text AS evidence,
       k.fingerprint, k.code, k.severity, k.site, k.scenario, k.subject, k.vendor, k.rule
FROM finding_batches b
CROSS JOIN LATERAL json_array_elements(b.items::json) WITH ORDINALITY AS j (value, ord)
JOIN finding_keys k ON k.id = (j.value ->> 0)::bigint;
