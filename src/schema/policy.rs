//! The policy, the declared map (docs/scenarios.md#the-policy): `[settings]`,
//! `[[purpose]]`, `[[vendor]]`, `[[cookie]]`. Its strings are not interpolated.

use super::pattern::{ID, NOT_BLANK};
use crate::toml_check::shape::{Field, FileKind, Shape, Ty};

pub const KIND: FileKind = FileKind {
    id: "policy",
    title: "consentry policy (the declared map)",
    docs: "docs/scenarios.md#the-policy",
    root: &ROOT,
    interpolated: false,
};

pub const ROOT: Shape = Shape {
    name: "policy",
    doc: "The declared map: purposes with their legal basis, vendors and the purposes they serve, cookies and their retention.",
    parts: &[&[
        Field::opt("settings", Ty::Table(&SETTINGS), "Settings of the judgement."),
        Field::opt("purpose", Ty::Tables(&PURPOSE), "The purposes and their legal basis."),
        Field::opt("vendor", Ty::Tables(&VENDOR), "The vendors, their hosts and the purposes they serve."),
        Field::opt("cookie", Ty::Tables(&COOKIE), "The cookies, their vendor and retention."),
    ]],
    exactly_one_of: &[],
};

pub const BASIS: Ty = Ty::Enum(&[
    "consent",
    "legitimate_interest",
    "contract",
    "legal_obligation",
]);

pub const SETTINGS: Shape = Shape {
    name: "[settings]",
    doc: "Settings of the judgement.",
    parts: &[&[Field::opt("retention_tolerance", Ty::Duration, "How much longer than max_retention a cookie may live before it is a finding (at most a year). Default \"1d\".")]],
    exactly_one_of: &[],
};

pub const PURPOSE: Shape = Shape {
    name: "[[purpose]]",
    doc: "A purpose and its legal basis.",
    parts: &[&[
        Field::req("id", Ty::Text(ID), "Unique id (letters, digits, _, -, .)."),
        Field::opt("name", Ty::Str, "Human name. Default: the id."),
        Field::req("basis", BASIS, "Legal basis."),
        Field::opt("strictly_necessary", Ty::Bool, "Consent-exempt: may run in every scenario whatever the basis. Default false."),
        Field::opt("tcf_purpose", Ty::Int(1, 11), "IAB TCF purpose number."),
        Field::opt("gpc_opt_out", Ty::Bool, "Global Privacy Control opts the visitor out of this purpose. Default: true for TCF purposes 2, 3, 4."),
        Field::opt("draft", Ty::Bool, "Written by `consentry init` or an import and not yet confirmed by a person: reported as draft-unconfirmed until removed. Default false."),
    ]],
    exactly_one_of: &[],
};

pub const VENDOR: Shape = Shape {
    name: "[[vendor]]",
    doc: "A vendor: its hosts and the purposes it serves.",
    parts: &[&[
        Field::req("id", Ty::Text(ID), "Unique id."),
        Field::opt("name", Ty::Str, "Human name. Default: the id."),
        Field::opt("domains", Ty::List(&Ty::Text(r"^(\*\.)?[A-Za-z0-9.-]+$")), "Registrable-domain patterns: example.com (and subdomains), *.example.com (subdomains only)."),
        Field::opt("hosts", Ty::List(&Ty::Text(r"^[A-Za-z0-9.-]+(/.*)?$")), "Exact hosts, each with an optional path prefix (www.google.com/recaptcha)."),
        Field::opt("pages", Ty::NonEmpty(&Ty::Text(r"^(\*|/.*)$")), "Where the vendor is declared to be embedded: path globs. Default [\"*\"]."),
        Field::req("purposes", Ty::NonEmpty(&Ty::Text(ID)), "Ids of the purposes the vendor serves; at least one."),
        Field::opt("consent_mode", Ty::Enum(&["basic", "advanced"]), "For Google tags: how Consent Mode is implemented."),
        Field::opt("cmp_services", Ty::List(&Ty::Text(NOT_BLANK)), "The CMP's services or categories this vendor is."),
        Field::opt("tcf_vendor_id", Ty::Int(1, 65_535), "The vendor's IAB TCF Global Vendor List id."),
        Field::opt("tcf_consent_purposes", Ty::List(&Ty::Int(1, 11)), "TCF purposes the vendor declares on consent."),
        Field::opt("tcf_li_purposes", Ty::List(&Ty::Int(1, 11)), "TCF purposes the vendor declares on legitimate interest."),
        Field::opt("tcf_special_purposes", Ty::List(&Ty::Int(1, 3)), "TCF special purposes."),
        Field::opt("tcf_features", Ty::List(&Ty::Int(1, 3)), "TCF features."),
        Field::opt("tcf_special_features", Ty::List(&Ty::Int(1, 2)), "TCF special features."),
        Field::opt("draft", Ty::Bool, "Written by `consentry init` or an import and not yet confirmed by a person: reported as draft-unconfirmed until removed. Default false."),
    ]],
    exactly_one_of: &[],
};

pub const COOKIE: Shape = Shape {
    name: "[[cookie]]",
    doc: "A cookie, its vendor and retention.",
    parts: &[&[
        Field::req(
            "name",
            Ty::Text(r"^[^\s;,=]+$"),
            "Cookie name; * matches any run of characters (_ga_*).",
        ),
        Field::req("vendor", Ty::Text(ID), "Id of the owning vendor."),
        Field::req(
            "max_retention",
            Ty::AnyOf(&[Ty::Enum(&["session"]), Ty::Duration]),
            "\"session\" or a duration (\"390d\", \"13months\").",
        ),
        Field::opt(
            "domain",
            Ty::Text(r"^(\*\.)?[A-Za-z0-9.-]+$"),
            "The rule matches only cookies of this domain pattern.",
        ),
        Field::opt(
            "party",
            Ty::Enum(&["first", "third"]),
            "Whether the cookie is declared first or third party.",
        ),
        Field::opt(
            "basis",
            BASIS,
            "The cookie's own basis, when it differs from its vendor's purposes.",
        ),
        Field::opt(
            "strictly_necessary",
            Ty::Bool,
            "The cookie's own strictly-necessary flag, when it differs from its vendor's.",
        ),
        Field::opt("draft", Ty::Bool, "Written by `consentry init` or an import and not yet confirmed by a person: reported as draft-unconfirmed until removed. Default false."),
    ]],
    exactly_one_of: &[],
};
