//! `consentry validate FILE...`

use crate::exit::ExitStatus;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (with a [site] table) and declared-map files; a scenario file's
    /// declared map is checked too.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: ValidateArgs) -> ExitStatus {
    let diags = crate::scenario::load::validate_files(&args.files);
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
