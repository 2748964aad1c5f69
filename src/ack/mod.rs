//! Acknowledgements: a privacy lead accepts a finding (by fingerprint) with a reason, an
//! owner and an expiry, in `acks.toml` beside the scenario file (docs/drift.md,
//! "Acknowledgements").
//!
//! This module is the validated model and the pure matching: no I/O, no clock. The
//! loader is [`load`]; the audit turns the matches into [`AckRecord`]s (the per-run
//! snapshot the report shows and the store keeps), and the verdict
//! ([`crate::outcome::Verdict::of`]) does not count findings with an active one.

pub mod append;
pub mod load;
#[cfg(test)]
mod tests;

use crate::analysis::{Code, Finding};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;

/// The default name of the acknowledgements file, in the scenario file's directory.
pub const DEFAULT_FILE: &str = "acks.toml";

/// One `[[ack]]` entry of an acknowledgements file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The finding's stable fingerprint (`v1-` and 16 lowercase hex digits).
    pub fingerprint: String,
    /// Only for this site; `None`: any site.
    pub site: Option<String>,
    pub reason: String,
    pub owner: String,
    /// The last instant it applies (a date means the end of that day, UTC).
    pub expires: DateTime<Utc>,
    /// From when it applies (a date means the start of that day, UTC); `None`: always.
    pub acknowledged: Option<DateTime<Utc>>,
    /// Informational: the finding's code and subject when it was acknowledged.
    pub code: Option<Code>,
    pub subject: Option<String>,
    /// `file:line` of its `[[ack]]` header.
    pub location: String,
}

/// Where an acknowledgement stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckTime {
    /// `acknowledged` is after that time: it does not apply yet.
    NotYetInForce,
    Active,
    /// `expires` has passed: the finding it covered counts again.
    Expired,
}

impl AckTime {
    pub fn as_str(self) -> &'static str {
        match self {
            AckTime::NotYetInForce => "not yet in force",
            AckTime::Active => "active",
            AckTime::Expired => "expired",
        }
    }
}

impl Ack {
    /// Its standing at `at`: active while `acknowledged <= at <= expires`.
    pub fn at(&self, at: DateTime<Utc>) -> AckTime {
        if self.acknowledged.is_some_and(|from| at < from) {
            AckTime::NotYetInForce
        } else if at > self.expires {
            AckTime::Expired
        } else {
            AckTime::Active
        }
    }

    /// Whether it may cover findings of `site`.
    pub fn covers_site(&self, site: &str) -> bool {
        self.site.as_deref().is_none_or(|s| s == site)
    }
}

/// What an acknowledgement does to one finding at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match<'a> {
    /// The finding is acknowledged: shown as such, it does not fail the run.
    Active(&'a Ack),
    /// It was acknowledged, and the acknowledgement has expired: the finding reopens.
    Expired(&'a Ack),
}

/// The acknowledgements of one file (empty when there is none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acks {
    /// The file they were read from; `None`: no file.
    pub path: Option<PathBuf>,
    /// In file order.
    pub entries: Vec<Ack>,
}

impl Acks {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The acknowledgement of finding `fingerprint` of `site` at `at`. Acknowledgements
    /// not yet in force do not apply. An active one wins over an expired one; among
    /// several, one restricted to the site wins over one for any site, then the one
    /// expiring last.
    pub fn lookup(&self, site: &str, at: DateTime<Utc>, fingerprint: &str) -> Option<Match<'_>> {
        let candidates = || {
            self.entries
                .iter()
                .filter(|a| a.fingerprint == fingerprint && a.covers_site(site))
        };
        let best = |time: AckTime| {
            candidates()
                .filter(|a| a.at(at) == time)
                .max_by_key(|a| (a.site.is_some(), a.expires))
        };
        best(AckTime::Active)
            .map(Match::Active)
            .or_else(|| best(AckTime::Expired).map(Match::Expired))
    }

    /// The acknowledgements that may cover `site` whose fingerprint is none of
    /// `fingerprints`, in file order.
    pub fn unused<'f>(
        &self,
        site: &str,
        fingerprints: impl IntoIterator<Item = &'f str>,
    ) -> Vec<&Ack> {
        let present: HashSet<&str> = fingerprints.into_iter().collect();
        self.entries
            .iter()
            .filter(|a| a.covers_site(site) && !present.contains(a.fingerprint.as_str()))
            .collect()
    }

    /// The snapshot of one run of `site` that started at `at`: for each finding (in
    /// order) the acknowledgement that matched it, active or expired, then the ones
    /// that matched nothing.
    pub fn for_run(&self, site: &str, at: DateTime<Utc>, findings: &[Finding]) -> Vec<AckRecord> {
        let mut out: Vec<AckRecord> = findings
            .iter()
            .filter_map(|f| {
                let (ack, status) = match self.lookup(site, at, &f.fingerprint)? {
                    Match::Active(a) => (a, AckStatus::Active),
                    Match::Expired(a) => (a, AckStatus::Expired),
                };
                Some(AckRecord::of(ack, status))
            })
            .collect();
        out.extend(
            self.unused(site, findings.iter().map(|f| f.fingerprint.as_str()))
                .into_iter()
                .map(|a| AckRecord::of(a, AckStatus::Unused)),
        );
        out
    }
}

/// What an acknowledgement was in one run ([`Acks::for_run`]: active, expired or unused)
/// or over a drift window (`crate::drift`, which also says pending). One name each, the
/// same in the store (`run_acks.status`), JSON reports and the drift pack.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AckStatus {
    /// It covered a finding (of the run; at the end of the window): the finding did not
    /// count.
    Active,
    /// It had expired: the finding it covered counted again.
    Expired,
    /// It matched no finding (of the run; of the window).
    Unused,
    /// Not yet in force (its `acknowledged` date is after the drift window). A run's
    /// snapshot never says it: an acknowledgement not yet in force covers nothing there.
    Pending,
}

impl AckStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<AckStatus> {
        s.parse().ok()
    }
}

/// An acknowledgement as it stood in one run: what the report shows and the store
/// keeps (so a stored run re-renders with the same statuses and the same verdict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckRecord {
    pub fingerprint: String,
    pub site: Option<String>,
    pub owner: String,
    pub reason: String,
    pub expires: DateTime<Utc>,
    pub acknowledged: Option<DateTime<Utc>>,
    pub status: AckStatus,
    /// `file:line` of its entry.
    pub location: String,
}

impl AckRecord {
    pub fn of(ack: &Ack, status: AckStatus) -> AckRecord {
        AckRecord {
            fingerprint: ack.fingerprint.clone(),
            site: ack.site.clone(),
            owner: ack.owner.clone(),
            reason: ack.reason.clone(),
            expires: ack.expires,
            acknowledged: ack.acknowledged,
            status,
            location: ack.location.clone(),
        }
    }
}

/// A time as acknowledgement files write it: the date alone when it is a day's last
/// (for `expires`) or first (for `acknowledged`) instant in UTC, else RFC 3339.
pub fn show_time(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    let day_end =
        t.hour() == 23 && t.minute() == 59 && t.second() == 59 && t.nanosecond() == 999_999_999;
    let day_start = t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0;
    if day_end || day_start {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}
