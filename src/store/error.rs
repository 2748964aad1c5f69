//! Storage failures. Messages name the database file.

use super::RunId;
use sqlx::migrate::MigrateError;
use std::path::PathBuf;

/// A storage failure. Messages name the database file.
///
/// Underlying errors are kept in `cause` fields and included in the message (not exposed
/// as `source()`, so chains printed with `{:#}` do not repeat them).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: it is a directory", path.display())]
    IsDirectory { path: PathBuf },
    #[error("cannot create directory {} for database {}: {cause}", dir.display(), path.display())]
    CreateDir {
        path: PathBuf,
        dir: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot open database {}: {cause}", path.display())]
    Open { path: PathBuf, cause: sqlx::Error },
    #[error(
        "cannot open database {}: it was written by a newer consentry (schema migration {version} is unknown to this version)",
        path.display()
    )]
    NewerSchema { path: PathBuf, version: i64 },
    #[error("no database at {}", path.display())]
    Missing { path: PathBuf },
    #[error(
        "database {} has schema version {version}, this consentry reads version {current}; \
         it was opened read-only, so it is not migrated here: `consentry migrate --db {}` \
         migrates it (that writes the file)",
        path.display(),
        path.display()
    )]
    NeedsMigration {
        path: PathBuf,
        version: i64,
        current: i64,
    },
    #[error("cannot migrate database {}: {cause}", path.display())]
    Migrate { path: PathBuf, cause: MigrateError },
    #[error("database {}: {op} failed: {cause}", path.display())]
    Query {
        path: PathBuf,
        op: &'static str,
        cause: sqlx::Error,
    },
    #[error("database {}: run {run} does not exist", path.display())]
    UnknownRun { path: PathBuf, run: RunId },
    #[error("database {}: run {run} already has a visit for scenario {scenario:?}", path.display())]
    DuplicateVisit {
        path: PathBuf,
        run: RunId,
        scenario: String,
    },
    #[error("database {}: cannot store: {detail}", path.display())]
    Invalid { path: PathBuf, detail: String },
    #[error("database {}: invalid stored data: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
}

impl StoreError {
    /// The database was busy (another connection held a lock past the busy timeout): the
    /// same write may succeed later.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Query { cause, .. } => {
                super::sqlite::is_busy(cause) || super::postgres::is_busy(cause)
            }
            _ => false,
        }
    }
}

impl StoreError {
    /// The database could not be reached, or cut the connection (a server restarting, a
    /// network gone, the pool's wait for a connection over): the same call may succeed
    /// once it is back. Anything else (a constraint, bad data) would fail again.
    pub fn is_unreachable(&self) -> bool {
        let cause = match self {
            StoreError::Query { cause, .. } | StoreError::Open { cause, .. } => cause,
            _ => return false,
        };
        match cause {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (class 08) and its shutdown codes
            // (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
            sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }

    /// A database opened read-only must have exactly this consentry's schema (the
    /// versions `migrator` knows): a newer one is refused as when writing, an older one
    /// (or none) is not migrated there; the error says which command would.
    pub(super) fn schema_mismatch(
        path: &std::path::Path,
        migrator: &sqlx::migrate::Migrator,
        applied: Option<std::collections::BTreeSet<i64>>,
    ) -> Option<StoreError> {
        let known: std::collections::BTreeSet<i64> = migrator.iter().map(|m| m.version).collect();
        let applied = applied.unwrap_or_default();
        let newer = applied.iter().find(|v| !known.contains(v)).copied();
        let missing = known.difference(&applied).next().is_some();
        match (newer, missing) {
            (Some(version), _) => Some(StoreError::NewerSchema {
                path: path.to_path_buf(),
                version,
            }),
            (None, true) => Some(StoreError::NeedsMigration {
                path: path.to_path_buf(),
                version: applied.last().copied().unwrap_or(0),
                current: known.last().copied().unwrap_or(0),
            }),
            (None, false) => None,
        }
    }
}

#[cfg(test)]
mod unreachable_tests {
    use super::StoreError;

    fn query(cause: sqlx::Error) -> StoreError {
        StoreError::Query {
            path: "db".into(),
            op: "test",
            cause,
        }
    }

    #[test]
    fn a_database_out_of_reach_is_worth_waiting_for_and_a_bad_call_is_not() {
        assert!(query(sqlx::Error::PoolTimedOut).is_unreachable());
        assert!(query(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        )))
        .is_unreachable());
        assert!(!query(sqlx::Error::RowNotFound).is_unreachable());
        assert!(!StoreError::Invalid {
            path: "db".into(),
            detail: "x".into()
        }
        .is_unreachable());
    }
}
