-- PostgreSQL mirror of src/store/sqlite/migrations/0011_crawl_plans.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 11: the crawl plan of a run (docs/crawl.md): the pages
-- its scenarios visited (listed, then sampled by discovery), each with its URL template
-- and where it was found, and what discovery left out and why, as the JSON of
-- `crawl::CrawlPlan`. NULL for a run without `[site] crawl` (its pages are the listed
-- ones) and for every run before v11. Drift reads it to tell "the crawl found a new
-- template" from "the site changed behaviour".
ALTER TABLE runs ADD COLUMN crawl TEXT COLLATE "C";
