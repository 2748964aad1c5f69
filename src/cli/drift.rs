//! `consentry drift`: what happened to each finding of a site across its runs.

use chrono::{DateTime, Utc};
use clap::Args;
use consentry::exit::ExitStatus;
use consentry::report::reporter;
use consentry::report::Format;
use futures_util::StreamExt;
use std::path::PathBuf;

/// The window when `--since` is not given.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The site (its `[site] name`); repeat for several. May be left out when the
    /// database holds one site.
    #[arg(long, value_name = "NAME")]
    pub site: Vec<String>,
    /// Every site in the database (one pack per site).
    #[arg(long, conflicts_with = "site")]
    pub all: bool,
    /// Start of the window: `YYYY-MM-DD` or RFC 3339 [default: 90 days before --until].
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub since: Option<DateTime<Utc>>,
    /// End of the window (exclusive) [default: now].
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub until: Option<DateTime<Utc>>,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Output format, on stdout unless --output or --output-dir.
    #[arg(long, value_parser = super::values::format(), default_value_t = Format::Table)]
    pub format: Format,
    /// List every finding's lifecycle as its own row instead of grouping the findings
    /// that share a code and subject into one problem (table, Markdown, HTML; the JSON
    /// pack always lists the lifecycles).
    #[arg(long)]
    pub ungrouped: bool,
    /// Acknowledgements file [default: acks.toml beside the scenario file of the site's
    /// latest run, when it exists].
    #[arg(long, value_name = "PATH")]
    pub acks: Option<PathBuf>,
    /// Write the pack to this file instead of stdout (`-`: stdout). One site only.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write each site's pack to DIR/<site>/drift-<since>_<until>.<ext> (html, md, json,
    /// txt, pdf) instead of stdout; DIR left out: the reports directory
    /// ($CONSENTRY_REPORTS_DIR, else ./reports). Without it, several packs go to stdout
    /// one after another (with json, one document per site).
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with = "output")]
    pub output_dir: Option<Option<PathBuf>>,
    /// An intermittent finding (seen in fewer than all repetitions of a run, `audit
    /// --repeat`) is resolved only after K consecutive runs that checked it without it;
    /// steady findings resolve at the first (docs/drift.md).
    #[arg(long, value_name = "K", default_value_t = consentry::drift::lifecycle::DEFAULT_RESOLVE_AFTER,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub resolve_after: u32,
    /// Compare the runs of this vantage only (`[vantage] label`; `default` for runs
    /// without one) [default: the vantage of the site's latest run]. Runs of two
    /// vantages are never compared with each other.
    #[arg(long, value_name = "LABEL")]
    pub vantage: Option<String>,
    /// Also set the latest run of vantage OTHER in the window beside the latest run of
    /// the compared vantage: their vendor × scenario matrices side by side.
    #[arg(long, value_name = "OTHER")]
    pub vs_vantage: Option<String>,
    #[command(flatten)]
    pub print: super::pdf::PrintArgs,
}

/// A date (its start, UTC) or an RFC 3339 time; the year in four unsigned digits.
fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    consentry::ack::load::parse_time(s, consentry::ack::load::DayEdge::Start).ok_or_else(|| {
        format!(
            "expected a date YYYY-MM-DD (a four-digit year) or an RFC 3339 time, got {}",
            consentry::text::printable(&format!("{s:?}"))
        )
    })
}

