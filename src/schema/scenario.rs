//! The scenario file (docs/scenarios.md): `[site]`, `[cmp]`, `[browser]`, `[run]`,
//! `[[scenario]]` and its steps.

use super::pattern::{ID, NOT_BLANK, VAR, WEB_URL};
use crate::toml_check::shape::{Field, FileKind, Shape, Ty};

pub const KIND: FileKind = FileKind {
    id: "scenario",
    title: "consentry scenario file",
    docs: "docs/scenarios.md",
    root: &ROOT,
    interpolated: true,
};

pub const ROOT: Shape = Shape {
    name: "scenario file",
    doc: "A site, how its consent banner is driven, and the consent scenarios to run.",
    parts: &[&[
        Field::req(
            "site",
            Ty::Table(&SITE),
            "The site: name, URLs, first-party domains and its policy.",
        ),
        Field::opt(
            "cmp",
            Ty::Table(&CMP),
            "The consent banner: selectors, autoconsent, a CMP profile, what each action records.",
        ),
        Field::opt(
            "browser",
            Ty::Table(&BROWSER),
            "Chromium options and timeouts.",
        ),
        Field::opt(
            "run",
            Ty::Table(&RUN),
            "Which scenarios run, in which order.",
        ),
        Field::opt(
            "vantage",
            Ty::Table(&VANTAGE),
            "Where the audit looks from: a label, a proxy, a locale, a timezone.",
        ),
        Field::opt(
            "scenario",
            Ty::Tables(&SCENARIO),
            "Scenarios of your own: steps run on the first page.",
        ),
        Field::opt(
            "login",
            Ty::Table(&LOGIN),
            "Log in first, in every scenario, before its consent steps (docs/scenarios.md#login).",
        ),
    ]],
    exactly_one_of: &[],
};

