//! `consentry init URL`: a scenario file and a policy for a site, in `--dir` (default:
//! here). By default it visits the site (no action, then accept all through autoconsent
//! or the banner heuristic) and drafts the policy from what it saw
//! ([`consentry::pipeline::draft`], docs/scenarios.md#drafting-a-map-from-a-visit): every
//! entry marked `draft = true`. `--no-visit` writes the commented starter files
//! (`consentry::schema::starter`) instead. It never overwrites a file unless `--force`;
//! it prints the files written on stdout.

use super::progress::Progress;
use clap::Args;
use consentry::exit::ExitStatus;
use consentry::schema::starter::{self, Starter};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The site's base URL (`https://www.my-shop.example/`).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The site's name and the files' stem (default: its registrable domain, `my-shop-example`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Where to write `NAME.toml` and `NAME.policy.toml` (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// Do not visit the site: write the commented starter files (three example purposes,
    /// the site as its only vendor) instead of a draft of what the site does.
    #[arg(long)]
    pub no_visit: bool,
    /// A Chromium flag for the visit, also written to the scenario file's `[browser] args`
    /// (repeatable): `--browser-arg=--host-resolver-rules=MAP * 127.0.0.1:8443`.
    #[arg(long = "browser-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub browser_args: Vec<String>,
    #[command(flatten)]
    pub place: super::browser::BrowserPlace,
    /// Never draw a progress bar (one line per scenario on stderr instead).
    #[arg(long)]
    pub no_progress: bool,
}

/// The site's names and the two files, checked.
struct Target {
    url: url::Url,
    name: String,
    domain: String,
    scenario_path: PathBuf,
    policy_file: String,
    policy_path: PathBuf,
    schema_dir: Option<PathBuf>,
    date: String,
}

fn fail(msg: String) -> ExitStatus {
    consentry::stderr::line(format_args!("error: {msg}"));
    ExitStatus::InvalidInput
}

fn target(args: &InitArgs) -> Result<Target, ExitStatus> {
    let url = match url::Url::parse(args.url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        Ok(_) | Err(_) => {
            return Err(fail(format!(
                "{:?} is not an absolute http:// or https:// URL (as in \"https://www.my-shop.example/\")",
                args.url
            )))
        }
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let domain = consentry::net::registrable_domain(&host).unwrap_or_else(|| host.clone());
    let name = match &args.name {
        Some(n) => n.trim().to_string(),
        None => domain.replace('.', "-"),
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !name_ok {
        return Err(fail(format!(
            "--name {name:?}: use letters, digits, `-`, `_` and `.` (it names the files)"
        )));
    }
    let scenario_path = args.dir.join(format!("{name}.toml"));
    let policy_file = format!("{name}.policy.toml");
    let policy_path = args.dir.join(&policy_file);
    if !args.force {
        for p in [&scenario_path, &policy_path] {
            if std::fs::symlink_metadata(p).is_ok() {
                return Err(fail(format!(
                    "{} exists; consentry init never overwrites a file (--force to replace it, --name or --dir for another)",
                    p.display()
                )));
            }
        }
    }
    let schema_dir = consentry::data::Lookup::from_process(args.place.data_dir.as_deref())
        .locate()
        .map(|c| c.dir.join("schemas"))
        .filter(|d| d.join("scenario.schema.json").is_file())
        .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
    Ok(Target {
        url,
        name,
        domain,
        scenario_path,
        policy_file,
        policy_path,
        schema_dir,
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
    })
}

impl Target {
    fn starter<'a>(
        &'a self,
        browser_args: &'a [String],
        drafted: &'a [String],
        run: Option<(&'a [String], &'a [String])>,
    ) -> Starter<'a> {
        Starter {
            name: &self.name,
            base_url: self.url.as_str(),
            domain: &self.domain,
            policy_file: &self.policy_file,
            schema_dir: self.schema_dir.as_deref(),
            date: &self.date,
            browser_args,
            drafted,
            run,
        }
    }

    /// Write both files and list them on stdout.
    fn write(&self, dir: &Path, scenario: String, policy: String) -> ExitStatus {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return fail(format!("cannot create {}: {e}", dir.display()));
        }
        for (path, text) in [(&self.scenario_path, scenario), (&self.policy_path, policy)] {
            if let Err(e) = std::fs::write(path, text) {
                consentry::stderr::line(format_args!(
                    "error: cannot write {}: {e}",
                    path.display()
                ));
                return ExitStatus::Error;
            }
        }
        let listing = format!(
            "{}\n{}",
            self.scenario_path.display(),
            self.policy_path.display()
        );
        match crate::cli::output::line_to_stdout(&listing) {
            Ok(()) => ExitStatus::Ok,
            Err(status) => status,
        }
    }
}

