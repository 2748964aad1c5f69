//! What an alert says, decided once and without I/O: the findings new or regressed in a
//! run (not the persisting ones, never an acknowledged one), grouped per site, and the
//! runs that could not look at everything, with their reason.
//!
//! Only what identifies a finding goes out — its code, severity, subject, scenario, the
//! path of its first page, its fingerprint — never its message, evidence or anything a
//! page supplied beyond that. Every string passes [`clean`]: the site's declared secrets
//! redacted, every URL cut to scheme, host and path (no credentials, query or fragment),
//! clip marks (which carry a hash) dropped, control characters escaped, length bounded.

use crate::analysis::{Code, Severity};
use crate::model::RunStatus;
use crate::outcome::AuditReport;
use crate::secrets::Secrets;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The most findings listed per site (the counts say how many there are in all).
pub const MAX_LISTED: usize = 20;
/// The longest string a message carries (a subject, a reason).
pub const MAX_TEXT: usize = 300;

/// One finished site run, as the notification reads it.
pub struct SiteInput<'a> {
    pub report: &'a AuditReport,
    /// Where its full report was written, when it was.
    pub report_path: Option<&'a str>,
    /// The site's declared secrets (`[site] secrets`), redacted from every string.
    pub secrets: &'a Secrets,
}

/// What one alert says: something new or regressed, or a run that is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// `run-<id>` or `fleet-run-<id>`: the same in every message about this run and on
    /// every retry, so a receiver can drop duplicates.
    pub id: String,
    /// The fleet run, for a fleet audit.
    pub fleet: Option<FleetRef>,
    /// When the run (or the fleet run) started.
    pub started_at: DateTime<Utc>,
    /// Only the sites with something to say, in run order.
    pub sites: Vec<SiteChange>,
}

/// A fleet run's name and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetRef {
    pub name: String,
    pub run_id: Option<i64>,
}

/// One site's news.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteChange {
    pub site: String,
    pub run_id: Option<i64>,
    /// Where its full report was written.
    pub report: Option<String>,
    /// `complete`, `incomplete`, `interrupted`, `running` (a run is incomplete when a
    /// visit was not observed even if its status is `complete`: see `incomplete`).
    pub status: &'static str,
    /// Why the run could not look at everything; `None` when it could.
    pub incomplete: Option<String>,
    /// Findings new in this run (not acknowledged).
    pub new: usize,
    /// Findings that had been resolved and are back (not acknowledged).
    pub regressed: usize,
    /// At most [`MAX_LISTED`] of them, most severe first.
    pub findings: Vec<ChangedFinding>,
}

/// New or regressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    New,
    Regressed,
}

/// A finding that changed, reduced to what identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFinding {
    pub change: Change,
    pub code: Code,
    pub severity: Severity,
    /// The code's one-line description (docs/findings.md).
    pub title: &'static str,
    /// Vendor id, host or cookie name; a URL reduced to scheme, host and path.
    pub subject: String,
    pub scenario: Option<String>,
    /// The path of the first page it was seen on (no host, query or fragment).
    pub page: Option<String>,
    pub fingerprint: String,
}

impl Notification {
    /// About one site's run: `None` when nothing is new or regressed and the run is
    /// complete.
    pub fn of_run(site: &SiteInput<'_>) -> Option<Notification> {
        let change = SiteChange::of(site)?;
        Some(Notification {
            id: run_id_label("run", site.report.run_id),
            fleet: None,
            started_at: site.report.started_at,
            sites: vec![change],
        })
    }

