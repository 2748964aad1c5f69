//! The fleet file (docs/fleet.md): `[fleet]`, defaults in the scenario file's format,
//! and `[[site]]`, each a scenario file or inline.

use super::pattern::NOT_BLANK;
use super::scenario::{BROWSER, CMP, CRAWL, RUN, SITE_FIELDS, VANTAGE};
use crate::toml_check::shape::{Field, FileKind, Shape, Ty};

pub const KIND: FileKind = FileKind {
    id: "fleet",
    title: "consentry fleet file",
    docs: "docs/fleet.md",
    root: &ROOT,
    interpolated: true,
};

pub const ROOT: Shape = Shape {
    name: "fleet file",
    doc: "Many sites audited as one job: defaults for every site and the site list.",
    parts: &[&[
        Field::req(
            "fleet",
            Ty::Table(&FLEET),
            "The fleet: name, database, reports, limits, alerts.",
        ),
        Field::opt(
            "browser",
            Ty::Table(&BROWSER),
            "Defaults for every site's [browser], key by key.",
        ),
        Field::opt(
            "cmp",
            Ty::Table(&CMP),
            "Default [cmp] for sites without their own.",
        ),
        Field::opt(
            "run",
            Ty::Table(&RUN),
            "Default [run] for sites without their own.",
        ),
        Field::opt(
            "crawl",
            Ty::Table(&CRAWL),
            "Page discovery for every site, key by key under a site's crawl.",
        ),
        Field::opt(
            "vantage",
            Ty::Table(&VANTAGE),
            "Default [vantage] for sites without their own.",
        ),
        Field::opt(
            "site",
            Ty::List(&Ty::AnyOf(&[
                Ty::Table(&SITE_FILE),
                Ty::Table(&SITE_INLINE),
            ])),
            "The sites: { file = \"...\" } or inline.",
        ),
    ]],
    exactly_one_of: &[],
};

pub const FLEET: Shape = Shape {
    name: "[fleet]",
    doc: "The fleet: name, database, reports, limits, alerts.",
    parts: &[&[
        Field::req("name", Ty::Text(NOT_BLANK), "Shown in the summary."),
        Field::opt(
            "database",
            Ty::Str,
            "SQLite file (relative to this file) or postgres://...; --db and $CONSENTRY_DB win.",
        ),
        Field::opt(
            "reports",
            Ty::Str,
            "Each site's report goes to <reports>/<site>/.",
        ),
        Field::opt(
            "per_site",
            Ty::Int(1, 16),
            "At most this many visits of one site at once. Default 1.",
        ),
        Field::opt(
            "page_delay",
            Ty::Duration,
            "At least this long between two page loads of one site.",
        ),
        Field::opt(
            "repeat",
            Ty::Int(1, 10),
            "Visits of each scenario, each in a fresh context. Default 1.",
        ),
        Field::opt(
            "notify",
            Ty::List(&Ty::Str),
            "Alert targets (docs/alerts.md).",
        ),
    ]],
    exactly_one_of: &[],
};

pub const SITE_FILE: Shape = Shape {
    name: "[[site]] with file",
    doc: "A site from its own scenario file.",
    parts: &[&[Field::req(
        "file",
        Ty::Text(NOT_BLANK),
        "The scenario file, relative to this file.",
    )]],
    exactly_one_of: &[],
};

/// The tables an inline site may override.
pub const INLINE_TABLES: &[Field] = &[
    Field::opt(
        "browser",
        Ty::Table(&BROWSER),
        "Overrides of the fleet's [browser], key by key.",
    ),
    Field::opt(
        "cmp",
        Ty::Table(&CMP),
        "This site's [cmp] (replaces the fleet's).",
    ),
    Field::opt(
        "run",
        Ty::Table(&RUN),
        "This site's [run] (replaces the fleet's).",
    ),
    Field::opt(
        "vantage",
        Ty::Table(&VANTAGE),
        "This site's [vantage] (replaces the fleet's).",
    ),
];

pub const SITE_INLINE: Shape = Shape {
    name: "inline [[site]]",
    doc: "A site inline: the keys of a scenario file's [site], and overrides.",
    parts: &[SITE_FIELDS, INLINE_TABLES],
    exactly_one_of: &[],
};