pub async fn run(args: InitArgs) -> ExitStatus {
    let t = match target(&args) {
        Ok(t) => t,
        Err(status) => return status,
    };
    if args.no_visit {
        let st = t.starter(&args.browser_args, &[], None);
        let status = t.write(&args.dir, starter::scenario(&st), starter::policy(&st));
        if status == ExitStatus::Ok {
            consentry::stderr::line(format_args!(
                "next: complete the policy with the privacy team, then `consentry validate {}` and `consentry audit {}` (docs/scenarios.md)",
                t.scenario_path.display(),
                t.scenario_path.display()
            ));
        }
        return status;
    }
    let work = match tempfile::Builder::new().prefix("consentry-init-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            consentry::stderr::line(format_args!(
                "error: cannot create a temporary directory: {e}"
            ));
            return ExitStatus::Error;
        }
    };
    visit_and_draft(&args, &t, work.path()).await
}

/// Visit the site from a seed scenario file in `work` (the starter files, `no_action` and
/// `accept_all`), into a database there, and draft the files from the stored run.
async fn visit_and_draft(args: &InitArgs, t: &Target, work: &Path) -> ExitStatus {
    let seed = Starter {
        policy_file: "seed.policy.toml",
        schema_dir: None,
        ..t.starter(&args.browser_args, &[], None)
    };
    let seed_path = work.join("seed.toml");
    for (path, text) in [
        (seed_path.clone(), starter::scenario(&seed)),
        (work.join("seed.policy.toml"), starter::policy(&seed)),
    ] {
        if let Err(e) = std::fs::write(&path, text) {
            consentry::stderr::line(format_args!("error: cannot write {}: {e}", path.display()));
            return ExitStatus::Error;
        }
    }
    let env = |name: &str| std::env::var(name).ok();
    let spec = match consentry::scenario::load::load_audit_file_with_env(&seed_path, &env) {
        Ok(spec) => spec,
        Err(diags) => {
            consentry::stderr::text(format_args!("{diags}"));
            return fail(format!(
                "{}: the URL or a --browser-arg cannot be written into a scenario file",
                t.url
            ));
        }
    };
    let engine = consentry::engine::EngineConfig {
        jobs: 0,
        webdriver: args.place.webdriver.clone(),
        chromedriver: args.place.chromedriver.clone(),
        chromium: args.place.chromium.clone(),
        autoconsent: args.place.autoconsent.clone(),
        data_dir: args.place.data_dir.clone(),
        vendor_db: args.place.vendor_db.clone(),
        fresh_browser: false,
        no_screenshots: true,
    };
    let knowledge = match engine.load_knowledge(&seed_path) {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    for n in &knowledge.notices {
        consentry::stderr::line(format_args!("{n}"));
    }
    let db = match super::db_location(Some(&work.join("visit.db"))) {
        Ok(db) => db,
        Err(status) => return status,
    };
    let scenarios = vec!["no_action".to_string(), "accept_all".to_string()];
    let cfg = consentry::pipeline::AuditConfig {
        scenario_file: seed_path.display().to_string(),
        scenarios: scenarios.clone(),
        fail_on: consentry::outcome::FailOn {
            threshold: None,
            new_only: false,
        },
        db: db.clone(),
        engine,
        acks: Default::default(),
        reports_dir: work.join("reports"),
        repeat: 1,
    };
    consentry::stderr::line(format_args!(
        "visiting {}: no_action, then accept_all (autoconsent, else the banner heuristic)",
        t.url
    ));
    let (cancel, listener) = consentry::engine::cancel_on_signals();
    let progress = Progress::new(args.no_progress, false);
    let result = consentry::pipeline::audit(&spec, &cfg, cancel, &progress).await;
    listener.abort();
    let run = match result {
        Ok(run) => run,
        Err(e) => return super::output::audit_failed(&e, |m| m.to_string()),
    };
    super::output::warn_leftover_profiles(&run.leftover_profiles);
    let report = &run.report;
    let saw_nothing = report.visits.iter().all(|v| v.requests == 0);
    let Some(run_id) = report.run_id.filter(|_| !saw_nothing) else {
        let why: Vec<String> = report
            .visits
            .iter()
            .filter_map(|v| {
                v.status
                    .failure()
                    .map(|f| format!("{}: {}", v.scenario, f.reason))
            })
            .collect();
        consentry::stderr::line(format_args!(
            "error: {} could not be visited ({}); nothing was written. `--no-visit` writes the starter files without a visit",
            t.url,
            if why.is_empty() { "no request was recorded".to_string() } else { why.join("; ") }
        ));
        return ExitStatus::Incomplete;
    };
    let store = match super::open_read_only(&db).await {
        Ok(s) => s,
        Err(status) => return status,
    };
    let source = consentry::draft::DraftSource {
        command: "consentry init".to_string(),
        date: t.date.clone(),
        from: format!("a visit of {} ({})", t.url, scenarios.join(", ")),
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
        Ok(None) | Err(_) => {
            consentry::stderr::line(format_args!(
                "error: the visit's run could not be read back from {db}"
            ));
            return ExitStatus::Error;
        }
    };
    let mut lines = vec![
        format!(
            "DRAFT from a visit of {} on {} ({}): review it, then remove this block.",
            t.url,
            t.date,
            drafted.scenarios.join(", ")
        ),
        match drafted.cmps.as_slice() {
            [] => "No CMP autoconsent knows was detected: the accept went through the banner heuristic (docs/heuristic.md), or found no banner. Selectors in [cmp] make it exact.".to_string(),
            cmps => format!("CMP detected by autoconsent: {}.", cmps.join(", ")),
        },
    ];
    for i in &drafted.incomplete {
        lines.push(format!(
            "Not observed: {i}. The policy holds what the other visits saw."
        ));
    }
    lines.push(String::new());
    // Objecting and withdrawing go through a CMP profile (or selectors): without a CMP
    // autoconsent knows, those two built-ins could not be performed, so the draft leaves
    // them out and says how to bring them back.
    let (run_ids, run_why): (Vec<String>, Vec<String>) = if drafted.cmps.is_empty() {
        (
            ["no_action", "accept_all", "reject_all", "reject_then_reload"]
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
            vec![
                "No CMP autoconsent knows was detected, so object_li and accept_then_withdraw (which go".to_string(),
                "through a CMP profile) are left out: add [cmp] object_li / withdraw selectors or a profile".to_string(),
                "(docs/scenarios.md#cmp-profiles) and put them back.".to_string(),
            ],
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let run = (!run_ids.is_empty()).then_some((run_ids.as_slice(), run_why.as_slice()));
    let st = t.starter(&args.browser_args, &lines, run);
    let mut policy = String::new();
    starter::directive(&mut policy, &st, "policy");
    policy.push_str(&drafted.draft.render());
    let status = t.write(&args.dir, starter::scenario(&st), policy);
    if status != ExitStatus::Ok {
        return status;
    }
    let p = &drafted.draft.policy;
    consentry::stderr::line(format_args!(
        "drafted {} vendor(s), {} cookie(s) and {} purpose(s) from {} third-party domain(s); every entry is marked draft = true (draft-unconfirmed until a person confirms it). Next: review {} with the privacy team, then `consentry audit {}`",
        p.vendors.len(),
        p.cookies.len(),
        p.purposes.len(),
        drafted.draft.contacted.len(),
        t.policy_path.display(),
        t.scenario_path.display()
    ));
    if drafted.incomplete.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Incomplete
    }
}