    /// About a fleet run: its sites with news, and the sites not audited (invalid
    /// files: `(label, errors)`), which are incomplete. `None` when no site has news.
    pub fn of_fleet(
        name: &str,
        fleet_run_id: Option<i64>,
        started_at: DateTime<Utc>,
        sites: &[SiteInput<'_>],
        not_audited: &[(&str, usize)],
    ) -> Option<Notification> {
        let none = Secrets::default();
        let changes: Vec<SiteChange> = sites
            .iter()
            .filter_map(SiteChange::of)
            .chain(not_audited.iter().map(|(label, errors)| SiteChange {
                site: clean(label, &none),
                run_id: None,
                report: None,
                status: "incomplete",
                incomplete: Some(format!("not audited: {errors} error(s) in its files")),
                new: 0,
                regressed: 0,
                findings: Vec::new(),
            }))
            .collect();
        if changes.is_empty() {
            return None;
        }
        Some(Notification {
            id: run_id_label("fleet-run", fleet_run_id),
            fleet: Some(FleetRef {
                name: clean(name, &none),
                run_id: fleet_run_id,
            }),
            started_at,
            sites: changes,
        })
    }

    /// One line for a chat's notification text and a log: who, and how much changed.
    pub fn headline(&self) -> String {
        let (new, regressed): (usize, usize) = self
            .sites
            .iter()
            .fold((0, 0), |(n, r), s| (n + s.new, r + s.regressed));
        let incomplete = self.sites.iter().filter(|s| s.incomplete.is_some()).count();
        let mut parts = Vec::new();
        if new + regressed > 0 {
            parts.push(counts(new, regressed));
        }
        match (&self.fleet, incomplete) {
            (_, 0) => {}
            (None, _) => parts.push("the run is incomplete".into()),
            (Some(_), n) => parts.push(format!("{n} site{} incomplete", plural(n))),
        }
        let who = match &self.fleet {
            Some(f) => format!("fleet {}", f.name),
            None => self
                .sites
                .first()
                .map(|s| s.site.clone())
                .unwrap_or_default(),
        };
        format!("consentry: {who}: {}", parts.join("; "))
    }
}

/// "1 new finding", "2 new findings, 1 regressed".
pub fn counts(new: usize, regressed: usize) -> String {
    match (new, regressed) {
        (n, 0) => format!("{n} new finding{}", plural(n)),
        (0, r) => format!("{r} regressed finding{}", plural(r)),
        (n, r) => format!("{n} new finding{}, {r} regressed", plural(n)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn run_id_label(kind: &str, id: Option<i64>) -> String {
    match id {
        Some(id) => format!("{kind}-{id}"),
        None => format!("{kind}-unstored"),
    }
}

impl SiteChange {
    /// `None` when the site has nothing to say.
    fn of(input: &SiteInput<'_>) -> Option<SiteChange> {
        let r = input.report;
        let secrets = input.secrets;
        let mut changed: Vec<ChangedFinding> = r
            .findings
            .iter()
            .filter(|f| r.new_fingerprints.contains(&f.fingerprint) && !r.is_acknowledged(f))
            .map(|f| ChangedFinding {
                change: if r.regressed_fingerprints.contains(&f.fingerprint) {
                    Change::Regressed
                } else {
                    Change::New
                },
                code: f.code,
                severity: f.severity,
                title: f.code.summary(),
                subject: clean(&f.subject, secrets),
                scenario: f.scenario.as_deref().map(|s| clean(s, secrets)),
                page: f.evidence.first().map(|e| page_path(&e.page, secrets)),
                fingerprint: clean(&f.fingerprint, secrets),
            })
            .collect();
        let incomplete = incomplete_reason(r).map(|s| clean(&s, secrets));
        if changed.is_empty() && incomplete.is_none() {
            return None;
        }
        changed.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let regressed = changed
            .iter()
            .filter(|f| f.change == Change::Regressed)
            .count();
        let new = changed.len() - regressed;
        changed.truncate(MAX_LISTED);
        Some(SiteChange {
            site: clean(&r.site, secrets),
            run_id: r.run_id,
            report: input.report_path.map(|p| clean(p, secrets)),
            status: r.status.as_str(),
            incomplete,
            new,
            regressed,
            findings: changed,
        })
    }
}

/// Why a run could not look at everything (`None` when it could): its status's reason,
/// then each scenario not observed with its reason.
fn incomplete_reason(r: &AuditReport) -> Option<String> {
    if !r.verdict.incomplete {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    match &r.status {
        RunStatus::Incomplete(why) | RunStatus::Interrupted(why) => parts.push(why.clone()),
        RunStatus::Running => parts.push("the run did not finish".into()),
        RunStatus::Complete => {}
    }
    for (scenario, why) in r.not_observed() {
        parts.push(format!("{scenario} not observed: {why}"));
    }
    if r.visits.is_empty() {
        parts.push("nothing was observed".into());
    }
    if parts.is_empty() {
        parts.push("not everything was observed".into());
    }
    Some(parts.join("; "))
}

/// A page's path alone: no scheme, host, query or fragment.
fn page_path(page: &str, secrets: &Secrets) -> String {
    let page = secrets.redact(page);
    let path = match url::Url::parse(&page) {
        Ok(u) => u.path().to_string(),
        Err(_) => page
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    clean(&path, secrets)
}

/// The one door every string of a notification passes: declared secrets redacted (in
/// every form [`Secrets::redact`] knows), every `scheme://…` URL in the text cut to
/// scheme, host and path (credentials, query and fragment dropped), a clip mark (which
/// carries a keyed hash) replaced by `…`, control characters escaped, at most
/// [`MAX_TEXT`] characters.
pub fn clean(s: &str, secrets: &Secrets) -> String {
    let s = secrets.redact(s);
    let s = match crate::text::split_clip_mark(&s) {
        Some((kept, _mark)) => format!("{kept}…"),
        None => s.into_owned(),
    };
    let s = strip_urls(&s);
    crate::text::printable_clipped(&s, MAX_TEXT)
}

/// Every `scheme://authority/path?query#fragment` in `s` as `scheme://host/path`.
fn strip_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let after = &after[3..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(after.len());
        let (url, tail) = after.split_at(end);
        let url = url.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match url.find('/') {
            Some(i) => url.split_at(i),
            None => (url, ""),
        };
        let host = authority.rsplit('@').next().unwrap_or_default();
        out.push_str("://");
        out.push_str(host);
        out.push_str(path);
        rest = tail;
    }
    out.push_str(rest);
    out
}
