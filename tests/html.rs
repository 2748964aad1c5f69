//! The HTML reports in a real browser (Debian Chromium through chromedriver, file://
//! URLs): hostile reports run no script and load nothing, the hostile text is shown as
//! text; and the docs screenshot of the LIA review pack (`docs/img/drift-pack.png`,
//! written only with `CONSENTRY_WRITE_SCREENSHOT=1`).
//! Needs the `demo` feature (the sample reports of `report::html::sample`).
#![cfg(feature = "demo")]

use consentry::browser::{BrowserConfig, Chromedriver, Session};
use consentry::report::html::sample::{drift_pack, hostile_drift, hostile_run, HOSTILE};
use consentry::report::html::{render_drift_html, HtmlReporter, CSP};
use consentry::report::Reporter;
use consentry::scenario::BrowserOptions;
use fantoccini::Client;
use serde_json::Value;
use std::path::Path;

/// Height of the docs screenshot (the window is 1280 px wide).
const SHOT_HEIGHT: u32 = 2900;

/// One browser test at a time (two cores).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Browser {
    driver: Chromedriver,
    cfg: BrowserConfig,
    session: Session,
}

impl Browser {
    async fn start() -> Browser {
        let driver = Chromedriver::spawn(None).await.expect("chromedriver");
        let cfg = BrowserConfig::new(driver.url.clone(), true, None);
        let session = Session::start(&cfg, &BrowserOptions::default())
            .await
            .expect("browser session");
        Browser {
            driver,
            cfg,
            session,
        }
    }

    fn client(&self) -> &Client {
        &self.session.client
    }

    async fn stop(self) {
        let _ = self.session.close().await;
        self.driver.shutdown().await;
        let _ = consentry::browser::sweep_profiles(&self.cfg);
    }
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("execute")
}

/// Open `html` from a file and return what the browser made of it.
struct Seen {
    title: String,
    scripts: i64,
    loaders: i64,
    /// `<img>` elements: only a run report's screenshots.
    images: i64,
    /// What the page fetched (resource timing entries' URLs).
    resources: Vec<String>,
    text: String,
}

