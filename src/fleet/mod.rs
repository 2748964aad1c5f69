//! Fleets: many sites in one run (docs/fleet.md).
//!
//! What `consentry audit` is given — one scenario file, several, a folder of them, or a
//! fleet file — becomes one validated [`FleetSpec`]: the sites, each a full
//! [`AuditSpec`] with its acknowledgements, and the limits that keep the crawl polite.
//! [`inputs`] tells the inputs apart; [`load`] reads a fleet file.

pub mod inputs;
pub mod load;

use crate::ack::Acks;
use crate::scenario::AuditSpec;
use std::path::PathBuf;
use std::time::Duration;

/// Every site of a run, validated, with what they share.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// The fleet file, when the sites came from one.
    pub path: Option<PathBuf>,
    /// The fleet's name (`[fleet] name`; for plain scenario files, `fleet`).
    pub name: String,
    /// `[fleet] database`, resolved against the fleet file's directory.
    pub database: Option<PathBuf>,
    /// `[fleet] reports`, resolved against the fleet file's directory.
    pub reports: Option<PathBuf>,
    pub limits: SiteLimits,
    /// `[fleet] notify`: where alerts about the fleet's runs go (docs/alerts.md).
    pub notify: Vec<crate::notify::Target>,
    pub sites: Vec<FleetSite>,
    /// Sites whose files are invalid: not audited, reported as not observed, never
    /// holding the others up (their diagnostics were returned with the fleet).
    pub invalid: Vec<InvalidSite>,
}

/// A site of the fleet that cannot be audited: its files are invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSite {
    /// Its name when it could be read, else its file as the fleet names it.
    pub label: String,
    /// Its scenario file, or `FLEET_FILE#NAME`.
    pub scenario_file: String,
    pub errors: usize,
}

/// How hard one site is visited (docs/fleet.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteLimits {
    /// At most this many visits of one site at once (`[fleet] per_site`, default 1).
    pub per_site: usize,
    /// At least this long between two page loads of one site (`[fleet] page_delay`).
    pub page_delay: Duration,
    /// How many times each scenario is visited, each in a fresh browser context
    /// (`[fleet] repeat`, `audit --repeat`; default 1; docs/findings.md, "Repetitions").
    pub repeat: u32,
}

impl Default for SiteLimits {
    fn default() -> Self {
        SiteLimits {
            per_site: 1,
            page_delay: Duration::ZERO,
            repeat: 1,
        }
    }
}

/// One site of a fleet.
#[derive(Debug, Clone)]
pub struct FleetSite {
    pub spec: AuditSpec,
    /// Where the site was declared, as shown in reports and stored with its runs: its
    /// scenario file, or `FLEET_FILE#NAME` for a site written inline in a fleet file.
    pub scenario_file: String,
    /// The acknowledgements in force for it.
    pub acks: Acks,
}

/// One share of a fleet's sites (`--shard I/N`, docs/queue.md): the sites at positions
/// I, I+N, I+2N… of the fleet (counting from 1), so that N processes, each given its own
/// I, audit every site once without a shared queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `I/N`, with 1 <= I <= N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?}: expected I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Keep only this shard's sites (valid ones, in fleet order); the sites whose files
    /// are invalid are reported by shard 1 alone.
    pub fn keep_in(&self, fleet: &mut FleetSpec) {
        let sites = std::mem::take(&mut fleet.sites);
        fleet.sites = sites
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % self.count == self.index - 1)
            .map(|(_, s)| s)
            .collect();
        if self.index != 1 {
            fleet.invalid.clear();
        }
    }
}

/// The longest `page_delay` accepted: one minute (a longer pause is a mistake).
pub const MAX_PAGE_DELAY: Duration = Duration::from_secs(60);
/// The most visits of one site at once (`per_site`).
pub const MAX_PER_SITE: i64 = 16;
/// The most repetitions of a scenario in one run (`repeat`).
pub const MAX_REPEAT: i64 = 10;

#[cfg(test)]
mod tests;
