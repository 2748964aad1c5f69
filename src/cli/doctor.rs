//! `consentry doctor`: print every check of [`consentry::doctor`], each problem with the
//! command that fixes it; exit 0 when an audit can run, 4 when not (docs/exit-codes.md).

use clap::Args;
use consentry::doctor::{Check, Inputs, Status};
use consentry::exit::ExitStatus;
use consentry::store::default_db_path;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The database an audit would use: a SQLite file or postgres://… [default:
    /// $CONSENTRY_DB, else ./consentry.db].
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Where the browser, chromedriver and the data are (as `audit` is told; with
    /// --webdriver, that server is checked instead of the local Chromium and chromedriver).
    #[command(flatten)]
    pub place: super::browser::BrowserPlace,
}

pub async fn run(args: DoctorArgs) -> ExitStatus {
    let db =
        consentry::store::DbLocation::from_arg_or_env(args.db.as_deref().map(|p| p.as_os_str()))
            .map_err(|e| e.to_string());
    let reports_dir = match &db {
        Ok(l) => super::output::evidence_dir(l),
        Err(_) => super::output::evidence_dir(&default_db_path().into()),
    };
    let place = args.place;
    let inputs = Inputs {
        chromium: place.chromium,
        chromedriver: place.chromedriver,
        webdriver: place.webdriver,
        autoconsent: place.autoconsent,
        data_dir: place.data_dir,
        reports_dir,
        db,
    };
    let checks = consentry::doctor::run(&inputs).await;
    let can_run = consentry::doctor::audit_can_run(&checks);
    let problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    let mut text: String = checks.iter().map(render).collect();
    text.push_str(&if can_run {
        "\nan audit can run\n".to_owned()
    } else {
        format!("\n{problems} problem(s): an audit cannot run until they are fixed\n")
    });
    if let Err(status) = super::output::to_stdout(&text) {
        return status;
    }
    if can_run {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    }
}

fn render(c: &Check) -> String {
    let tag = match c.status {
        Status::Ok => "ok",
        Status::Note => "note",
        Status::Problem => "PROBLEM",
    };
    let printable = consentry::text::printable;
    let mut s = format!("{tag:<8} {:<13} {}\n", c.name, printable(&c.detail));
    if let Some(fix) = &c.fix {
        s.push_str(&format!("{:<8} {:<13} fix: {}\n", "", "", printable(fix)));
    }
    s
}
