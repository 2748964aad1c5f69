//! `consentry migrate`: bring a database's schema up to this consentry's. `audit`, `purge`
//! and this command migrate (they write); `runs`, `report`, `drift` and `ack` open a
//! database read-only and name this command when its schema is older.

use clap::Args;
use consentry::exit::ExitStatus;
use consentry::store::default_db_path;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// SQLite database file [default: $CONSENTRY_DB, else ./consentry.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

pub async fn run(args: MigrateArgs) -> ExitStatus {
    let path = args.db.unwrap_or_else(default_db_path);
    let store = match super::open_existing(&path).await {
        Ok(s) => s,
        Err(status) => return status,
    };
    store.close().await;
    match crate::cli::output::line_to_stdout(&format!(
        "{}: schema up to date",
        consentry::text::printable(&path.display().to_string())
    )) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}
