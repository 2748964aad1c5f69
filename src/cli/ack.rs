//! `consentry ack FINGERPRINT --reason R --owner O --expires DATE`: acknowledge a
//! finding in the acknowledgements file (appended as text, validated first), and
//! `consentry ack --list`: the file's acknowledgements with their status now.

use clap::Args;
use consentry::ack::append::{append, block, NewAck};
use consentry::ack::load::{default_path, is_fingerprint, load_acks};
use consentry::exit::ExitStatus;
use consentry::store::DbLocation;
use consentry::text::printable;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The finding's fingerprint (`v1-` and 16 hex digits; in every report).
    #[arg(value_name = "FINGERPRINT", required_unless_present = "list")]
    pub fingerprint: Option<String>,
    /// Why the finding is accepted (e.g. "Stripe fraud cookie, accepted in the 2026 Q3 LIA").
    #[arg(long, value_name = "TEXT", required_unless_present = "list")]
    pub reason: Option<String>,
    /// Who accepted it (a person or a team address).
    #[arg(long, value_name = "WHO", required_unless_present = "list")]
    pub owner: Option<String>,
    /// Until when: a date (the end of that day, UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE", required_unless_present = "list")]
    pub expires: Option<String>,
    /// Restrict it to this site [default: the finding's site].
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// The acknowledgements file [default: acks.toml beside the scenario file of the
    /// latest run that has this finding (with --list: of the latest run)].
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Acknowledge a fingerprint the database does not know (needs --file).
    #[arg(long)]
    pub force: bool,
    /// List the file's acknowledgements with their status now (active, expired, not yet in force).
    #[arg(long, conflicts_with_all = ["fingerprint", "reason", "owner", "expires", "site", "force"])]
    pub list: bool,
}

pub async fn run(args: AckArgs) -> ExitStatus {
    let db = match super::db_location(args.db.as_deref()) {
        Ok(l) => l,
        Err(status) => return status,
    };
    if args.list {
        return list(args.file.as_deref(), &db).await;
    }
    match add(&args, &db).await {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}

/// What the database knows of a fingerprint: the scenario file of its latest run, its
/// site, code and subject.
struct Known {
    scenario_file: String,
    site: String,
    code: &'static str,
    subject: String,
}

async fn known(db: &DbLocation, fingerprint: &str) -> Result<Option<Known>, ExitStatus> {
    if !super::db_exists(db) {
        return Ok(None);
    }
    let store = super::open_read_only(db).await?;
    let found = store.history().latest_finding(fingerprint).await;
    store.close().await;
    match found {
        Ok(found) => Ok(found.map(|(run, f)| Known {
            scenario_file: run.scenario_file,
            site: f.site,
            code: f.code.as_str(),
            subject: f.subject,
        })),
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            Err(ExitStatus::Error)
        }
    }
}

