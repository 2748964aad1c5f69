//! `consentry init URL` in real Chromium on the demo shop and the Klaro and
//! vanilla-cookieconsent fixture sites: the visit drafts a scenario file and a policy that
//! `validate` accepts and that names every third party the visit contacted; auditing the
//! site with the draft gives one `draft-unconfirmed` per drafted entry and, besides, only
//! the behaviour each site really shows (listed per site below: what a draft cannot
//! excuse). `consentry map draft --run` drafts the same map from the stored run.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{consentry, finding_keys, Key};
use consentry::demo::{DemoServer, FileSite};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The built-in scenarios a draft runs when autoconsent detected the CMP.
const BUILT_INS: [&str; 6] = [
    "no_action",
    "accept_all",
    "reject_all",
    "object_li",
    "reject_then_reload",
    "accept_then_withdraw",
];

/// One site at a time (two cores; each audit already runs scenarios in parallel).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Drafted {
    dir: tempfile::TempDir,
    scenario: PathBuf,
    policy: PathBuf,
    stderr: String,
}

fn resolver(port: u16) -> String {
    format!("--browser-arg=--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE localhost")
}

async fn init(server: &DemoServer, url: &str, name: &str) -> Drafted {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = server.port();
    let (url, name, d) = (url.to_string(), name.to_string(), dir.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || {
        consentry()
            .args([
                "init",
                &url,
                "--name",
                &name,
                "--no-progress",
                &resolver(port),
            ])
            .arg("--dir")
            .arg(&d)
            .env_remove("CONSENTRY_AUTOCONSENT")
            .current_dir(ROOT)
            .output()
            .expect("run consentry init")
    })
    .await
    .expect("init");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let scenario = dir.path().join(format!("{}.toml", name_of(&stdout)));
    let policy = dir.path().join(format!("{}.policy.toml", name_of(&stdout)));
    assert_eq!(
        stdout,
        format!("{}\n{}\n", scenario.display(), policy.display())
    );
    Drafted {
        dir,
        scenario,
        policy,
        stderr,
    }
}

