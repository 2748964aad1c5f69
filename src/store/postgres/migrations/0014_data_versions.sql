-- PostgreSQL mirror of src/store/sqlite/migrations/0014_data_versions.sql (same version
-- number; TEXT in the "C" collation, as docs/storage.md, "PostgreSQL", says).
-- consentry storage schema, version 14: the data each run ran with (docs/packaging.md),
-- as `consentry=0.1.0; autoconsent=16.23.0; cmp-profiles=klaro,...@<digest>`, so a
-- drift can be told apart from a data update. NULL for runs stored before v14.
ALTER TABLE runs ADD COLUMN data_versions TEXT COLLATE "C";
