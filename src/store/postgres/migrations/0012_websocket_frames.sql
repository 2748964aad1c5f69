-- PostgreSQL mirror of src/store/sqlite/migrations/0012_websocket_frames.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 12: WebSocket connections are requests of resource
-- type `WebSocket` (their handshake); `frames_sent` / `frames_received` count the frames
-- each one sent and received while it was captured (never their contents). NULL for
-- every other request, and for every request stored before v11.
ALTER TABLE requests ADD COLUMN frames_sent BIGINT;
ALTER TABLE requests ADD COLUMN frames_received BIGINT;
