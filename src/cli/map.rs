//! `consentry map export POLICY` and `consentry map import FILE`: the declared map as
//! fideslang, the Fides privacy taxonomy, and back (docs/fideslang.md).
//!
//! Exit codes: 0 written; 2 an invalid policy or fideslang file (every problem with
//! file:line:col) or an imported policy the loader refuses, an output file that exists
//! without `--force`; 4 a file not written or standard output closed.

use clap::{Args, Subcommand, ValueEnum};
use consentry::exit::ExitStatus;
use consentry::fides::Entry;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct MapArgs {
    #[command(subcommand)]
    pub command: MapCommand,
}

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Draft a policy from a stored run: the vendors, cookies and purposes its visits showed, each marked `draft = true` with comments on where each guess came from (docs/scenarios.md#drafting-a-map-from-a-visit).
    Draft(super::map_draft::DraftArgs),
    /// Write a policy as a fideslang document (one system per vendor, one privacy declaration per purpose; what fideslang has no field for under each system's `meta.consentry`).
    Export(ExportArgs),
    /// Read a fideslang document (one `consentry map export` wrote, or one kept in Fides) as a policy; what fideslang does not say is marked for a person to complete.
    Import(ImportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapFormat {
    /// fideslang YAML (the Fides taxonomy: systems, privacy declarations, data uses).
    Fideslang,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The policy file (`*.policy.toml`).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// The format written.
    #[arg(long, value_enum, default_value = "fideslang")]
    pub format: MapFormat,
    /// Write to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The fideslang YAML file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the policy to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "POLICY")]
    pub output: Option<PathBuf>,
    /// Overwrite `--output` when it exists.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(args: MapArgs) -> ExitStatus {
    match args.command {
        MapCommand::Draft(a) => super::map_draft::run(a).await,
        MapCommand::Export(a) => export(a),
        MapCommand::Import(a) => import(a),
    }
}

fn export(args: ExportArgs) -> ExitStatus {
    let MapFormat::Fideslang = args.format;
    let policy = match consentry::policy::load::load_policy(&args.policy) {
        Ok(p) => p,
        Err(diags) => {
            consentry::stderr::text(format_args!("{diags}"));
            return ExitStatus::InvalidInput;
        }
    };
    let out = consentry::fides::export(&policy);
    for w in &out.warnings {
        consentry::stderr::line(format_args!(
            "{}: warning: {w}",
            consentry::text::printable(&args.policy.display().to_string())
        ));
    }
    write(args.output.as_deref(), &out.text)
}

fn import(args: ImportArgs) -> ExitStatus {
    let target = args.output.as_deref().filter(|p| *p != Path::new("-"));
    if let Some(p) = target {
        if p.exists() && !args.force {
            consentry::stderr::line(format_args!(
                "error: {} exists; give --force to overwrite it",
                consentry::text::printable(&p.display().to_string())
            ));
            return ExitStatus::InvalidInput;
        }
    }
    let (imported, diags) = match consentry::fides::import_file(&args.file) {
        Ok(ok) => ok,
        Err(diags) => {
            consentry::stderr::text(format_args!("{diags}"));
            consentry::stderr::line(format_args!(
                "{} error(s), {} warning(s); nothing written",
                diags.errors(),
                diags.warnings()
            ));
            return ExitStatus::InvalidInput;
        }
    };
    consentry::stderr::text(format_args!("{diags}"));
    let text = consentry::fides::import::to_toml(&imported, &args.file);
    // The policy is read back as `consentry validate` will read it: one the loader
    // refuses (a meta block edited into a domain two vendors claim) is not written.
    let shown = target.unwrap_or(Path::new("<stdout>"));
    let (written, check) = consentry::policy::load::parse_policy(shown, &text);
    if check.has_errors() {
        consentry::stderr::text(format_args!("{check}"));
        consentry::stderr::line(format_args!(
            "error: the policy made from {} is invalid ({} error(s) above, at the lines it would have); nothing written",
            consentry::text::printable(&args.file.display().to_string()),
            check.errors()
        ));
        return ExitStatus::InvalidInput;
    }
    let status = write(args.output.as_deref(), &text);
    if status != ExitStatus::Ok {
        return status;
    }
    // What the written file still needs, at its lines.
    consentry::stderr::text(format_args!("{check}"));
    let lines = written.map(|p| p.lines).unwrap_or_default();
    let mut todos: Vec<(usize, String)> = Vec::new();
    for (entry, todo) in &imported.todo {
        let (what, line) = match entry {
            Entry::Purpose(id) => (format!("purpose `{id}`"), find(&lines.purposes, id)),
            Entry::Vendor(id) => (format!("vendor `{id}`"), find(&lines.vendors, id)),
            Entry::Cookie(n, v) => (
                format!("cookie `{n}` of vendor `{v}`"),
                lines
                    .cookies
                    .iter()
                    .find(|(cn, cv, _)| cn == n && cv == v)
                    .map(|(_, _, l)| *l),
            ),
        };
        todos.push((line.unwrap_or(1), format!("draft {what}: {todo}")));
    }
    todos.sort();
    for (line, todo) in todos {
        consentry::stderr::line(format_args!(
            "{}:{line}: {}",
            consentry::text::printable(&shown.display().to_string()),
            consentry::text::printable(&todo)
        ));
    }
    let drafts = imported.drafts();
    if drafts > 0 {
        consentry::stderr::line(format_args!(
            "{drafts} entr{} marked draft: fideslang does not say everything consentry needs; complete them, then `consentry validate`",
            if drafts == 1 { "y is" } else { "ies are" }
        ));
    }
    ExitStatus::Ok
}

fn find(lines: &[(String, usize)], id: &str) -> Option<usize> {
    lines.iter().find(|(i, _)| i == id).map(|(_, l)| *l)
}

/// `text` to `path` (or stdout).
fn write(path: Option<&Path>, text: &str) -> ExitStatus {
    match path.filter(|p| *p != Path::new("-")) {
        None => match crate::cli::output::to_stdout(text) {
            Ok(()) => ExitStatus::Ok,
            Err(status) => status,
        },
        Some(p) => match std::fs::write(p, text) {
            Ok(()) => {
                consentry::stderr::line(format_args!(
                    "wrote {}",
                    consentry::text::printable(&p.display().to_string())
                ));
                ExitStatus::Ok
            }
            Err(e) => {
                consentry::stderr::line(format_args!(
                    "error: cannot write {}: {e}",
                    consentry::text::printable(&p.display().to_string())
                ));
                ExitStatus::Error
            }
        },
    }
}
