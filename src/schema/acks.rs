//! The acknowledgements file (docs/drift.md#acknowledgements): `[[ack]]` entries.

use super::pattern::NOT_BLANK;
use crate::toml_check::shape::{Field, FileKind, Shape, Ty};

pub const KIND: FileKind = FileKind {
    id: "acks",
    title: "consentry acknowledgements",
    docs: "docs/drift.md#acknowledgements",
    root: &ROOT,
    interpolated: false,
};

pub const ROOT: Shape = Shape {
    name: "acknowledgements",
    doc: "Accepted findings, each with an owner, a reason and an expiry.",
    parts: &[&[Field::opt("ack", Ty::Tables(&ACK), "One accepted finding.")]],
    exactly_one_of: &[],
};

pub const ACK: Shape = Shape {
    name: "[[ack]]",
    doc: "One accepted finding.",
    parts: &[&[
        Field::req(
            "fingerprint",
            Ty::Text(r"^v1-[0-9a-f]{16}$"),
            "The finding's fingerprint: v1- and 16 lowercase hex digits.",
        ),
        Field::opt(
            "site",
            Ty::Str,
            "Only this site ([site] name); default: any site.",
        ),
        Field::opt(
            "code",
            Ty::Text(r"^[a-z0-9-]+$"),
            "Informational: the finding's code (must be a finding code).",
        ),
        Field::opt("subject", Ty::Str, "Informational: the finding's subject."),
        Field::req(
            "reason",
            Ty::Text(NOT_BLANK),
            "Why it is accepted (not blank).",
        ),
        Field::req("owner", Ty::Text(NOT_BLANK), "Who accepted it (not blank)."),
        Field::opt(
            "acknowledged",
            Ty::Date,
            "Applies from then on: a date (its start, UTC) or an RFC 3339 time.",
        ),
        Field::req(
            "expires",
            Ty::Date,
            "A date (the end of that day, UTC) or an RFC 3339 time.",
        ),
    ]],
    exactly_one_of: &[],
};
