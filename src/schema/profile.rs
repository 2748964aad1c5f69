//! A CMP profile (docs/scenarios.md#cmp-profiles): `cmp/<name>.toml` beside a scenario
//! file. Its strings are not interpolated.

use super::pattern::NOT_BLANK;
use super::scenario::STEP;
use crate::toml_check::shape::{Field, FileKind, Shape, Ty};

pub const KIND: FileKind = FileKind {
    id: "profile",
    title: "consentry CMP profile",
    docs: "docs/scenarios.md#cmp-profiles",
    root: &ROOT,
    interpolated: false,
};

pub const ROOT: Shape = Shape {
    name: "CMP profile",
    doc: "How a CMP is recognised and how its objection, withdrawal and partial choice are driven.",
    parts: &[&[
        Field::req(
            "profile",
            Ty::Table(&PROFILE),
            "The profile's name and description.",
        ),
        Field::opt(
            "detect",
            Ty::Table(&DETECT),
            "How the CMP is recognised: any one match picks this profile.",
        ),
        Field::opt(
            "object_li",
            Ty::Table(&FLOW),
            "Objecting to legitimate interest.",
        ),
        Field::opt(
            "withdraw",
            Ty::Table(&FLOW),
            "Withdrawing a consent given earlier.",
        ),
        Field::opt(
            "accept_some",
            Ty::Table(&FLOW),
            "A partial choice granting some purposes.",
        ),
    ]],
    exactly_one_of: &[],
};

pub const PROFILE: Shape = Shape {
    name: "[profile]",
    doc: "The profile's name and description.",
    parts: &[&[
        Field::req("name", Ty::Text(NOT_BLANK), "Must be the file's name."),
        Field::opt("description", Ty::Str, "What the profile drives."),
        Field::opt(
            "banner",
            Ty::Str,
            "Selector of the CMP's first layer: how a re-prompt is seen.",
        ),
        Field::opt(
            "tested_with",
            Ty::Str,
            "Which version of the CMP it was tested with.",
        ),
    ]],
    exactly_one_of: &[],
};

pub const DETECT: Shape = Shape {
    name: "[detect]",
    doc: "How the CMP is recognised: any one match picks this profile.",
    parts: &[&[
        Field::opt(
            "autoconsent",
            Ty::List(&Ty::Str),
            "The names autoconsent reports.",
        ),
        Field::opt(
            "tcf_cmp_ids",
            Ty::List(&Ty::Int(1, 4095)),
            "__tcfapi('ping').cmpId values.",
        ),
        Field::opt("selector", Ty::Str, "An element on the page."),
    ]],
    exactly_one_of: &[],
};

pub const FLOW: Shape = Shape {
    name: "flow",
    doc: "A flow: steps, or why it is unsupported.",
    parts: &[&[
        Field::opt(
            "steps",
            Ty::Tables(&STEP),
            "The steps; exactly one carries the flow's consent action.",
        ),
        Field::opt(
            "unsupported",
            Ty::Text(NOT_BLANK),
            "Why this CMP cannot do it.",
        ),
    ]],
    exactly_one_of: &["steps", "unsupported"],
};
