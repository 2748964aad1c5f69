//! `consentry demo-site`: serve the bundled demo shop, a fixture site or the agency
//! fixture until interrupted.

use clap::Args;
use consentry::demo::{agency, DemoServer, FileSite, Variant};
use consentry::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DemoSiteArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8443)]
    pub port: u16,
    /// Write the port here once listening (for scripts using --port 0).
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// Which behaviour to serve (docs/demo.md, "Variants"). Audit one, then the other, into one
    /// database, and `consentry drift` shows a known change.
    #[arg(long, value_parser = super::values::variant(), default_value_t = Variant::Default, env = "CONSENTRY_DEMO_VARIANT")]
    pub variant: Variant,
    /// Serve the fixture site `fixtures/sites/NAME` (files, docs/fixtures.md) instead of the
    /// demo shop; its `/_fixtures/` assets come from `fixtures/build` (`make fixtures`).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["variant", "agency"])]
    pub fixture: Option<String>,
    /// Serve the agency fixture in DIR (docs/fixtures.md, "agency"): an agency's client
    /// sites, their scenario files and fleet file. An empty or missing DIR is generated
    /// first (from --seed, with --sites clients); a DIR holding a generation is served as
    /// it is.
    #[arg(long, value_name = "DIR", conflicts_with = "variant")]
    pub agency: Option<PathBuf>,
    /// The agency fixture's seed (with --agency, when DIR is generated).
    #[arg(long, default_value_t = agency::DEFAULT_SEED, requires = "agency")]
    pub seed: u64,
    /// How many client sites the agency fixture has (with --agency, when DIR is generated).
    #[arg(long, default_value_t = agency::DEFAULT_SITES, requires = "agency")]
    pub sites: usize,
    /// The project directory holding `fixtures/` (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
    /// On exit, write every request the server received here, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

pub async fn run(args: DemoSiteArgs) -> ExitStatus {
    let started = match (&args.fixture, &args.agency) {
        (_, Some(dir)) => match agency_site(&args, dir) {
            Ok(site) => DemoServer::start_files(args.port, site).await,
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e:#}"));
                return ExitStatus::Error;
            }
        },
        (Some(name), None) => {
            let site = FileSite::named(&args.project, name);
            if !site.root.is_dir() {
                consentry::stderr::line(format_args!(
                    "error: no fixture site {}",
                    site.root.display()
                ));
                return ExitStatus::Error;
            }
            DemoServer::start_files(args.port, site).await
        }
        (None, None) => DemoServer::start_variant(args.port, args.variant).await,
    };
    let server = match started {
        Ok(s) => s,
        Err(e) => {
            consentry::stderr::line(format_args!(
                "error: cannot start the demo site on 127.0.0.1:{}: {e:#}",
                args.port
            ));
            return ExitStatus::Error;
        }
    };
    let port = server.port();
    consentry::stderr::line(format_args!(
        "demo site listening on https://127.0.0.1:{port} (and http on the same port)"
    ));
    match (&args.fixture, &args.agency) {
        (_, Some(dir)) => consentry::stderr::line(format_args!(
            "serving the agency fixture {} (docs/fixtures.md): audit {}",
            dir.display(),
            dir.join("fleet.toml").display()
        )),
        (Some(name), None) => consentry::stderr::line(format_args!(
            "serving the fixture site {name} (docs/fixtures.md)"
        )),
        (None, None) => consentry::stderr::line(format_args!(
            "serving the {} variant (docs/demo.md)",
            args.variant
        )),
    }
    consentry::stderr::line(format_args!(
        "browsers reach it with --host-resolver-rules=\"MAP * 127.0.0.1:{port}, EXCLUDE localhost\""
    ));
    if let Some(path) = &args.ready_file {
        if let Err(e) = std::fs::write(path, port.to_string()) {
            consentry::stderr::line(format_args!("error: cannot write {}: {e}", path.display()));
            server.shutdown().await;
            return ExitStatus::Error;
        }
    }
    wait_for_stop().await;
    let mut status = ExitStatus::Ok;
    if let Some(path) = &args.log {
        let lines: Vec<String> = server
            .log()
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .collect();
        if let Err(e) = std::fs::write(path, lines.join("\n") + "\n") {
            consentry::stderr::line(format_args!("error: cannot write {}: {e}", path.display()));
            status = ExitStatus::Error;
        }
    }
    server.shutdown().await;
    status
}

/// The agency fixture in `dir`: generated first when `dir` is empty or missing, else
/// the generation found there (its manifest must read).
fn agency_site(args: &DemoSiteArgs, dir: &std::path::Path) -> anyhow::Result<FileSite> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => anyhow::bail!("cannot read {}: {e}", dir.display()),
    };
    if empty {
        let m = agency::generate(args.seed, args.sites, dir)?;
        consentry::stderr::line(format_args!(
            "generated the agency fixture into {} (seed {}, {} sites)",
            dir.display(),
            m.seed,
            m.sites.len()
        ));
    } else {
        let m = agency::load(dir).map_err(|e| {
            e.context(format!(
                "{} is neither empty nor an agency fixture generation",
                dir.display()
            ))
        })?;
        consentry::stderr::line(format_args!(
            "found the agency fixture in {} (seed {}, {} sites)",
            dir.display(),
            m.seed,
            m.sites.len()
        ));
    }
    Ok(FileSite::agency(&args.project, dir))
}

/// Ctrl-C or SIGTERM (what `kill` and make send).
async fn wait_for_stop() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}
