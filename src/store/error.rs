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