pub const VANTAGE: Shape = Shape {
    name: "[vantage]",
    doc: "Where the audit looks from (docs/scenarios.md#vantage-optional).",
    parts: &[&[
        Field::req(
            "label",
            Ty::Text(r"^[A-Za-z0-9_-]{1,64}$"),
            "Stored with every run and shown in every report, as in \"eu-de\".",
        ),
        Field::opt(
            "proxy",
            Ty::Text(r"^(http|socks5)://"),
            "http://host:port or socks5://host:port, without credentials.",
        ),
        Field::opt(
            "proxy_user_env",
            Ty::Text(VAR),
            "The environment variable holding the proxy's user (a secret).",
        ),
        Field::opt(
            "proxy_password_env",
            Ty::Text(VAR),
            "The environment variable holding the proxy's password (a secret).",
        ),
        Field::opt(
            "locale",
            Ty::Text(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
            "BCP 47 language tag: Accept-Language and navigator.languages, as in \"de-DE\".",
        ),
        Field::opt(
            "timezone",
            Ty::Text(NOT_BLANK),
            "IANA time zone, as in \"Europe/Berlin\".",
        ),
    ]],
    exactly_one_of: &[],
};

/// The keys of `[site]`, also those of a fleet's inline `[[site]]`.
pub const SITE_FIELDS: &[Field] = &[
    Field::req("name", Ty::Text(NOT_BLANK), "Name of the site in reports."),
    Field::req("base_url", Ty::Text(WEB_URL), "Absolute http:// or https:// URL."),
    Field::opt("pages", Ty::NonEmpty(&Ty::Str), "Pages visited, in order: paths or absolute URLs, resolved against base_url. Default [\"/\"]."),
    Field::opt("first_party_domains", Ty::List(&Ty::Str), "Registrable domains that count as first party (base_url's always does)."),
    Field::req("policy", Ty::Text(NOT_BLANK), "Path of the policy, relative to this file's directory."),
    Field::opt("secrets", Ty::List(&Ty::Text(VAR)), "Environment variables whose values must never be written anywhere."),
    Field::opt("crawl", Ty::AnyOf(&[Ty::Bool, Ty::Table(&CRAWL)]), "Page discovery beyond `pages`: true, false, or a table (docs/crawl.md)."),
];

pub const SITE: Shape = Shape {
    name: "[site]",
    doc: "The site: name, URLs, first-party domains and its policy.",
    parts: &[SITE_FIELDS],
    exactly_one_of: &[],
};

pub const CRAWL: Shape = Shape {
    name: "crawl",
    doc: "Page discovery: sitemaps and links, bounded (docs/crawl.md).",
    parts: &[&[
        Field::opt(
            "max_pages",
            Ty::Int(1, 1000),
            "Pages in the plan at most, the listed pages included. Default 20.",
        ),
        Field::opt(
            "per_template",
            Ty::Int(1, 100),
            "Pages kept per URL template at most. Default 3.",
        ),
        Field::opt(
            "max_depth",
            Ty::Int(0, 10),
            "Link depth from the listed pages; 0 turns link discovery off. Default 2.",
        ),
        Field::opt(
            "sitemaps",
            Ty::Bool,
            "Read robots.txt's Sitemap: lines and /sitemap.xml. Default true.",
        ),
        Field::opt(
            "include",
            Ty::List(&Ty::Str),
            "Path patterns: when not empty, a discovered page is kept only if one matches.",
        ),
        Field::opt(
            "exclude",
            Ty::List(&Ty::Str),
            "Path patterns: a discovered page matching one is skipped.",
        ),
        Field::opt(
            "robots",
            Ty::AnyOf(&[Ty::Enum(&["honour"]), Ty::Table(&ROBOTS_IGNORE)]),
            "\"honour\" (default), or { ignore = \"reason\" } (only the site's owner should).",
        ),
    ]],
    exactly_one_of: &[],
};

const ROBOTS_IGNORE: Shape = Shape {
    name: "robots",
    doc: "Ignore robots.txt's Disallow rules, saying why.",
    parts: &[&[Field::req(
        "ignore",
        Ty::Text(NOT_BLANK),
        "Why robots.txt is ignored (not blank).",
    )]],
    exactly_one_of: &[],
};

/// What a consent action records in the CMP.
pub const EFFECTS: Ty = Ty::List(&Ty::Enum(&["grant_consent", "refuse_consent", "object_li"]));

pub const CMP: Shape = Shape {
    name: "[cmp]",
    doc: "The consent banner: selectors, autoconsent, a CMP profile, what each action records.",
    parts: &[&[
        Field::opt("auto", Ty::Bool, "accept_all and reject_all through autoconsent, no selector needed. Default false."),
        Field::opt("banner", Ty::Str, "Selector of the banner."),
        Field::opt("accept_all", Ty::List(&Ty::Str), "Selectors clicked, in order, to accept all."),
        Field::opt("reject_all", Ty::List(&Ty::Str), "Selectors clicked, in order, to reject all."),
        Field::opt("object_li", Ty::List(&Ty::Str), "Selectors clicked, in order, to object to legitimate interest."),
        Field::opt("withdraw", Ty::List(&Ty::Str), "Selectors clicked, in order, after accepting, to withdraw the consent."),
        Field::opt("profile", Ty::Str, "The CMP profile for object_li and the withdrawal (klaro, cookieconsent, consentry-tcf, or one in cmp/)."),
        Field::opt("records", Ty::Table(&RECORDS), "What each consent action records in the CMP."),
        Field::opt("heuristic", Ty::Bool, "With auto = true: find a banner no rule knows by its words. Default true."),
        Field::opt("banner_words", Ty::Str, "A vocabulary file extending the heuristic's words (the format of data/banner-words.toml)."),
        Field::opt("grant", Ty::Set(&Ty::Str), "The declared purposes the built-in accept_some grants."),
    ]],
    exactly_one_of: &[],
};

const RECORDS: Shape = Shape {
    name: "[cmp.records]",
    doc: "What each consent action records in the CMP.",
    parts: &[&[
        Field::opt(
            "accept_all",
            EFFECTS,
            "Effects of consent = \"accept_all\". Default [\"grant_consent\"].",
        ),
        Field::opt(
            "reject_all",
            EFFECTS,
            "Effects of consent = \"reject_all\". Default [\"refuse_consent\"].",
        ),
        Field::opt(
            "object_li",
            EFFECTS,
            "Effects of consent = \"object_li\". Default [\"object_li\"].",
        ),
    ]],
    exactly_one_of: &[],
};

pub const BROWSER: Shape = Shape {
    name: "[browser]",
    doc: "Chromium options and timeouts.",
    parts: &[&[
        Field::opt("args", Ty::List(&Ty::Str), "Extra Chromium arguments."),
        Field::opt(
            "third_party_cookies",
            Ty::Enum(&["allow", "block"]),
            "allow (default) or block.",
        ),
        Field::opt("user_agent", Ty::Str, "User-Agent override."),
        Field::opt(
            "page_load_timeout",
            Ty::Duration,
            "Give up loading a page after this long (at most 10 minutes). Default \"30s\".",
        ),
        Field::opt(
            "step_timeout",
            Ty::Duration,
            "Default time a step may take (at most 10 minutes). Default \"10s\".",
        ),
        Field::opt(
            "settle_quiet",
            Ty::Duration,
            "Upper bound of a settle once no request is waiting. Default \"700ms\".",
        ),
        Field::opt(
            "settle_timeout",
            Ty::Duration,
            "Stop waiting for idle after this long. Default \"15s\".",
        ),
        Field::opt(
            "window_size",
            Ty::Tuple(&Ty::Int(1, 100_000), 2),
            "[width, height] in pixels. Default [1280, 900].",
        ),
    ]],
    exactly_one_of: &[],
};

pub const RUN: Shape = Shape {
    name: "[run]",
    doc: "Which scenarios run, in which order.",
    parts: &[&[Field::opt(
        "scenarios",
        Ty::List(&Ty::Text(ID)),
        "Ids of the scenarios to run, in this order: built-ins or [[scenario]] ids.",
    )]],
    exactly_one_of: &[],
};

pub const SCENARIO: Shape = Shape {
    name: "[[scenario]]",
    doc: "A scenario of your own: steps run on the first page.",
    parts: &[&[
        Field::req("id", Ty::Text(ID), "Unique id: letters, digits, _, -, ."),
        Field::opt("description", Ty::Str, "What the scenario shows."),
        Field::req("steps", Ty::Tables(&STEP), "The steps, in order."),
        Field::opt(
            "gpc",
            Ty::Bool,
            "Run the whole visit with Global Privacy Control on. Default false.",
        ),
        Field::opt(
            "login",
            Ty::Bool,
            "false: this scenario does not run [login] (a logged-out baseline). Default true.",
        ),
    ]],
    exactly_one_of: &[],
};

/// The consent actions a step may perform.
pub const STEP_CONSENT: Ty = Ty::Enum(&["accept_all", "reject_all", "object_li", "accept_some"]);

/// A step's actions (exactly one per step), but `cmp_flow`: also a login step's.
pub const PLAIN_ACTIONS: &[Field] = &[
    Field::opt(
        "navigate",
        Ty::Str,
        "Load a URL; a path is resolved against base_url.",
    ),
    Field::opt(
        "click",
        Ty::Str,
        "Click the first element matching this selector path.",
    ),
    Field::opt(
        "click_all",
        Ty::Str,
        "Click every element matching this selector path, in document order.",
    ),
    Field::opt(
        "wait_for",
        Ty::Str,
        "Wait until an element matching this selector path is present.",
    ),
    Field::opt(
        "wait_idle",
        Ty::Bool,
        "true: wait until the network is idle.",
    ),
    Field::opt("script", Ty::Text(NOT_BLANK), "Run JavaScript in the page."),
    Field::opt(
        "screenshot",
        Ty::Text(NOT_BLANK),
        "Save a PNG screenshot to this path ({scenario} becomes the scenario id).",
    ),
];

/// The action only a consent scenario's step (or a profile's) may take.
pub const CMP_FLOW: &[Field] = &[Field::opt(
    "cmp_flow",
    Ty::Enum(&["object_li", "withdraw", "accept_some"]),
    "Run that flow of the CMP profile.",
)];

/// A step's timeout.
pub const TIMEOUT: &[Field] = &[Field::opt(
    "timeout",
    Ty::Duration,
    "Overrides [browser].step_timeout for this step (at most 10 minutes).",
)];

/// What may come with a step's action.
pub const STEP_MODIFIERS: &[Field] = &[
    Field::opt(
        "consent",
        STEP_CONSENT,
        "This step performs that consent action.",
    ),
    Field::opt(
        "records",
        EFFECTS,
        "What this step's consent action records in the CMP (only with consent).",
    ),
    Field::opt(
        "grant",
        Ty::Set(&Ty::Str),
        "With consent or cmp_flow = \"accept_some\": the declared purposes granted.",
    ),
];

pub const STEP_ACTION_KEYS: &[&str] = &[
    "navigate",
    "click",
    "click_all",
    "wait_for",
    "wait_idle",
    "script",
    "screenshot",
    "cmp_flow",
];

/// A login step's actions: the plain ones.
pub const LOGIN_ACTION_KEYS: &[&str] = &[
    "navigate",
    "click",
    "click_all",
    "wait_for",
    "wait_idle",
    "script",
    "screenshot",
];

pub const STEP: Shape = Shape {
    name: "step",
    doc: "One step: exactly one action, with optional consent, records, timeout and grant.",
    parts: &[PLAIN_ACTIONS, CMP_FLOW, STEP_MODIFIERS, TIMEOUT],
    exactly_one_of: STEP_ACTION_KEYS,
};

pub const LOGIN: Shape = Shape {
    name: "[login]",
    doc: "Log in first, in every scenario, before its consent steps.",
    parts: &[&[
        Field::req(
            "steps",
            Ty::Tables(&LOGIN_STEP),
            "The login's steps: the step vocabulary without consent marks or CMP flows.",
        ),
        Field::opt(
            "check",
            Ty::Str,
            "A selector present only when logged in, checked after the steps.",
        ),
    ]],
    exactly_one_of: &[],
};

pub const LOGIN_STEP: Shape = Shape {
    name: "login step",
    doc: "One login step: exactly one plain action, with an optional timeout.",
    parts: &[PLAIN_ACTIONS, TIMEOUT],
    exactly_one_of: LOGIN_ACTION_KEYS,
};
