//! Thin binary: parse the command line, call the library, turn the outcome into an exit code.

mod cli;

use clap::{CommandFactory, FromArgMatches};
use cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `--version` names the data this consentry would run with (autoconsent as found by
    // the audit's lookup, the bundled CMP profiles; docs/packaging.md).
    let version: &'static str = Box::leak(cli::long_version().into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let args = match Cli::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            consentry::stderr::line(format_args!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(consentry::exit::ExitStatus::Error.code());
        }
    };
    let status = runtime.block_on(cli::run(args));
    ExitCode::from(status.code())
}
