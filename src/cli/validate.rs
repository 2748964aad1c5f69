//! `consentry validate FILE...`

use crate::exit::ExitStatus;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (with a [site] table), declared-map files and acknowledgements
    /// files ([[ack]]); a scenario file's declared map, and the acks.toml beside it when
    /// there is one, are checked too.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Check this acknowledgements file instead of the acks.toml beside each scenario file.
    #[arg(long, value_name = "PATH")]
    pub acks: Option<PathBuf>,
}

pub fn run(args: ValidateArgs) -> ExitStatus {
    let diags = crate::scenario::load::validate_files_with_acks(&args.files, args.acks.as_deref());
    eprint!("{diags}");
    let (errors, warnings) = (diags.errors(), diags.warnings());
    if errors > 0 {
        eprintln!("{errors} error(s), {warnings} warning(s)");
        ExitStatus::InvalidInput
    } else {
        eprintln!("{} file(s) valid ({warnings} warning(s))", args.files.len());
        ExitStatus::Ok
    }
}