pub async fn run(args: DriftArgs) -> ExitStatus {
    let (path, store) = match super::read_only_db(args.db.as_deref()).await {
        Ok(opened) => opened,
        Err(status) => return status,
    };
    let sites = if args.all {
        match store.history().sites().await {
            Ok(s) => s,
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e}"));
                return ExitStatus::Error;
            }
        }
    } else if !args.site.is_empty() {
        args.site.clone()
    } else {
        match store.history().sites().await {
            Ok(sites) if sites.len() == 1 => sites,
            Ok(sites) => {
                consentry::stderr::line(format_args!(
                    "error: {} holds {} sites; name one with --site, or use --all ({})",
                    path,
                    sites.len(),
                    consentry::text::printable(&sites.join(", "))
                ));
                return ExitStatus::InvalidInput;
            }
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e}"));
                return ExitStatus::Error;
            }
        }
    };
    let to = super::output::Destination::new(args.output.as_deref(), args.output_dir.as_ref());
    if sites.len() > 1 && to.names_one_file() {
        consentry::stderr::line(format_args!(
            "error: --output names one file, but {} sites were asked for; use --output-dir (one file per site) or leave it out (stdout, one pack after another)",
            sites.len()
        ));
        return ExitStatus::InvalidInput;
    }
    if args.format.is_printed() && args.output_dir.is_none() {
        // Several PDFs one after another on one stream are no document.
        if sites.len() > 1 {
            consentry::stderr::line(format_args!(
                "error: --format pdf: {} sites were asked for; use --output-dir (one PDF per site)",
                sites.len()
            ));
            return ExitStatus::InvalidInput;
        }
        if let Err(status) = super::pdf::refuse_terminal(args.output.as_deref()) {
            return status;
        }
    }
    let until = args.until.unwrap_or_else(Utc::now);
    let since = args
        .since
        .unwrap_or(until - chrono::Duration::days(DEFAULT_WINDOW_DAYS));
    let mut acks = Vec::with_capacity(sites.len());
    for site in &sites {
        match site_acks(&store, site, args.acks.as_deref()).await {
            Ok(a) => acks.push(a),
            Err(status) => {
                store.close().await;
                return status;
            }
        }
    }
    // Sites are read concurrently (each query runs on its own pooled connection's
    // worker thread), and rendered and written in the order asked for.
    // Each site is its own task, so decoding rows and building packs use every core.
    let resolve_after = args.resolve_after;
    let vantages = std::sync::Arc::new((args.vantage.clone(), args.vs_vantage.clone()));
    let mut packs = std::pin::pin!(futures_util::stream::iter(sites.iter().cloned().zip(acks))
        .map(|(site, acks)| {
            let store = store.clone();
            let vantages = vantages.clone();
            tokio::spawn(async move {
                pack(&store, &site, since, until, &acks, resolve_after, &vantages).await
            })
        })
        .buffered(consentry::store::MAX_CONNECTIONS as usize));
    let mut status = ExitStatus::Ok;
    let mut printer = args
        .format
        .is_printed()
        .then(|| super::pdf::PdfPrinter::new(args.print.browser()));
    let mut done = sites.iter();
    while let Some(result) = packs.next().await {
        let Some(site) = done.next() else { break };
        let report = match result {
            Ok(Ok(r)) => r,
            Err(e) => {
                consentry::stderr::line(format_args!(
                    "error: the pack of {} failed: {e}",
                    consentry::text::printable(site)
                ));
                status = ExitStatus::Error;
                continue;
            }
            Ok(Err(e)) => {
                consentry::stderr::line(format_args!("error: {e}"));
                status = ExitStatus::Error;
                continue;
            }
        };
        if report.runs.is_empty() && !args.all {
            consentry::stderr::line(format_args!(
                "warning: no runs of site {} in {}; nothing changed is not the same as nothing observed",
                consentry::text::printable(site),
                path
            ));
        }
        let text = reporter(args.format).render_drift_with(
            &report,
            consentry::report::Grouping::from_flag(args.ungrouped),
        );
        let target = crate::cli::output::drift_path(to, args.format, site, since, until);
        let written = match printer.as_mut() {
            Some(p) => p.emit(target.as_deref(), &text).await,
            None => super::output::emit(target.as_deref(), &text),
        };
        if let Err(s) = written {
            status = s;
            if target
                .as_deref()
                .is_none_or(|p| p == std::path::Path::new("-"))
            {
                // Standard output is gone (say `| head`): the next packs cannot go there
                // either, and one error says so.
                break;
            }
        }
    }
    if let Some(p) = printer {
        p.close().await;
    }
    store.close().await;
    status
}

/// The pack of one site: the window's runs and the last complete run before it (the
/// baseline), through the pure builder.
async fn pack(
    store: &consentry::store::Store,
    site: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    acks: &[consentry::drift::pack::AckInput],
    resolve_after: u32,
    vantages: &(Option<String>, Option<String>),
) -> Result<consentry::drift::DriftReport, consentry::store::StoreError> {
    let history = store.history();
    // The vantage asked for, else the latest run's (`default` for a site with none).
    let vantage = match &vantages.0 {
        Some(v) => v.clone(),
        None => history
            .site_vantages(site)
            .await?
            .into_iter()
            .next()
            .map(|(label, _)| label)
            .unwrap_or_else(|| consentry::model::vantage::DEFAULT_LABEL.to_string()),
    };
    let from = history.vantage_context_start(site, &vantage, since).await?;
    let runs = history.vantage_history(site, &vantage, from, until).await?;
    let other = match &vantages.1 {
        Some(o) => Some((
            o.as_str(),
            history.vantage_history(site, o, since, until).await?,
        )),
        None => None,
    };
    Ok(consentry::drift::pack::build(
        &consentry::drift::pack::PackInput {
            site,
            since,
            until,
            history: &runs,
            acks,
            resolve_after,
            vantage: &vantage,
            versus: other.as_ref().map(|(o, h)| (*o, h.as_slice())),
        },
    ))
}

/// The acknowledgements that apply to `site`: `explicit`, else the `acks.toml` beside
/// the scenario file its latest run used (when it exists). An invalid file is exit 2,
/// with every diagnostic.
async fn site_acks(
    store: &consentry::store::Store,
    site: &str,
    explicit: Option<&std::path::Path>,
) -> Result<Vec<consentry::drift::pack::AckInput>, ExitStatus> {
    let scenario_file = match store.history().runs(Some(site), 1).await {
        Ok(runs) => runs.first().map(|r| PathBuf::from(&r.scenario_file)),
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return Err(ExitStatus::Error);
        }
    };
    let loaded = match (explicit, scenario_file) {
        (Some(p), _) => consentry::ack::load::load_acks(p),
        (None, Some(f)) => consentry::ack::load::load_for(&f, None),
        (None, None) => Ok(consentry::ack::Acks::default()),
    };
    match loaded {
        Ok(acks) => Ok(acks
            .entries
            .iter()
            .filter(|a| a.covers_site(site))
            .map(|a| consentry::drift::pack::AckInput {
                fingerprint: a.fingerprint.clone(),
                site: a.site.clone(),
                owner: a.owner.clone(),
                reason: a.reason.clone(),
                acknowledged: a.acknowledged,
                expires: a.expires,
                location: Some(a.location.clone()),
            })
            .collect()),
        Err(diags) => {
            consentry::stderr::text(format_args!("{diags}"));
            consentry::stderr::line(format_args!(
                "{} error(s) in the acknowledgements; no drift pack was written",
                diags.errors()
            ));
            Err(ExitStatus::InvalidInput)
        }
    }
}
