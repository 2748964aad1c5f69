//! What a worker is given and gives back, and how it waits for a database that went
//! away: shared by the worker's loop ([`super::worker`]) and its jobs ([`super::jobs`]).

use crate::engine::EngineConfig;
use crate::pipeline::NotifyConfig;
use crate::store::DbLocation;
use std::path::PathBuf;
use std::time::Duration;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub db: DbLocation,
    pub engine: EngineConfig,
    /// Where screenshots go (`<dir>/<site>/run-<id>/`) when set ($CONSENTRY_REPORTS_DIR),
    /// else the fleet file's `reports`, else [`WorkerConfig::default_reports_dir`]: as an
    /// audit of the fleet in one process would put them.
    pub reports_dir: Option<PathBuf>,
    pub default_reports_dir: PathBuf,
    /// Names the worker in leases and `fleet status` (made unique with host and pid).
    pub name: String,
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub lease: Duration,
    /// How long to wait before asking again when there is nothing to take.
    pub poll: Duration,
    /// Stop once no job of any queued fleet is left (else wait for more until a signal).
    pub until_empty: bool,
    /// With `until_empty`: how long a worker that has leased nothing yet waits for a
    /// first job (workers started beside the `audit --queue` that fills the queue would
    /// otherwise find it empty and stop before the fleet is queued).
    pub start_grace: Duration,
    /// Alerts when this worker finishes a fleet: its targets replace the fleet file's.
    pub notify: NotifyConfig,
}

/// What a worker says as it goes (a line per event; the CLI prints them on stderr).
pub trait WorkerLog: Sync {
    fn line(&self, line: std::fmt::Arguments<'_>);
}

/// What a worker did.
#[derive(Debug, Default, Clone)]
pub struct WorkerSummary {
    /// Jobs it completed.
    pub done: usize,
    /// Jobs whose lease it lost (another worker did them).
    pub lost: usize,
    /// Jobs it gave back (a browser that failed once, a signal, its files differ).
    pub released: usize,
    /// Browser profile directories that could not be deleted.
    pub leftover_profiles: Vec<String>,
}

/// Pauses between attempts while the database is unreachable: from the poll interval up
/// to 10 s.
#[derive(Debug, Default)]
pub(super) struct Backoff {
    failures: u32,
}

impl Backoff {
    pub(super) fn reset(&mut self) {
        self.failures = 0;
    }

    pub(super) fn grow(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    pub(super) fn pause(&self, poll: Duration) -> Duration {
        if self.failures == 0 {
            return poll;
        }
        let factor = 1u32 << self.failures.min(5);
        (Duration::from_millis(250) * factor)
            .clamp(poll.min(Duration::from_secs(10)), Duration::from_secs(10))
    }
}