async fn add(args: &AckArgs, db: &DbLocation) -> Result<(), ExitStatus> {
    let invalid = |message: String| {
        consentry::stderr::line(format_args!("error: {}", printable(&message)));
        ExitStatus::InvalidInput
    };
    let field = |v: &Option<String>| v.clone().unwrap_or_default();
    let fingerprint = field(&args.fingerprint);
    if !is_fingerprint(&fingerprint) {
        return Err(invalid(format!(
            "invalid fingerprint {fingerprint:?}: a fingerprint is `v1-` and 16 lowercase hex digits (the `fingerprint` of a finding in the JSON or Markdown report)"
        )));
    }
    let known = known(db, &fingerprint).await?;
    let known = match (known, args.force) {
        (Some(k), _) => Some(k),
        (None, true) => None,
        (None, false) => {
            return Err(invalid(format!(
                "no run in {} has a finding {fingerprint}: check the fingerprint (consentry report latest --format json), give the database with --db, or pass --force (with --file) to acknowledge it anyway",
                db
            )))
        }
    };
    if let (Some(k), Some(site)) = (&known, &args.site) {
        if &k.site != site {
            return Err(invalid(format!(
                "finding {fingerprint} is of site {:?}, not {site:?}: an acknowledgement restricted to {site:?} would never match it",
                k.site
            )));
        }
    }
    let file = match (&args.file, &known) {
        (Some(f), _) => f.clone(),
        (None, Some(k)) => default_path(Path::new(&k.scenario_file)),
        (None, None) => {
            return Err(invalid(
                "--force needs --file: without a run of this finding, there is no scenario file to put acks.toml beside".into(),
            ))
        }
    };
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let (reason, owner, expires) = (
        field(&args.reason),
        field(&args.owner),
        field(&args.expires),
    );
    let site = args
        .site
        .clone()
        .or_else(|| known.as_ref().map(|k| k.site.clone()));
    let entry = NewAck {
        fingerprint: &fingerprint,
        site: site.as_deref(),
        code: known.as_ref().map(|k| k.code),
        subject: known.as_ref().map(|k| k.subject.as_str()),
        reason: &reason,
        owner: &owner,
        acknowledged: &today,
        expires: &expires,
    };
    match append(&file, &block(&entry)) {
        Ok(acks) => {
            let at = acks
                .entries
                .last()
                .map(|a| a.location.clone())
                .unwrap_or_else(|| file.display().to_string());
            let what = match &known {
                Some(k) => format!(" ({} {}, site {})", k.code, k.subject, k.site),
                None => String::new(),
            };
            crate::cli::output::line_to_stdout(&printable(&format!(
                "acknowledged {fingerprint}{what} until {expires}, by {owner}: {at}"
            )))
        }
        Err(diags) => {
            consentry::stderr::text(format_args!("{diags}"));
            consentry::stderr::line(format_args!(
                "{}: the new acknowledgement was not added ({} error(s)); the file is unchanged",
                printable(&file.display().to_string()),
                diags.errors()
            ));
            Err(ExitStatus::InvalidInput)
        }
    }
}

async fn list(file: Option<&Path>, db: &DbLocation) -> ExitStatus {
    let file = match file {
        Some(f) => f.to_path_buf(),
        None => {
            let latest = if super::db_exists(db) {
                let store = match super::open_read_only(db).await {
                    Ok(s) => s,
                    Err(status) => return status,
                };
                let runs = store.history().runs(None, 1).await;
                store.close().await;
                match runs {
                    Ok(runs) => runs.into_iter().next(),
                    Err(e) => {
                        consentry::stderr::line(format_args!("error: {e}"));
                        return ExitStatus::Error;
                    }
                }
            } else {
                None
            };
            match latest {
                Some(run) => default_path(Path::new(&run.scenario_file)),
                None => {
                    consentry::stderr::line(format_args!(
                        "error: no runs in {}: give the acknowledgements file with --file",
                        db
                    ));
                    return ExitStatus::InvalidInput;
                }
            }
        }
    };
    let acks = match load_acks(&file) {
        Ok(a) => a,
        Err(diags) => {
            consentry::stderr::text(format_args!("{diags}"));
            return ExitStatus::InvalidInput;
        }
    };
    match crate::cli::output::to_stdout(&list_text(&acks, chrono::Utc::now())) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}

/// The `--list` table of `acks` as they stand at `now`.
pub fn list_text(acks: &consentry::ack::Acks, now: chrono::DateTime<chrono::Utc>) -> String {
    use consentry::ack::show_time;
    let file = acks
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if acks.is_empty() {
        return format!("{}: no acknowledgements\n", printable(&file));
    }
    let cell = |s: &str| consentry::text::printable_clipped(s, 60);
    let mut b = tabled::builder::Builder::default();
    b.push_record([
        "fingerprint",
        "site",
        "status",
        "acknowledged",
        "expires",
        "owner",
        "reason",
        "at",
    ]);
    for a in &acks.entries {
        b.push_record([
            a.fingerprint.clone(),
            a.site
                .as_deref()
                .map(cell)
                .unwrap_or_else(|| "(any)".into()),
            a.at(now).as_str().to_string(),
            a.acknowledged.map(show_time).unwrap_or_else(|| "-".into()),
            show_time(a.expires),
            cell(&a.owner),
            cell(&a.reason),
            cell(&a.location),
        ]);
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::psql());
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
