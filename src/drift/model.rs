//! The drift report: what the drift pack hands its reporters (table, Markdown, HTML,
//! JSON). Built by [`super::pack`] from a site's stored history; documented field by
//! field in docs/drift.md (JSON `schema_version` [`DRIFT_SCHEMA_VERSION`]).

use super::coverage::Coverage;
use super::lifecycle::{Lifecycle, Status};
use crate::analysis::Evidence;
use crate::model::LegalBasis;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Version of the drift JSON shape (docs/drift.md). 2: the LIA review pack.
pub const DRIFT_SCHEMA_VERSION: u32 = 2;

/// One site's drift over a window: summary, runs, declaration history, every finding's
/// lifecycle, inventory drift, one section per vendor (legitimate-interest vendors
/// first), and the acknowledgements.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub schema_version: u32,
    pub site: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub summary: Summary,
    /// Runs of the site in the window, oldest first.
    pub runs: Vec<RunRef>,
    /// Runs whose scenario file or policy differs from the run before.
    pub declaration_changes: Vec<DeclarationChange>,
    /// Every finding seen in the window, most urgent first.
    pub lifecycles: Vec<Lifecycle>,
    /// Hosts, vendors and cookies that appeared, went, or changed lifetime, per run and
    /// scenario, against the previous run that observed that scenario.
    pub inventory: Vec<InventoryChange>,
    /// Legitimate-interest vendors first, then the others, by id.
    pub vendors: Vec<VendorSection>,
    /// The acknowledgements of the site and what became of them.
    pub acknowledgements: Vec<AckView>,
    /// What each declared vendor did in each scenario of the window's first and last
    /// run (one run: once; none: empty), for the pack's side-by-side matrix. A view of
    /// the history the JSON already carries (lifecycles, inventory), so not serialised.
    #[serde(skip)]
    pub activity: Vec<RunActivity>,
    /// The vantage whose runs the pack compares (`[vantage] label`; `default` for runs
    /// without one): runs of other vantages are never compared with them (docs/drift.md,
    /// "Vantages").
    pub vantage: String,
    /// `drift --vs-vantage OTHER`: this vantage's latest run of the window and the other
    /// vantage's, side by side (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versus: Vec<VantageSide>,
}

/// One side of `drift --vs-vantage`: a vantage and its latest run in the window.
#[derive(Debug, Clone, Serialize)]
pub struct VantageSide {
    pub vantage: String,
    /// Its latest run in the window; `None` when it has none there.
    pub run_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    /// That run's scenarios and vendors, for the matrix (a view of the run, so not
    /// serialised).
    #[serde(skip)]
    pub activity: Option<RunActivity>,
}

/// One run's scenarios as the vendor × scenario matrix reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunActivity {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    /// In the run's order.
    pub scenarios: Vec<ScenarioActivity>,
    /// The run's findings that name a declared vendor and a scenario, and the site-level
    /// ones naming a vendor: `(vendor, scenario, code)`.
    pub findings: Vec<(String, Option<String>, crate::analysis::Code)>,
}

/// One scenario of a run: observed, and the declared vendors active in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioActivity {
    pub scenario: String,
    pub observed: bool,
    pub vendors: Vec<String>,
}

/// Counts of findings by status (in one run, or currently).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub new: u32,
    pub regressed: u32,
    pub persisting: u32,
    pub unverified: u32,
    pub resolved: u32,
    /// Of the above, how many are under an active acknowledgement.
    pub acknowledged: u32,
}

impl StatusCounts {
    pub fn add(&mut self, s: Status, acknowledged: bool) {
        match s {
            Status::New => self.new += 1,
            Status::Regressed => self.regressed += 1,
            Status::Persisting => self.persisting += 1,
            Status::Unverified => self.unverified += 1,
            Status::Resolved => self.resolved += 1,
        }
        if acknowledged {
            self.acknowledged += 1;
        }
    }

    /// Open findings: new, regressed or persisting.
    pub fn open(&self) -> u32 {
        self.new + self.regressed + self.persisting
    }
}

/// A part of a whole: `honoured` of `checked`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rate {
    pub honoured: u32,
    pub checked: u32,
    /// Runs that should have checked but could not (their objection scenario was not
    /// observed): outside the rate, reported.
    pub unverified: u32,
    /// `honoured / checked`, `None` when nothing was checked.
    pub rate: Option<f64>,
}

impl Rate {
    pub fn new(honoured: u32, checked: u32, unverified: u32) -> Rate {
        Rate {
            honoured,
            checked,
            unverified,
            rate: (checked > 0).then(|| f64::from(honoured) / f64::from(checked)),
        }
    }

