-- consentry storage schema, version 6: consent signals (src/signals), decoded at capture
-- time. One row per signal: a TC string read through `__tcfapi`, from the CMP's cookie or
-- from a vendor request; a Google Consent Mode state of a Google request; a GPC signal.
-- `data` is the decoded signal as JSON (`SignalData`, tagged by `kind`); a cookie's value
-- itself is never stored, only what it decoded to.
CREATE TABLE visit_signals (
    visit_id INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    time TEXT NOT NULL,
    page TEXT NOT NULL,
    phase TEXT NOT NULL,
    consent TEXT NOT NULL,
    li_objected INTEGER NOT NULL,
    actions TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (visit_id, seq)
);