fn name_of(stdout: &str) -> String {
    let first = stdout.lines().next().unwrap_or_default();
    Path::new(first)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// `validate` accepts the draft with no error and no warning.
fn assert_valid(d: &Drafted) {
    let out = consentry()
        .arg("validate")
        .arg(&d.scenario)
        .current_dir(ROOT)
        .output()
        .expect("validate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("(0 warning(s))"), "{stderr}");
}

/// Every entry of the draft is marked draft. (That it declares every third party the
/// visit contacted is shown by the audit with it: no undeclared host or cookie in the
/// scenarios the draft saw, [`audit_with_draft`].)
fn assert_all_draft(d: &Drafted) -> consentry::policy::Policy {
    let policy = consentry::policy::load::load_policy(&d.policy).expect("draft policy loads");
    assert!(policy.vendors.len() > 1, "{}", read(&d.policy));
    assert!(policy.purposes.iter().all(|p| p.draft));
    assert!(policy.vendors.iter().all(|v| v.draft));
    assert!(policy.cookies.iter().all(|c| c.draft));
    policy
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Audit the site with its draft: the findings other than draft-unconfirmed, and a check
/// that there is one draft-unconfirmed per drafted entry.
async fn audit_with_draft(d: &Drafted, policy: &consentry::policy::Policy) -> BTreeSet<Key> {
    let db = d.dir.path().join("audit.db");
    let file = d.scenario.clone();
    let run = tokio::task::spawn_blocking(move || {
        common::run_json(
            consentry()
                .arg("audit")
                .arg(&file)
                .args(["--format", "json", "--no-progress", "--db"])
                .arg(&db)
                .env_remove("CONSENTRY_AUTOCONSENT")
                .current_dir(ROOT),
        )
    })
    .await
    .expect("audit");
    let keys = finding_keys(&run.json);
    let drafts: BTreeSet<&Key> = keys
        .iter()
        .filter(|(code, _, _)| code == "draft-unconfirmed")
        .collect();
    assert_eq!(
        drafts.len(),
        policy.purposes.len() + policy.vendors.len() + policy.cookies.len(),
        "{drafts:#?}"
    );
    // The draft names every third party and cookie the visit saw: the same scenarios,
    // audited with it, find nothing undeclared.
    for (code, scenario, subject) in &keys {
        let seen_by_draft = scenario == "no_action" || scenario == "accept_all";
        assert!(
            !(seen_by_draft && code.starts_with("undeclared-")),
            "{code} {subject} in {scenario}: the draft missed it\n{}",
            read(&d.policy)
        );
    }
    keys.into_iter()
        .filter(|(code, _, _)| code != "draft-unconfirmed")
        .collect()
}

fn set(list: &[(&str, &str, &str)]) -> BTreeSet<Key> {
    common::keys(list)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn init_drafts_the_demo_shop_and_its_audit_shows_only_drafts_and_behaviour() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let d = init(&server, "https://www.demo-shop.test/", "demo-draft").await;
    assert_valid(&d);
    let policy = assert_all_draft(&d);
    let scenario = read(&d.scenario);
    // The demo's banner is the shop's own: no CMP autoconsent knows, so the draft runs
    // what the banner heuristic can drive, and says why.
    assert!(
        scenario.contains(
            "scenarios = [\"no_action\", \"accept_all\", \"reject_all\", \"reject_then_reload\"]"
        ),
        "{scenario}"
    );
    assert!(
        scenario.contains("No CMP autoconsent knows was detected"),
        "{scenario}"
    );
    let text = read(&d.policy);
    // Known names and where each guess came from.
    assert!(
        text.contains("known: TikTok (ByteDance Ltd), category social"),
        "{text}"
    );
    assert!(text.contains("id = \"google-analytics\""), "{text}");
    // _ga: Google Analytics asks for 2 years (Chromium stores 400 days); the draft declares
    // what the site asked for.
    assert!(
        text.contains("name = \"_ga\"\nvendor = \"google-analytics\"\nmax_retention = \"730d\""),
        "{text}"
    );
    assert!(
        d.stderr.contains("every entry is marked draft = true"),
        "{}",
        d.stderr
    );

    let others = audit_with_draft(&d, &policy).await;
    server.shutdown().await;
    // The demo's planted behaviour, as a draft sees it. The Meta pixel fires and sets
    // _fbp and fr before any choice (planted). Chartbeat and Scorecard Research load before
    // any choice and after a reject: the demo's own map declares them legitimate-interest
    // measurement, which a draft cannot know; their known categories (analytics, ad) give
    // them consent, so the behaviour is reported until the privacy team says otherwise.
    // Hotjar loads only after a reject (planted: the visit never saw it, so it is
    // undeclared).
    let mut want = Vec::new();
    for s in [
        "no_action",
        "accept_all",
        "reject_all",
        "reject_then_reload",
    ] {
        for v in ["facebook", "chartbeat", "scorecard-research"] {
            want.push(("consent-vendor-before-choice", s, v));
        }
        for c in ["_fbp", "fr"] {
            want.push(("consent-cookie-without-consent", s, c));
        }
    }
    want.extend([
        (
            "consent-vendor-after-reject",
            "reject_all",
            "scorecard-research",
        ),
        (
            "consent-vendor-after-reject",
            "reject_then_reload",
            "scorecard-research",
        ),
        (
            "consent-vendor-after-reject",
            "reject_then_reload",
            "chartbeat",
        ),
        (
            "consent-vendor-after-reject",
            "reject_then_reload",
            "facebook",
        ),
        ("undeclared-third-party", "reject_all", "hotjar.com"),
        ("undeclared-third-party", "reject_then_reload", "hotjar.com"),
    ]);
    assert_eq!(others, set(&want), "{}", text);

    // `map draft --run` drafts from the stored audit run (its four scenarios): the same
    // vendors, and Hotjar, which only the reject showed.
    let out_file = d.dir.path().join("from-run.policy.toml");
    let out = consentry()
        .args(["map", "draft", "--run", "1", "--db"])
        .arg(d.dir.path().join("audit.db"))
        .arg("--output")
        .arg(&out_file)
        .current_dir(ROOT)
        .output()
        .expect("map draft");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("from run 1 (no_action, accept_all, reject_all, reject_then_reload)"),
        "{stderr}"
    );
    let from_run = consentry::policy::load::load_policy(&out_file).expect("loads");
    let ids = |p: &consentry::policy::Policy| -> BTreeSet<String> {
        p.vendors.iter().map(|v| v.id.clone()).collect()
    };
    let mut want_ids = ids(&policy);
    want_ids.insert("hotjar".to_string());
    assert_eq!(ids(&from_run), want_ids, "{}", read(&out_file));
    assert!(read(&out_file).contains("written by `consentry map draft` on"));
    // Never over an existing file.
    let again = consentry()
        .args(["map", "draft", "--run", "1", "--db"])
        .arg(d.dir.path().join("audit.db"))
        .arg("--output")
        .arg(&out_file)
        .current_dir(ROOT)
        .output()
        .expect("map draft");
    assert_eq!(again.status.code(), Some(2));
    let missing = consentry()
        .args(["map", "draft", "--run", "99", "--db"])
        .arg(d.dir.path().join("audit.db"))
        .current_dir(ROOT)
        .output()
        .expect("map draft");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has no run 99"));
}

async fn fixture(site: &str, url: &str, name: &str) -> (Drafted, BTreeSet<Key>, String) {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), site))
        .await
        .expect("fixture server");
    let d = init(&server, url, name).await;
    assert_valid(&d);
    let policy = assert_all_draft(&d);
    let others = audit_with_draft(&d, &policy).await;
    server.shutdown().await;
    let text = read(&d.policy);
    (d, others, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn init_drafts_the_klaro_fixture() {
    let (d, others, text) = fixture("klaro", "https://www.klaro-shop.test/", "klaro-draft").await;
    let scenario = read(&d.scenario);
    assert!(
        scenario.contains("CMP detected by autoconsent: Klaro."),
        "{scenario}"
    );
    assert!(!scenario.contains("\n[run]"), "{scenario}");
    // What the draft cannot excuse, on the home page (the draft visits `/` only; the
    // fixture's /about plants more). PLANTED: the Meta pixel loads ungated, before any
    // choice and after a reject or withdrawal. Scorecard Research (fixture: legitimate
    // interest, ungated, ignores objections) loads before any choice and after a
    // reject: known as `ad`, the draft gives it consent. Matomo (fixture: legitimate
    // interest, Klaro `optOut`) keeps running after the withdrawal: known as analytics,
    // the draft gives it consent; the privacy team's map says otherwise.
    let mut want = Vec::new();
    for s in BUILT_INS {
        want.push(("consent-vendor-before-choice", s, "facebook"));
        want.push(("consent-vendor-before-choice", s, "scorecard-research"));
    }
    want.extend([
        (
            "consent-vendor-after-reject",
            "reject_then_reload",
            "facebook",
        ),
        (
            "consent-vendor-after-reject",
            "reject_then_reload",
            "scorecard-research",
        ),
        (
            "consent-vendor-after-reject",
            "accept_then_withdraw",
            "facebook",
        ),
        (
            "consent-vendor-after-reject",
            "accept_then_withdraw",
            "scorecard-research",
        ),
        (
            "consent-vendor-after-reject",
            "accept_then_withdraw",
            "matomo",
        ),
    ]);
    assert_eq!(others, set(&want), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn init_drafts_the_cookieconsent_fixture() {
    let (d, others, text) = fixture("cookieconsent", "https://www.cc-shop.test/", "cc-draft").await;
    let scenario = read(&d.scenario);
    assert!(
        scenario.contains("CMP detected by autoconsent: cookieconsent3."),
        "{scenario}"
    );
    // PLANTED: the TikTok pixel loads ungated, before any choice and after a reject or
    // withdrawal. vanilla-cookieconsent has no legitimate-interest notion, so object_li
    // cannot be performed (its profile says so): not observed, never clean.
    let mut want = Vec::new();
    for s in BUILT_INS {
        want.push(("consent-vendor-before-choice", s, "tiktok"));
    }
    want.extend([
        (
            "consent-vendor-after-reject",
            "reject_then_reload",
            "tiktok",
        ),
        (
            "consent-vendor-after-reject",
            "accept_then_withdraw",
            "tiktok",
        ),
        ("scenario-not-observed", "object_li", "object_li"),
    ]);
    assert_eq!(others, set(&want), "{text}");
}