    /// `92% (11/12)`, `n/a (0 checked)`.
    pub fn describe(&self) -> String {
        let base = match self.rate {
            Some(r) => format!(
                "{:.0}% ({}/{})",
                (r * 100.0).floor(),
                self.honoured,
                self.checked
            ),
            None => "n/a (0 checked)".to_string(),
        };
        if self.unverified > 0 {
            format!("{base}, {} unverified", self.unverified)
        } else {
            base
        }
    }
}

/// The pack's first screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub runs: u32,
    /// Runs in which every scenario was observed.
    pub complete_runs: u32,
    pub first_run: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    /// Findings by their status in the latest run.
    pub current: StatusCounts,
    /// Vendors with a legitimate-interest purpose in some run of the window.
    pub li_vendors: u32,
    /// Over every legitimate-interest vendor and run.
    pub suppression: Rate,
    /// Records the declared basis did not allow, every vendor and run.
    pub unauthorized_fires: u64,
    /// Cookies over their declared retention in the latest run that saw them.
    pub retention_over: u32,
    pub inventory_added: u32,
    pub inventory_removed: u32,
    pub inventory_changed: u32,
    pub declaration_changes: u32,
    /// Acknowledgements that matched no finding of the window.
    pub unused_acknowledgements: u32,
}

/// One scenario of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioRef {
    pub id: String,
    /// Observed completely (a scenario not observed checks nothing).
    pub observed: bool,
    /// The CMP recorded an objection to legitimate interest by the end of the visit.
    pub li_objected: bool,
}

/// One run, as the pack lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    /// `complete`, `incomplete`, `interrupted`, `running`.
    pub status: String,
    pub status_reason: Option<String>,
    pub scenarios: Vec<ScenarioRef>,
    pub scenario_digest: Option<String>,
    pub policy_digest: Option<String>,
    /// The scenario file or policy differs from the previous run's.
    pub declaration_changed: bool,
    /// Something the site did changed: a finding new, resolved or regressed, or the
    /// inventory changed, in this run (never for the first run of the history: it is
    /// the baseline).
    pub behaviour_changed: bool,
    /// Findings of this run by their status in it.
    pub counts: StatusCounts,
    /// What its scenarios covered, when the site discovers its pages (`None` without a
    /// stored crawl plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// The crawl planned templates the previous plan did not, or dropped some.
    pub crawl_changed: bool,
}

/// A change of declaration between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclarationChange {
    pub run_id: i64,
    pub at: DateTime<Utc>,
    /// The run compared against.
    pub previous_run: i64,
    pub scenario_changed: bool,
    pub policy_changed: bool,
    /// What changed in the declared map, one line each (`vendor tiktok added:
    /// advertising (consent)`, `vendor hotjar: analytics legitimate_interest -> consent`).
    /// Empty when only the files' bytes changed (or the earlier run predates the
    /// declarations snapshot).
    pub changes: Vec<String>,
    /// Findings resolved in that run: they may be the declaration's doing, not the site's.
    pub resolved_in_run: u32,
}

/// What kind of thing changed. A superset of [`crate::inventory::ItemKind`], the kinds an
/// audit stores: drift also follows vendors and cookie lifetimes, which it derives from
/// stored items and never stores. Kept a separate type on purpose, so that no stored item
/// can claim a derived kind (issue 17 asked for one inventory-kind enum; this is why there
/// are two, each closed).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum InventoryKind {
    /// A declared vendor (any request, cookie or storage write of it).
    Vendor,
    /// A third-party host.
    Host,
    /// A cookie, `name@domain`.
    Cookie,
    /// A cookie's lifetime.
    CookieLifetime,
    /// A third-party host loaded by a declared vendor's script.
    LoadedBy,
}

impl InventoryKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One inventory change in one scenario of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryChange {
    pub run_id: i64,
    pub at: DateTime<Utc>,
    pub scenario: String,
    /// The run it is compared against (the previous one that observed the scenario).
    pub against_run: i64,
    pub kind: InventoryKind,
    pub change: Change,
    /// Vendor id, host, or `name@domain`.
    pub item: String,
    /// The declared vendor (for `loaded-by`, the loading vendor).
    pub vendor: Option<String>,
    /// Lifetime before / after (`395d`, `session`), or for `loaded-by` the loader's host.
    pub before: Option<String>,
    pub after: Option<String>,
    /// An undeclared host or cookie: what the knowledge bases say of it, as the run's
    /// inventory recorded it ([`crate::knowledge::Known::describe`]: `known: Bing Ads,
    /// category ad, by pattern *.bing.com in third-party-web 0.30.0`). Apart from
    /// `vendor`, the declared map's; absent when unknown or declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

/// Whether a legitimate-interest vendor stopped after the objection, in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objection {
    /// An objection scenario was observed and the vendor made no record that only its
    /// (objected) legitimate interest could have allowed.
    Honoured,
    /// It did: it kept firing after the objection.
    NotHonoured,
    /// The run's objection scenario was not observed: nothing can be said.
    Unverified,
    /// The run had no objection scenario.
    NotChecked,
    /// The vendor made no record at all in the run (nothing to stop).
    Absent,
}

