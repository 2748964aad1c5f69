//! Thin binary: parse the command line, call the library, turn the outcome into an exit code.

mod cli;

use clap::Parser;
use cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Cli::parse();
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
