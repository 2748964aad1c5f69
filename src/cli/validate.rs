//! `consentry validate FILE...`

use clap::Args;
use consentry::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (with a [site] table), declared-map files, acknowledgements
    /// files ([[ack]]) and CMP profiles ([profile]); a scenario file's declared map, the
    /// acks.toml beside it when there is one, and the CMP profiles in cmp/ beside it are
    /// checked too.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Check this acknowledgements file instead of the acks.toml beside each scenario file.
    #[arg(long, value_name = "PATH")]
    pub acks: Option<PathBuf>,
    /// Also check the declared TCF vendors against this IAB Global Vendor List
    /// (vendor-list.json, version 3): problems are warnings with file:line:col.
    #[arg(long, value_name = "FILE")]
    pub gvl: Option<PathBuf>,
}

pub fn run(args: ValidateArgs) -> ExitStatus {
    let mut diags =
        consentry::validate::validate_files_with_acks(&args.files, args.acks.as_deref());
    if let Some(path) = &args.gvl {
        match consentry::policy::gvl::load_gvl(path) {
            Ok(gvl) => diags.0.extend(gvl_warnings(&args.files, &gvl)),
            Err(e) => diags.0.extend(e.0),
        }
    }
    consentry::stderr::text(format_args!("{diags}"));
    let (errors, warnings) = (diags.errors(), diags.warnings());
    if errors > 0 {
        consentry::stderr::line(format_args!("{errors} error(s), {warnings} warning(s)"));
        ExitStatus::InvalidInput
    } else {
        consentry::stderr::line(format_args!(
            "{} file(s) valid ({warnings} warning(s))",
            args.files.len()
        ));
        ExitStatus::Ok
    }
}

/// The GVL lint of every policy among `files` (a scenario file's own policy included),
/// each policy once. Files that do not load were reported by the validation already.
fn gvl_warnings(
    files: &[PathBuf],
    gvl: &consentry::policy::gvl::Gvl,
) -> Vec<consentry::diag::Diagnostic> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        let policy = match consentry::scenario::load::load_audit_file(f) {
            Ok(spec) => Some(spec.policy),
            Err(_) => consentry::policy::load::load_policy(f).ok(),
        };
        let Some(policy) = policy else { continue };
        if seen.insert(policy.path.clone()) {
            out.extend(consentry::policy::gvl::as_warnings(
                &consentry::policy::gvl::lint(&policy, gvl),
            ));
        }
    }
    out
}
