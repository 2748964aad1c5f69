//! The records the store's roles take and give: what a run starts with, a judged visit,
//! a whole run to import, a stored run and visit, and a site's history as drift reads
//! it. Back-end neutral: every column is already decoded into its model type.

use super::RunId;
use crate::analysis::finding::{Code, Finding, Severity};
use crate::model::{ConsentState, RunStatus, VisitObservation, VisitStatus, VisitTimings};
use chrono::{DateTime, Utc};

/// What a run starts with.
#[derive(Debug, Clone)]
pub struct RunStart<'a> {
    pub site: &'a str,
    pub scenario_file: &'a str,
    pub started_at: DateTime<Utc>,
    pub scenario_digest: Option<&'a str>,
    pub policy_digest: Option<&'a str>,
    /// The data versions the run ran with (`consentry=...; autoconsent=...;
    /// cmp-profiles=...`, [`crate::data::DataVersions::stored`]).
    pub data_versions: Option<&'a str>,
    /// `--fail-on`.
    pub fail_on: crate::outcome::FailOn,
    /// The fleet run the run belongs to (docs/fleet.md); `None` for a single-site audit.
    pub fleet_run: Option<super::FleetRunId>,
    /// Where it looks from (`[vantage]`, schema 22); `None` is vantage `default`.
    pub vantage: Option<&'a crate::model::vantage::Vantage>,
}

/// One visit as the pipeline hands it to the store: the observation, its place in the
/// run order, its third-party request count and the findings its analysis produced.
#[derive(Debug, Clone, Copy)]
pub struct JudgedVisit<'a> {
    pub position: Option<usize>,
    /// Which visit of its scenario in the run (1 to N, `audit --repeat N`; schema 18).
    pub repetition: u32,
    pub obs: &'a VisitObservation,
    pub third_party_requests: Option<usize>,
    pub findings: &'a [Finding],
    /// The visit's inventory (vendors' activity, hosts, cookies), for drift.
    pub inventory: Option<&'a crate::inventory::VisitInventory>,
}

/// A whole finished run, for [`super::Admin::import_runs`]: what `start_run`,
/// `record_declarations`, `record_judged_visit` (per visit, in order), `record_findings`
/// and `finish_run` would have written.
#[derive(Debug, Clone)]
pub struct RunImport<'a> {
    pub start: RunStart<'a>,
    pub declarations: &'a [crate::inventory::Declaration],
    pub visits: Vec<JudgedVisit<'a>>,
    /// Run-level findings (`visit_id` NULL), after the visits' findings.
    pub findings: &'a [Finding],
    pub status: RunStatus,
    pub finished_at: DateTime<Utc>,
}

/// One audit run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: RunId,
    pub site: String,
    pub scenario_file: String,
    pub started_at: DateTime<Utc>,
    /// `None` while running, and for a run whose process died (see docs/storage.md).
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// The run's `--fail-on` (runs stored before v2 read as `high`).
    pub fail_on: crate::outcome::FailOn,
    pub scenario_digest: Option<String>,
    pub policy_digest: Option<String>,
    /// The data versions it ran with (docs/packaging.md); `None` for runs stored before
    /// schema v14, and for those recorded without them.
    pub data_versions: Option<String>,
    /// The fleet run it belongs to (docs/fleet.md); `None` for a single-site audit.
    pub fleet_run: Option<super::FleetRunId>,
    /// The pages its scenarios visited, when the site discovers pages (docs/crawl.md):
    /// the stored plan, secrets redacted. `None` without `[site] crawl`.
    pub crawl: Option<crate::crawl::CrawlPlan>,
    /// Where it looked from (`[vantage]`, schema 22); vantage `default` for runs stored
    /// before, and for those audited without `[vantage]`.
    pub vantage: crate::model::vantage::Vantage,
}

/// A stored fleet run (docs/fleet.md): the runs of its sites name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRunRecord {
    pub id: super::FleetRunId,
    pub name: String,
    pub fleet_file: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
}

/// How many rows a visit has in each child table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitCounts {
    pub steps: u64,
    pub requests: u64,
    pub cookie_writes: u64,
    pub cookies: u64,
    pub storage_writes: u64,
    pub page_errors: u64,
}