impl Objection {
    pub fn as_str(self) -> &'static str {
        match self {
            Objection::Honoured => "yes",
            Objection::NotHonoured => "NO",
            Objection::Unverified => "unverified",
            Objection::NotChecked => "not checked",
            Objection::Absent => "absent",
        }
    }
}

/// One vendor in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendorRun {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    pub requests: u32,
    pub cookie_writes: u32,
    pub storage_writes: u32,
    /// Records its declared basis did not allow, over every scenario of the run.
    pub unauthorized: u32,
    /// Records after the objection that only the objected basis could have allowed.
    pub objected: u32,
    /// `None` for a vendor without a legitimate-interest purpose.
    pub objection: Option<Objection>,
}

/// One declared purpose of a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredPurpose {
    pub purpose: String,
    pub basis: LegalBasis,
    pub strictly_necessary: bool,
    pub tcf_purpose: Option<u8>,
}

/// A cookie of a vendor over its declared retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionIssue {
    /// `name@domain`.
    pub cookie: String,
    /// Declared retention in seconds (`0`: session).
    pub declared_secs: i64,
    /// The longest lifetime seen in the latest run that saw the cookie over (`None`:
    /// session).
    pub lifetime_secs: Option<i64>,
    pub over_by_secs: i64,
    /// Runs in which it was over.
    pub runs_over: u32,
    /// Runs in which the cookie was seen at all.
    pub runs_seen: u32,
    pub first_over: DateTime<Utc>,
    pub last_over: DateTime<Utc>,
    pub last_run: i64,
    /// Still over in the latest run that saw the cookie.
    pub still_over: bool,
}

/// What happened to a finding, as the pack lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum MismatchEvent {
    Opened,
    Regressed,
    Resolved,
    Acknowledged,
    /// An acknowledgement expired while the finding was still open.
    Reopened,
}

impl MismatchEvent {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A policy-to-implementation mismatch event in the window, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub fingerprint: String,
    pub code: String,
    pub severity: String,
    pub scenario: Option<String>,
    pub subject: String,
    pub event: MismatchEvent,
    pub run_id: i64,
    pub at: DateTime<Utc>,
    pub message: String,
    /// The declared rule it breaks.
    pub rule: String,
    /// First evidence of the finding in that run (for `resolved`, of the last run it was
    /// present in).
    pub evidence: Option<Evidence>,
    /// The policy changed in that run (a resolution may be the declaration's doing).
    pub map_changed: bool,
}

/// One vendor's section of the pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendorSection {
    pub vendor: String,
    /// Declared name; `None` when it is not in the latest declaration.
    pub name: Option<String>,
    /// Declared in the latest run's map.
    pub declared: bool,
    /// Latest declaration.
    pub purposes: Vec<DeclaredPurpose>,
    /// It had at least one legitimate-interest purpose in some run of the window.
    pub legitimate_interest: bool,
    /// Its declaration's changes in the window, one line each with the run.
    pub declaration_history: Vec<DeclarationEvent>,
    /// Every run of the window, oldest first.
    pub runs: Vec<VendorRun>,
    /// Runs in which it stopped after the objection / runs that checked it.
    pub suppression: Option<Rate>,
    pub unauthorized_fires: u64,
    pub retention: Vec<RetentionIssue>,
    /// Its findings by their current status.
    pub findings: StatusCounts,
    pub mismatches: Vec<Mismatch>,
    pub inventory: Vec<InventoryChange>,
}

/// A change of one vendor's declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclarationEvent {
    pub run_id: i64,
    pub at: DateTime<Utc>,
    pub change: String,
}

/// Status of an acknowledgement over the window: the one acknowledgement status
/// ([`crate::ack::AckStatus`]; `pending` is the drift window's alone).
pub use crate::ack::AckStatus;

/// An acknowledgement as the pack shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckView {
    pub fingerprint: String,
    pub owner: String,
    pub reason: String,
    pub acknowledged: Option<DateTime<Utc>>,
    pub expires: DateTime<Utc>,
    pub status: AckStatus,
    /// `file:line:col` of the entry.
    pub location: Option<String>,
    /// Findings of the window it matched (0 or 1: a fingerprint is one finding).
    pub matched: u32,
}
