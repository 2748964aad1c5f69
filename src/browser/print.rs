//! Printing a report page to PDF with the Chromium consentry already drives (WebDriver's
//! Print Page, which chromedriver serves with DevTools' `Page.printToPDF`). The page is a
//! file the caller wrote (the HTML layout of a run report or a drift pack: inline CSS, no
//! JavaScript, nothing fetched but the run's screenshot files beside it), so printing
//! needs no network; its print style sheet (`@media print`) decides the page breaks.

use super::{sweep_profiles, BrowserConfig, Chromedriver, Session};
use crate::scenario::BrowserOptions;
use anyhow::{anyhow, Context, Result};
use fantoccini::wd::{PrintConfiguration, PrintMargins, PrintSize};
use std::path::Path;
use std::time::Duration;

/// How long loading and printing one report may take before the browser is given up on.
const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the printing browser comes from: the same flags and look-ups as an audit's.
#[derive(Debug, Clone, Default)]
pub struct PrintBrowser {
    pub chromedriver: Option<std::path::PathBuf>,
    pub chromium: Option<std::path::PathBuf>,
}

/// A started browser that prints report files, one after the other (a fleet's drift packs
/// share one browser).
pub struct Printer {
    driver: Chromedriver,
    cfg: BrowserConfig,
    session: Option<Session>,
}

impl Printer {
    /// Starts chromedriver and one headless Chromium with a fresh profile.
    pub async fn start(from: &PrintBrowser) -> Result<Printer> {
        let driver = Chromedriver::spawn(from.chromedriver.as_deref())
            .await
            .context("cannot start the browser that prints the PDF")?;
        let cfg = BrowserConfig::new(driver.url.clone(), true, from.chromium.clone());
        let session = match Session::start(&cfg, &BrowserOptions::default()).await {
            Ok(s) => s,
            Err(e) => {
                driver.shutdown().await;
                sweep_profiles(&cfg);
                return Err(e.context("cannot start the browser that prints the PDF"));
            }
        };
        Ok(Printer {
            driver,
            cfg,
            session: Some(session),
        })
    }

    /// The PDF of the HTML file `page` (an absolute path), on A4 with its backgrounds
    /// (the report's colour marks) printed.
    pub async fn print(&self, page: &Path) -> Result<Vec<u8>> {
        let session = self
            .session
            .as_ref()
            .ok_or_else(|| anyhow!("the printing browser is closed"))?;
        let url = url::Url::from_file_path(page)
            .map_err(|()| anyhow!("{}: not an absolute file path", page.display()))?;
        let config = PrintConfiguration::builder()
            .size(PrintSize::A4)
            .margins(PrintMargins {
                top: 1.2,
                bottom: 1.2,
                left: 1.0,
                right: 1.0,
            })
            .background(true)
            .build()
            .map_err(|e| anyhow!("print settings: {e}"))?;
        let client = &session.client;
        let work = async {
            client
                .goto(url.as_str())
                .await
                .with_context(|| format!("cannot open {} to print it", page.display()))?;
            client
                .print(config)
                .await
                .with_context(|| format!("cannot print {}", page.display()))
        };
        tokio::time::timeout(PRINT_TIMEOUT, work)
            .await
            .map_err(|_| {
                anyhow!(
                    "printing {} took over {} s",
                    page.display(),
                    PRINT_TIMEOUT.as_secs()
                )
            })?
    }

    /// Closes the browser and chromedriver and deletes the profile.
    pub async fn close(mut self) -> Result<()> {
        let closed = match self.session.take() {
            Some(s) => s.close().await,
            None => Ok(()),
        };
        self.driver.shutdown().await;
        sweep_profiles(&self.cfg);
        closed
    }
}
