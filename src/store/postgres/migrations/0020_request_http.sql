-- PostgreSQL mirror of src/store/sqlite/migrations/0020_request_http.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 20: a request's headers, status text, MIME type,
-- protocol and DevTools timing (`consentry har`, issue 21 item 4), as one compact JSON
-- text (`model::http::HttpExchange`), bounded and redacted before it is written (cookie
-- values hashed, credentials stripped, declared secrets replaced). NULL for requests
-- DevTools said nothing of, and for every request stored before v20.
ALTER TABLE requests ADD COLUMN http TEXT COLLATE "C";
