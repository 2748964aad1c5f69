//! `consentry migrate`: bring a database's schema up to this consentry's. `audit`, `purge`
//! and this command migrate (they write); `runs`, `report`, `drift` and `ack` open a
//! database read-only and name this command when its schema is older.

use clap::Args;
use consentry::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
}

pub async fn run(args: MigrateArgs) -> ExitStatus {
    let path = match super::db_location(args.db.as_deref()) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let store = match super::open_existing(&path).await {
        Ok(s) => s,
        Err(status) => return status,
    };
    store.close().await;
    match crate::cli::output::line_to_stdout(&format!(
        "{}: schema up to date",
        consentry::text::printable(&path.to_string())
    )) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}
