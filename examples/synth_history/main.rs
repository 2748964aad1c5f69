//! A synthetic year of nightly audit runs, for the drift benchmark (`make bench-drift`,
//! bench/drift.sh).
//!
//! ```sh
//! cargo run --release --example synth_history -- --db /tmp/year.db --sites 50 --days 365 [--seed 1]
//! cargo run --release --example synth_history -- --db postgres://postgres@127.0.0.1:5432/year
//! ```
//!
//! `--db` is what `consentry --db` takes ([`DbLocation`]): a SQLite file, or a PostgreSQL
//! database (`postgres://…`, `make bench-pg` and bench/pg.sh start a throwaway server).
//!
//! Writes, through the library's own store API (`start_run`, `record_declarations`,
//! `record_judged_visit`, `record_findings`, `finish_run`: the real schema and the real
//! write path, one transaction per visit as an audit does), one run per site and night
//! with four scenarios (`no_action`, `accept_all`, `reject_all`, `object_li`; the last ends
//! with `li_objected = true`). Deterministic from `--seed` (xorshift64*, no `rand`); the
//! same arguments give the same rows (the run ids too, on a new file).
//!
//! Per site: ten declared vendors (five consent-based advertisers, three analytics
//! vendors on legitimate interest, two on contract), the declared map recorded with every
//! run; on about 40% of sites one legitimate-interest vendor moves to consent once
//! mid-year (a declaration change, with a new policy digest from that run on). Per visit:
//! each active vendor's activity (unauthorized and objected counts where the scenario's
//! consent state does not allow it), third-party hosts and cookies (12.6 and 14.7 per
//! observed visit on average with seed 1, more on accept_all; one over its declared retention all year, one whose lifetime grows from 395d to 730d at
//! some date), occasional `loaded-by` items, and the findings that follow from all that
//! (codes and fingerprints as the analysis makes them: `consentry::analysis::fingerprint`),
//! driven by episodes that appear, persist, get resolved and regress: a vendor firing
//! before the choice or after a reject, a legitimate-interest vendor ignoring the objection
//! for a few weeks, an undeclared tracker and its cookie, a vendor that stops appearing
//! (`declared-vendor-unobserved`), a flaky low-severity finding. About 2% of visits are not
//! observed (status incomplete with a failure kind, no inventory, `scenario-not-observed`),
//! so drift sees `unverified` steps.
//!
//! Raw observations (requests, cookie writes, the jar, storage writes, page errors) are
//! NOT written, as after `consentry purge --older-than 14d`: only the last `--raw-days`
//! nights (default 14) carry the visit's raw requests (one per third-party host) and its
//! steps (`purge` removes steps since schema 16). Visits, findings, the vendors' sums,
//! inventory and declarations survive a purge and are all written.
//!
//! The generator is in `site.rs` (the sites and their episodes) and `night.rs` (a night's
//! runs, [`night::Synth`]); `tests/history_layout.rs` includes both.

use anyhow::Context;
use chrono::NaiveDate;
use clap::Parser;
use consentry::store::{DbLocation, RunImport, Store};
use night::{Night, Synth};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Writes a synthetic history of nightly runs into a consentry database")]
struct Args {
    /// Database to write, as `consentry --db` takes it: a SQLite file (created) or a
    /// `postgres://` URL (an existing, empty database). It must not hold runs yet.
    #[arg(long, value_parser = parse_db)]
    db: DbLocation,
    /// Number of sites (named site-01, site-02, ...).
    #[arg(long, default_value_t = 50)]
    sites: usize,
    /// Number of nightly runs per site.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The day after the last night (YYYY-MM-DD): runs start at 02:00 UTC on the
    /// `--days` nights before it.
    #[arg(long, default_value = "2026-12-01")]
    end: NaiveDate,
    /// Nights at the end whose visits keep their raw requests (the rest are "purged").
    #[arg(long, default_value_t = 14)]
    raw_days: u32,
    /// Write as a live audit does (one transaction per visit, seven per run) instead of
    /// one `Admin::import_runs` batch per night; for comparing the two.
    #[arg(long)]
    per_visit: bool,
}

/// `--db` as `consentry --db` parses it.
fn parse_db(value: &str) -> Result<DbLocation, String> {
    DbLocation::parse(value.as_ref()).map_err(|e| e.to_string())
}

/// The database as messages name it (a URL without its password).
fn shown(db: &DbLocation) -> String {
    match db {
        DbLocation::Sqlite(p) => p.display().to_string(),
        DbLocation::Postgres(u) => u.shown().to_string(),
    }
}

mod night;
mod site;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let t0 = Instant::now();
    let shown = shown(&args.db);
    let store = Store::open(args.db.clone())
        .await
        .with_context(|| format!("open {shown}"))?;
    anyhow::ensure!(
        store.history().sites().await?.is_empty(),
        "{shown} already holds runs; give a new file or an empty database"
    );
    let end = args.end.and_hms_opt(2, 0, 0).context("end date")?.and_utc();
    let mut synth = Synth::new(args.sites, args.days, args.seed, end, args.raw_days);
    let (mut runs, mut visits, mut findings) = (0u64, 0u64, 0u64);
    for night in 0..args.days {
        let nightly: Vec<Night> = synth.night(night);
        for n in &nightly {
            visits += n.visits.len() as u64;
            findings += n.run_level.len() as u64
                + n.visits
                    .iter()
                    .map(|v| v.findings.len() as u64)
                    .sum::<u64>();
        }
        runs += nightly.len() as u64;
        let imports: Vec<RunImport> = nightly.iter().map(|n| n.import()).collect();
        if args.per_visit {
            for r in &imports {
                let run = store.writer().start_run(&r.start).await?;
                store
                    .writer()
                    .record_declarations(run, r.declarations)
                    .await?;
                for v in &r.visits {
                    store.writer().record_judged_visit(run, v).await?;
                }
                if !r.findings.is_empty() {
                    store.writer().record_findings(run, r.findings).await?;
                }
                store
                    .writer()
                    .finish_run(run, &r.status, r.finished_at)
                    .await?;
            }
        } else {
            store.admin().import_runs(&imports).await?;
        }
        if (night + 1) % 30 == 0 || night + 1 == args.days {
            eprintln!(
                "night {}/{}: {runs} runs, {visits} visits, {findings} findings, {:.1}s",
                night + 1,
                args.days,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    store.close().await;
    let secs = t0.elapsed().as_secs_f64();
    // A SQLite file's size here; a PostgreSQL database's is `pg_database_size`, which
    // bench/drift.sh asks the server with psql (the example runs no SQL of its own).
    let size = match args.db.sqlite_path() {
        Some(p) => format!(
            "; {shown} is {:.1} MiB",
            std::fs::metadata(p)?.len() as f64 / (1024.0 * 1024.0)
        ),
        None => String::new(),
    };
    println!(
        "synth_history: {} sites x {} nights: {runs} runs, {visits} visits, {findings} findings in {secs:.1}s{size}",
        args.sites, args.days,
    );
    Ok(())
}
