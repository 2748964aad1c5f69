//! `consentry map draft --run RUN`: a policy drafted from a stored run
//! ([`consentry::pipeline::draft`], docs/scenarios.md#drafting-a-map-from-a-visit).

use clap::Args;
use consentry::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DraftArgs {
    /// The stored run (`consentry runs` lists them).
    #[arg(long, value_name = "ID")]
    pub run: i64,
    /// The database [default: $CONSENTRY_DB, else ./consentry.db].
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// The site's scenario file (its first-party domains) [default: the one the run
    /// recorded].
    #[arg(long, value_name = "FILE")]
    pub scenario_file: Option<PathBuf>,
    /// Write the policy to this file instead of stdout (never over an existing file
    /// unless --force).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite --output if it exists.
    #[arg(long)]
    pub force: bool,
    /// consentry's data directory, for the knowledge bases [default: as `audit` finds it].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// An extra vendor database of your own (docs/knowledge.md).
    #[arg(long, value_name = "PATH", env = "CONSENTRY_VENDOR_DB")]
    pub vendor_db: Option<PathBuf>,
}

fn invalid(msg: String) -> ExitStatus {
    consentry::stderr::line(format_args!("error: {msg}"));
    ExitStatus::InvalidInput
}

pub async fn run(args: DraftArgs) -> ExitStatus {
    if let Some(out) = args
        .output
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"))
    {
        if !args.force && std::fs::symlink_metadata(out).is_ok() {
            return invalid(format!(
                "{} exists; map draft never overwrites a file (--force to replace it)",
                out.display()
            ));
        }
    }
    let (db, store) = match super::read_only_db(args.db.as_deref()).await {
        Ok(opened) => opened,
        Err(status) => return status,
    };
    let run_id: consentry::store::RunId = args.run;
    let record = match store.history().run(run_id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            store.close().await;
            return invalid(format!("{db} has no run {}", args.run));
        }
        Err(e) => {
            store.close().await;
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };
    let file = args
        .scenario_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(&record.scenario_file));
    let spec = match consentry::scenario::load::load_audit_file(&file) {
        Ok(spec) => spec,
        Err(diags) => {
            store.close().await;
            consentry::stderr::text(format_args!("{diags}"));
            return invalid(format!(
                "{}: the site's scenario file is needed for its first-party domains; pass --scenario-file",
                file.display()
            ));
        }
    };
    let data = consentry::data::Lookup::from_process(args.data_dir.as_deref())
        .locate()
        .map(|c| c.dir);
    let knowledge =
        match consentry::knowledge::locate(data.as_deref(), &file, args.vendor_db.as_deref()) {
            Ok(k) => k,
            Err(e) => {
                store.close().await;
                return invalid(e);
            }
        };
    for n in &knowledge.notices {
        consentry::stderr::line(format_args!("{n}"));
    }
    let source = consentry::draft::DraftSource {
        command: "consentry map draft".to_string(),
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        from: format!(
            "run {} of {} ({}, started {})",
            args.run,
            record.site,
            spec.site.base_url,
            record.started_at.format("%Y-%m-%d %H:%M UTC")
        ),
        knowledge: None,
    };
    let drafted = consentry::pipeline::draft::draft_from_run(
        &store,
        run_id,
        &spec.site,
        std::sync::Arc::new(knowledge.base),
        source,
    )
    .await;
    store.close().await;
    let drafted = match drafted {
        Ok(Some(d)) => d,
        Ok(None) => return invalid(format!("{db} has no run {}", args.run)),
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };
    for i in &drafted.incomplete {
        consentry::stderr::line(format_args!(
            "note: not observed in run {}: {i} (the draft holds what the other visits saw)",
            args.run
        ));
    }
    let text = drafted.draft.render();
    if let Err(status) = super::output::emit(args.output.as_deref(), &text) {
        return status;
    }
    let p = &drafted.draft.policy;
    consentry::stderr::line(format_args!(
        "drafted {} vendor(s), {} cookie(s) and {} purpose(s) from run {} ({}); every entry is marked draft = true",
        p.vendors.len(),
        p.cookies.len(),
        p.purposes.len(),
        args.run,
        drafted.scenarios.join(", ")
    ));
    ExitStatus::Ok
}