async fn open(c: &Client, dir: &Path, name: &str, html: &str) -> Seen {
    let path = dir.join(name);
    std::fs::write(&path, html).expect("write page");
    let url = url::Url::from_file_path(&path).expect("file url");
    c.goto(url.as_str()).await.expect("open page");
    // Give any (would-be) handler a moment: onerror fires after the image fails.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    Seen {
        title: c.title().await.expect("title"),
        scripts: js(c, "return document.getElementsByTagName('script').length")
            .await
            .as_i64()
            .unwrap_or(-1),
        loaders: js(
            c,
            "return document.querySelectorAll('iframe,object,embed,link,[onerror],[onload]').length",
        )
        .await
        .as_i64()
        .unwrap_or(-1),
        images: js(c, "return document.querySelectorAll('img').length")
            .await
            .as_i64()
            .unwrap_or(-1),
        resources: js(
            c,
            "return performance.getEntriesByType('resource').map(e => e.name)",
        )
        .await
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_else(|| vec!["(unreadable)".into()]),
        text: js(c, "return document.body.innerText")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The `<title>` as written (escaped) in the page, unescaped as a browser reads it.
fn expected_title(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("title").expect("selector");
    doc.select(&sel).next().expect("title").text().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn hostile_html_reports_run_no_script_in_chromium() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let browser = Browser::start().await;
    let c = browser.client();

    // The detector works: the same hostile markup, unescaped and without the CSP, runs.
    let raw = format!(
        "<!DOCTYPE html><html><head><title>control</title></head><body>{}{}</body></html>",
        HOSTILE[0], HOSTILE[1]
    );
    let control = open(c, dir.path(), "control.html", &raw).await;
    assert_eq!(
        control.title, "PWNED",
        "the control page should have run its script"
    );

    // Defence in depth: with the CSP, even unescaped markup could not run a script.
    let csp_only = raw.replace(
        "<head>",
        &format!("<head><meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"),
    );
    let guarded = open(c, dir.path(), "csp.html", &csp_only).await;
    assert_eq!(guarded.title, "control", "the CSP let a script run");

    let run = HtmlReporter.render(&hostile_run());
    let drift = render_drift_html(&hostile_drift(12));
    for (name, html) in [("run.html", &run), ("drift.html", &drift)] {
        let seen = open(c, dir.path(), name, html).await;
        assert_eq!(seen.title, expected_title(html), "{name}: title changed");
        assert!(
            seen.title.contains("<script>"),
            "{name}: title shows the text"
        );
        assert_eq!(seen.scripts, 0, "{name}: script elements in the DOM");
        assert_eq!(
            seen.loaders, 0,
            "{name}: elements that load or handle events"
        );
        // The run's only images are its screenshots (the hostile sample's path is
        // `//evil.test/...`): at most a local file is asked for, never a host.
        let shots = if name == "run.html" { 2 } else { 0 };
        assert_eq!(seen.images, shots, "{name}: images");
        for r in &seen.resources {
            assert!(
                r.starts_with("file:///evil.test/"),
                "{name}: the page fetched {r:?}"
            );
        }
        assert!(
            seen.text
                .contains("<script>document.title='PWNED'</script>"),
            "{name}: hostile text not visible as text"
        );
        assert!(seen.text.contains("onerror=\"document.title='PWNED'\""));
        assert!(
            seen.text.contains("abc\\u{202e}txt.exe"),
            "{name}: bidi visible"
        );
        let hrefs = js(
            c,
            "return Array.from(document.querySelectorAll('[href]')).map(a => a.getAttribute('href'))",
        )
        .await;
        for h in hrefs.as_array().expect("hrefs") {
            let h = h.as_str().unwrap_or_default();
            assert!(
                h.starts_with('#') || h.starts_with("/evil.test/"),
                "{name}: link {h:?}"
            );
        }
    }
    browser.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn drift_pack_screenshot() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let browser = Browser::start().await;
    let c = browser.client();
    let html = render_drift_html(&drift_pack(30));
    let seen = open(c, dir.path(), "pack.html", &html).await;
    assert_eq!(seen.title, "LIA review pack: demo-shop");
    assert!(seen.resources.is_empty(), "{:?}", seen.resources);
    // Summary first, then the timeline, then the vendors.
    let top = |sel: &str| {
        format!(
            "return document.querySelector('{sel}').getBoundingClientRect().top + window.scrollY"
        )
    };
    let summary = js(c, &top("#summary")).await.as_f64().expect("summary");
    let timeline = js(c, &top("svg.timeline"))
        .await
        .as_f64()
        .expect("timeline");
    let vendors = js(c, &top("#vendors")).await.as_f64().expect("vendors");
    assert!(
        summary < timeline && timeline < vendors,
        "{summary} {timeline} {vendors}"
    );
    // The timeline fits the page width: nothing to scroll sideways.
    let overflow = js(
        c,
        "const f = document.querySelector('.figure'); return f.scrollWidth - f.clientWidth",
    )
    .await
    .as_f64()
    .unwrap_or(-1.0);
    assert!(overflow <= 0.0, "timeline overflows by {overflow}px");

    // The docs image: the first 2900 px (header, summary, timeline, contents, the
    // legitimate-interest vendor's section); the rest of the page is tables.
    let height = js(c, "return document.documentElement.scrollHeight")
        .await
        .as_u64()
        .expect("height");
    assert!(height > 3000, "the pack is suspiciously short: {height}px");
    c.set_window_size(1280, SHOT_HEIGHT).await.expect("resize");
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    if std::env::var("CONSENTRY_WRITE_SCREENSHOT").as_deref() == Ok("1") {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/drift-pack.png");
        std::fs::create_dir_all(out.parent().expect("dir")).expect("mkdir");
        std::fs::write(&out, &png).expect("write screenshot");
        let page = Path::new(env!("CARGO_TARGET_TMPDIR")).join("drift-pack.html");
        std::fs::write(&page, &html).expect("write page");
        // A year of daily runs, to look at the timeline's density.
        let year = Path::new(env!("CARGO_TARGET_TMPDIR")).join("drift-pack-365.html");
        std::fs::write(&year, render_drift_html(&drift_pack(365))).expect("write page");
        eprintln!("wrote {} ({} bytes)", out.display(), png.len());
    }
    browser.stop().await;
}
