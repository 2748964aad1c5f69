//! `--format pdf`: the HTML layout of a report, printed by Chromium (docs/reports.md, "PDF").
//! The HTML goes to a hidden temporary file beside the PDF (so the run's screenshots,
//! referenced relative to the report file, are found), is printed, and is removed; the
//! PDF then goes where any report goes ([`super::output`]: a file written whole, or
//! standard output when that is not a terminal).

use super::output::{to_stdout_bytes, write_report_bytes};
use clap::Args;
use consentry::browser::print::{PrintBrowser, Printer};
use consentry::exit::ExitStatus;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where the browser that prints `--format pdf` comes from (`report`, `drift`).
#[derive(Debug, Args, Clone, Default)]
pub struct PrintArgs {
    /// chromedriver executable for --format pdf [default: from PATH, then
    /// /usr/bin/chromedriver].
    #[arg(long, value_name = "PATH", env = "CONSENTRY_CHROMEDRIVER")]
    pub chromedriver: Option<PathBuf>,
    /// Chromium executable for --format pdf [default: chromium on PATH; for Debian's
    /// /usr/bin/chromium wrapper, the real /usr/lib/chromium/chromium behind it].
    #[arg(long, value_name = "PATH", env = "CONSENTRY_CHROMIUM")]
    pub chromium: Option<PathBuf>,
}

impl PrintArgs {
    pub fn browser(&self) -> PrintBrowser {
        PrintBrowser {
            chromedriver: self.chromedriver.clone(),
            chromium: self.chromium.clone(),
        }
    }
}

/// Refuses a PDF bound for a terminal before any work is done (exit 2).
pub fn refuse_terminal(output: Option<&Path>) -> Result<(), ExitStatus> {
    let to_stdout = output.is_none_or(|p| p == Path::new("-"));
    if to_stdout && std::io::stdout().is_terminal() {
        consentry::stderr::line(format_args!(
            "error: --format pdf writes binary data: give --output FILE (or --output-dir), or pipe it"
        ));
        return Err(ExitStatus::InvalidInput);
    }
    Ok(())
}

/// Prints reports, starting the browser at the first one and reusing it for the rest.
pub struct PdfPrinter {
    from: PrintBrowser,
    printer: Option<Printer>,
}

impl PdfPrinter {
    pub fn new(from: PrintBrowser) -> Self {
        PdfPrinter {
            from,
            printer: None,
        }
    }

    /// Prints `html` and writes the PDF to `output` (a file; `None` or `-`: standard
    /// output). A browser that cannot start or print is exit 4 with the reason.
    pub async fn emit(&mut self, output: Option<&Path>, html: &str) -> Result<(), ExitStatus> {
        let file = output.filter(|p| *p != Path::new("-"));
        let pdf = match self.print(file, html).await {
            Ok(pdf) => pdf,
            Err(e) => {
                consentry::stderr::line(format_args!("error: --format pdf: {e:#}"));
                return Err(ExitStatus::Error);
            }
        };
        match file {
            Some(path) => {
                if let Err(e) = write_report_bytes(path, &pdf) {
                    consentry::stderr::line(format_args!(
                        "error: cannot write {}: {e}",
                        path.display()
                    ));
                    return Err(ExitStatus::Error);
                }
                consentry::stderr::line(format_args!("report written to {}", path.display()));
                Ok(())
            }
            None => to_stdout_bytes(&pdf),
        }
    }

    async fn print(&mut self, file: Option<&Path>, html: &str) -> anyhow::Result<Vec<u8>> {
        use anyhow::Context;
        // Beside the PDF, where the report's relative screenshot paths point.
        let dir = match file
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
        {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
                d.to_path_buf()
            }
            None => PathBuf::from("."),
        };
        let mut page = tempfile::Builder::new()
            .prefix(".consentry-print-")
            .suffix(".html")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write the page to print in {}", dir.display()))?;
        page.write_all(html.as_bytes())
            .and_then(|()| page.flush())
            .with_context(|| format!("cannot write the page to print in {}", dir.display()))?;
        let path = std::fs::canonicalize(page.path())
            .with_context(|| format!("cannot resolve {}", page.path().display()))?;
        if self.printer.is_none() {
            self.printer = Some(Printer::start(&self.from).await?);
        }
        match &self.printer {
            Some(p) => p.print(&path).await,
            None => anyhow::bail!("the printing browser did not start"),
        }
    }

    /// Closes the browser, if one was started; a problem closing it is a warning.
    pub async fn close(self) {
        if let Some(p) = self.printer {
            if let Err(e) = p.close().await {
                consentry::stderr::line(format_args!("warning: {e:#}"));
            }
        }
    }
}
