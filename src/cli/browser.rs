//! The flags that say how browsers run: where the browser, chromedriver and the data are
//! ([`BrowserPlace`], shared by `audit`, `worker` and `doctor`), and how many run and how
//! ([`BrowserArgs`], `audit` and `worker`).

use clap::Args;
use consentry::engine::EngineConfig;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BrowserArgs {
    /// Scenarios in parallel, across all sites [default: one per core, at most 4].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub place: BrowserPlace,
    /// A new browser and profile for every scenario, instead of one browser per job with
    /// a fresh isolated browser context per scenario (always so with --webdriver).
    #[arg(long)]
    pub fresh_browser: bool,
    /// Take no screenshots before and after consent actions. They are written to
    /// <reports>/<site>/run-<id>/*.png ($CONSENTRY_REPORTS_DIR, else reports/ beside the
    /// database) and shown in the reports.
    #[arg(long)]
    pub no_screenshots: bool,
}

/// Where the browser, chromedriver and consentry's data are.
#[derive(Debug, Args)]
pub struct BrowserPlace {
    /// Use this WebDriver server (a Selenium Grid 4, http:// or https://) instead of
    /// starting chromedriver; nothing answering there fails at start (exit 4). Trusted
    /// roots for https: the system's, or SSL_CERT_FILE (docs/grid.md).
    #[arg(long, value_name = "URL", env = "CONSENTRY_WEBDRIVER")]
    pub webdriver: Option<url::Url>,
    /// chromedriver executable [default: from PATH, then /usr/bin/chromedriver].
    #[arg(long, value_name = "PATH", env = "CONSENTRY_CHROMEDRIVER")]
    pub chromedriver: Option<PathBuf>,
    /// Chromium executable [default: chromium on PATH; for Debian's /usr/bin/chromium
    /// wrapper, the real /usr/lib/chromium/chromium behind it].
    #[arg(long, value_name = "PATH", env = "CONSENTRY_CHROMIUM")]
    pub chromium: Option<PathBuf>,
    /// Directory holding autoconsent's `autoconsent.playwright.js` and `rules.json`, for
    /// scenario files with `[cmp] auto = true` [default: `autoconsent/` in the data
    /// directory (--data-dir), else, in a checkout, `fixtures/build/autoconsent` (made by
    /// `make fixtures`) beside the scenario file or in a parent directory, then in the
    /// current directory].
    #[arg(long, value_name = "DIR", env = "CONSENTRY_AUTOCONSENT")]
    pub autoconsent: Option<PathBuf>,
    /// consentry's data directory (autoconsent, licences) [default: $CONSENTRY_DATA_DIR,
    /// else share/consentry of the install prefix, else the XDG data directory; see
    /// docs/packaging.md].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// An extra vendor database of your own (JSON, the shape of third-party-web's
    /// entities: [{"name", "company", "category", "domains": ["host", "*.domain"]}]),
    /// consulted before the bundled knowledge to name undeclared hosts. For data whose
    /// licence consentry cannot ship (non-commercial sets); never bundled
    /// (docs/knowledge.md).
    #[arg(long, value_name = "PATH", env = "CONSENTRY_VENDOR_DB")]
    pub vendor_db: Option<PathBuf>,
}

impl BrowserArgs {
    /// How the engine runs: browsers, jobs, autoconsent, screenshots.
    pub(crate) fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            jobs: self.jobs.unwrap_or(0),
            webdriver: self.place.webdriver.clone(),
            chromedriver: self.place.chromedriver.clone(),
            chromium: self.place.chromium.clone(),
            autoconsent: self.place.autoconsent.clone(),
            data_dir: self.place.data_dir.clone(),
            vendor_db: self.place.vendor_db.clone(),
            fresh_browser: self.fresh_browser,
            no_screenshots: self.no_screenshots,
        }
    }
}
