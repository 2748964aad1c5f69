//! The HAR of each visit of a stored run (`consentry har`, the evidence bundle): the
//! visits' requests read from the store, laid out by [`crate::report::har`].

use crate::report::har::{har, HarVisit};
use crate::store::{RunId, Store, StoreError, VisitRecord};

/// One visit's archive.
#[derive(Debug, Clone)]
pub struct StoredHar {
    pub scenario: String,
    pub repetition: u32,
    /// The archive, pretty-printed JSON with a final newline.
    pub text: String,
    pub entries: usize,
}

impl StoredHar {
    /// `SCENARIO`, `-rN` after it for a repetition after the first; file-safe (a
    /// character other than a letter, digit, `_` or `-` is a `-`).
    pub fn stem(&self) -> String {
        let mut id: String = self
            .scenario
            .chars()
            .take(80)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if id.is_empty() {
            id.push_str("visit");
        }
        match self.repetition {
            1 => id,
            n => format!("{id}-r{n}"),
        }
    }
}

/// The file names of `hars`, `prefix` + [`StoredHar::stem`] + `.har`, made distinct (two
/// scenario ids that differ only in characters a file name cannot hold: `-2`, `-3`, ...).
pub fn har_file_names(hars: &[StoredHar], prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(hars.len());
    for h in hars {
        let stem = format!("{prefix}{}", h.stem());
        let mut name = format!("{stem}.har");
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{stem}-{n}.har");
            n += 1;
        }
        out.push(name);
    }
    out
}

/// What [`stored_hars`] found.
#[derive(Debug)]
pub enum HarOutcome {
    /// No such run.
    NoRun,
    /// The run's raw records are gone: no visit has a step or a request left
    /// (`consentry purge` removed them), so there is nothing to lay out.
    Purged { visits: usize },
    /// One archive per visit asked for, in the run's visit order.
    Hars(Vec<StoredHar>),
}

/// Has `v` lost its raw records? A visit always records its steps (the navigation is
/// one); none and no request either means `purge` took them.
pub fn is_purged(v: &VisitRecord) -> bool {
    v.counts.steps == 0 && v.counts.requests == 0
}

/// The HAR of each visit of run `run` that `keep` selects.
pub async fn stored_hars(
    store: &Store,
    run: RunId,
    keep: impl Fn(&VisitRecord) -> bool,
) -> Result<HarOutcome, StoreError> {
    let history = store.history();
    let Some(record) = history.run(run).await? else {
        return Ok(HarOutcome::NoRun);
    };
    let visits: Vec<VisitRecord> = history
        .visits(run)
        .await?
        .into_iter()
        .filter(|v| keep(v))
        .collect();
    if !visits.is_empty() && visits.iter().all(is_purged) {
        return Ok(HarOutcome::Purged {
            visits: visits.len(),
        });
    }
    let mut out = Vec::with_capacity(visits.len());
    for v in &visits {
        let requests = history.visit_requests(v.id).await?;
        let value = har(
            &HarVisit {
                run,
                site: &record.site,
                scenario: &v.scenario,
                repetition: v.repetition,
                started_at: v.started_at,
                requests: &requests,
            },
            env!("CARGO_PKG_VERSION"),
        );
        let mut text = serde_json::to_string_pretty(&value).map_err(|e| StoreError::Invalid {
            path: store.path().to_path_buf(),
            detail: format!("the HAR of {}: {e}", v.scenario),
        })?;
        text.push('\n');
        out.push(StoredHar {
            scenario: v.scenario.clone(),
            repetition: v.repetition,
            text,
            entries: requests.len(),
        });
    }
    Ok(HarOutcome::Hars(out))
}
