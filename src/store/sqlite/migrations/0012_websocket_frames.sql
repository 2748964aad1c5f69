-- consentry storage schema, version 12: WebSocket connections are requests of resource
-- type `WebSocket` (their handshake); `frames_sent` / `frames_received` count the frames
-- each one sent and received while it was captured (never their contents). NULL for
-- every other request, and for every request stored before v11.
ALTER TABLE requests ADD COLUMN frames_sent INTEGER;
ALTER TABLE requests ADD COLUMN frames_received INTEGER;