/// One scenario of a run, without its (possibly many) child rows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub id: i64,
    pub run_id: RunId,
    pub scenario: String,
    pub status: VisitStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub final_state: ConsentState,
    pub timings: VisitTimings,
    pub warnings: Vec<String>,
    pub counts: VisitCounts,
    /// Place in the run order (`None` for visits stored without one).
    pub position: Option<u64>,
    /// Requests to third parties, as counted when the visit was attributed.
    pub third_party_requests: Option<u64>,
    /// How each consent action was performed and what the CMP recorded (schema 7).
    pub cmp: Vec<crate::cmp::CmpAction>,
    /// Which visit of its scenario in the run (1 to N; 1 before schema 18).
    pub repetition: u32,
    /// The scenario file's `[login]` as the visit ran it (schema 21; `None` without one).
    pub login: Option<crate::model::LoginObs>,
}

/// One run of a site, as drift sees it.
#[derive(Debug, Clone)]
pub struct RunHistory {
    pub run: RunRecord,
    pub visits: Vec<VisitSeen>,
    pub findings: Vec<FindingSeen>,
    /// What each declared vendor did over the run's visits (summed when they were
    /// written; absent for runs before schema 3).
    pub vendors: Vec<RunVendor>,
    /// The declared map of the run (empty for runs before schema 3).
    pub declarations: Vec<crate::inventory::Declaration>,
}

/// One visit of a run, as drift sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSeen {
    pub scenario: String,
    /// Which visit of its scenario in the run (1 to N; 1 before schema 18).
    pub repetition: u32,
    /// Observed completely.
    pub observed: bool,
    /// The consent state at its end records an objection to legitimate interest.
    pub li_objected: bool,
    /// Its inventory (absent when not observed, or recorded before schema 3): shared by
    /// every visit that stored the same set (schema 16), so equal inventories are one
    /// value (`Arc::ptr_eq`).
    pub inventory: Option<std::sync::Arc<InventorySet>>,
}

impl VisitSeen {
    /// The visit carries an inventory.
    pub fn has_inventory(&self) -> bool {
        self.inventory.is_some()
    }
}

/// A visit's inventory as drift reads it (an `inventory_sets` row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventorySet {
    /// The declared vendors that made requests, cookie or storage writes.
    pub vendors: Vec<String>,
    /// Third-party hosts, cookies and loaded-by relations, in order.
    pub items: Vec<crate::inventory::InventoryItem>,
}

/// One declared vendor over one run (`run_vendors`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunVendor {
    /// Its activity summed over the run's visits.
    pub activity: crate::inventory::VendorActivity,
    /// Records made after an objection to legitimate interest in the run's visits
    /// observed completely (part of `activity.objected`).
    pub objected_observed: u32,
}

/// The identity of a finding in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingSeen {
    pub fingerprint: String,
    pub code: Code,
    pub severity: Severity,
    pub scenario: Option<String>,
    pub subject: String,
    pub vendor: Option<String>,
    pub message: String,
    pub rule: String,
    /// Time of its first evidence (when it was first seen in that run).
    pub first_evidence: Option<DateTime<Utc>>,
    /// Its earliest evidence.
    pub evidence: Option<crate::analysis::Evidence>,
    /// The repetition of the visit that produced it (`None`: a run-level finding).
    pub repetition: Option<u32>,
}

/// One alert delivery (docs/alerts.md): a notification about a run or a fleet run, sent
/// to one target, delivered or given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// The run it was about (a single-site audit).
    pub run: Option<RunId>,
    /// The fleet run it was about (a fleet audit).
    pub fleet_run: Option<super::FleetRunId>,
    /// Where it went, reduced to scheme, host, port and first path segment
    /// (`crate::notify::Target::label`): never credentials, a query or a webhook's token.
    pub target: String,
    /// `slack` or `generic`.
    pub format: String,
    pub delivered: bool,
    /// Attempts made (1 when the first succeeded).
    pub attempts: u32,
    /// The last HTTP status received, if any.
    pub http_status: Option<u16>,
    /// Why the last attempt failed (`None` when delivered).
    pub error: Option<String>,
    /// When the last attempt ended.
    pub sent_at: DateTime<Utc>,
}
