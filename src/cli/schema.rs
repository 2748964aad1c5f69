//! `consentry schema [KIND]`: the JSON Schema of an input file kind (scenario, policy,
//! acks, fleet, profile) for editors (docs/editors.md), on stdout or `--output FILE`;
//! `--output-dir DIR` writes all of them as `<kind>.schema.json` (how `schemas/` is made).

use clap::Args;
use consentry::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The file kind: scenario, policy, acks, fleet or profile.
    #[arg(value_name = "KIND", required_unless_present = "output_dir")]
    pub kind: Option<String>,
    /// Write the schema to this file instead of stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// Write every kind's schema into this directory, as `<kind>.schema.json`.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

pub fn run(args: SchemaArgs) -> ExitStatus {
    if let Some(dir) = &args.output_dir {
        let kinds: Vec<_> = match &args.kind {
            Some(id) => match kind(id) {
                Some(k) => vec![k],
                None => return ExitStatus::InvalidInput,
            },
            None => consentry::schema::KINDS.to_vec(),
        };
        if let Err(e) = std::fs::create_dir_all(dir) {
            consentry::stderr::line(format_args!("error: cannot create {}: {e}", dir.display()));
            return ExitStatus::Error;
        }
        for k in kinds {
            let path = dir.join(format!("{}.schema.json", k.id));
            if let Err(e) = std::fs::write(&path, consentry::schema::schema_text(k)) {
                consentry::stderr::line(format_args!(
                    "error: cannot write {}: {e}",
                    path.display()
                ));
                return ExitStatus::Error;
            }
            consentry::stderr::line(format_args!("wrote {}", path.display()));
        }
        return ExitStatus::Ok;
    }
    let Some(k) = args.kind.as_deref().and_then(kind) else {
        return ExitStatus::InvalidInput;
    };
    let text = consentry::schema::schema_text(k);
    match &args.output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitStatus::Ok,
            Err(e) => {
                consentry::stderr::line(format_args!(
                    "error: cannot write {}: {e}",
                    path.display()
                ));
                ExitStatus::Error
            }
        },
        None => match crate::cli::output::to_stdout(&text) {
            Ok(()) => ExitStatus::Ok,
            Err(status) => status,
        },
    }
}

/// The kind named `id`, or an error naming the kinds.
fn kind(id: &str) -> Option<&'static consentry::toml_check::shape::FileKind> {
    let found = consentry::schema::kind(id.trim());
    if found.is_none() {
        let ids: Vec<&str> = consentry::schema::KINDS.iter().map(|k| k.id).collect();
        consentry::stderr::line(format_args!(
            "error: unknown file kind {id:?}; the kinds are: {}",
            ids.join(", ")
        ));
    }
    found
}
