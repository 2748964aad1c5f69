-- PostgreSQL mirror of src/store/sqlite/migrations/0006_signals.sql (same version number; types
-- as docs/storage.md, "PostgreSQL", says: BIGINT ids, TEXT in the "C" collation so text
-- orders bytewise as in SQLite, BOOLEAN flags).
-- consentry storage schema, version 6: consent signals (src/signals), decoded at capture
-- time. One row per signal: a TC string read through `__tcfapi`, from the CMP's cookie or
-- from a vendor request; a Google Consent Mode state of a Google request; a GPC signal.
-- `data` is the decoded signal as JSON (`SignalData`, tagged by `kind`); a cookie's value
-- itself is never stored, only what it decoded to.
CREATE TABLE visit_signals (
    visit_id BIGINT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    time TEXT COLLATE "C" NOT NULL,
    page TEXT COLLATE "C" NOT NULL,
    phase TEXT COLLATE "C" NOT NULL,
    consent TEXT COLLATE "C" NOT NULL,
    li_objected BOOLEAN NOT NULL,
    actions TEXT COLLATE "C" NOT NULL,
    data TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (visit_id, seq)
);
