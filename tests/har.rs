//! `consentry har RUN` on real runs (issue 21 item 4; docs/reports.md#har): the demo
//! shop audited in Chromium, and the HAR lab page (`/lab/har`) with a declared secret in
//! its URL. Each HAR validates against the HAR 1.2 JSON Schema (`har-schema@2.0.0`,
//! tests/fixtures/schemas) and passes what Chromium DevTools' importer needs
//! (`common::har_schema::devtools_importer_problems`); every stored request is an entry;
//! cookie values are hashed, `Authorization` stripped, the secret redacted; the evidence
//! bundle holds the HARs; and a purged run's HAR is refused with exit 2.
//!
//! Needs the `demo` feature (the demo site) and Chromium (`--features browser-tests`).
#![cfg(feature = "demo")]

mod common;

#[path = "common/har_schema.rs"]
mod har_schema;

use common::consentry;
use consentry::demo::DemoServer;
use consentry::model::http::STRIPPED;
use consentry::store::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const TOKEN: &str = "tok-Hq4Rt8Ka2Lz6";
/// What `/lab/har-api` sets (src/demo/lab.rs, `HAR_SET_COOKIE_VALUE`).
const SET_VALUE: &str = "KnownSetValue77";

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `consentry ARGS --db DB`: exit code, stdout, stderr.
fn run(db: &Path, args: &[&str]) -> (i32, String, String) {
    let out = consentry()
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run consentry");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A HAR that is valid HAR 1.2 and that DevTools' importer reads.
fn valid(what: &str, text: &str) -> Value {
    let har: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(har_schema::errors(&har), Vec::<String>::new(), "{what}");
    assert_eq!(
        har_schema::devtools_importer_problems(&har),
        Vec::<String>::new(),
        "{what}"
    );
    assert_eq!(har["log"]["version"], "1.2");
    assert_eq!(har["log"]["creator"]["name"], "consentry");
    har
}

fn entries(har: &Value) -> &Vec<Value> {
    har["log"]["entries"].as_array().expect("entries")
}

/// The values of header `name` (any case) on `side` of every entry.
fn header_values(har: &Value, side: &str, name: &str) -> Vec<String> {
    entries(har)
        .iter()
        .flat_map(|e| e[side]["headers"].as_array().cloned().unwrap_or_default())
        .filter(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .filter_map(|h| h["value"].as_str().map(str::to_string))
        .collect()
}

/// A `Cookie` value whose every pair's value is a keyed hash (`a=[hash 16 hex]`).
fn all_pairs_hashed(cookie: &str) -> bool {
    cookie.split("; ").all(|pair| {
        let value = pair.split_once('=').map_or(pair, |(_, v)| v);
        value.len() == "[hash ]".len() + 16
            && value.starts_with("[hash ")
            && value.ends_with(']')
            && value[6..22].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The files of an evidence bundle, by path inside its root.
fn bundle_files(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = BTreeMap::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let inside = path
            .split_once('/')
            .map_or(path.clone(), |(_, p)| p.to_string());
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        out.insert(inside, bytes);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn the_demo_run_as_one_har_per_visit() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (audit, dir, db) = common::fixture::audit_demo(&["--no-screenshots"]).await;
    let run_id = audit.json["run_id"].as_i64().expect("run id");
    let id = run_id.to_string();

    // Several visits, no --scenario, no --output-dir: refused, and told what to give.
    let (code, out, err) = run(&db, &["har", &id]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("--output-dir DIR"), "{err}");
    assert!(err.contains("--scenario ID"), "{err}");
    // An unknown scenario: exit 2, the visits named.
    let (code, _, err) = run(&db, &["har", "latest", "--scenario", "nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("accept_all"), "{err}");

    let store = Store::open_read_only(&db).await.expect("db");
    let visits = store.history().visits(run_id).await.expect("visits");
    let out_dir = dir.path().join("har");
    let (code, _, err) = run(
        &db,
        &["har", &id, "--output-dir", out_dir.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{err}");
    let mut vendor_seen = false;
    for v in &visits {
        let file = out_dir.join(format!("demo-shop-{}.har", v.scenario));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let har = valid(&v.scenario, &text);
        // Every stored request is an entry, with its URL and method.
        let stored = store
            .history()
            .visit_requests(v.id)
            .await
            .expect("requests");
        let got = entries(&har);
        assert_eq!(got.len(), stored.len(), "{}", v.scenario);
        let mut urls: Vec<(&str, &str)> = got
            .iter()
            .map(|e| {
                (
                    e["request"]["method"].as_str().unwrap_or_default(),
                    e["request"]["url"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let mut want: Vec<(&str, &str)> = stored
            .iter()
            .map(|r| (r.method.as_str(), r.url.as_str()))
            .collect();
        urls.sort();
        want.sort();
        assert_eq!(urls, want, "{}", v.scenario);
        // Cookie values are only ever hashes, on both sides.
        for c in header_values(&har, "request", "cookie") {
            assert!(all_pairs_hashed(&c), "{}: Cookie: {c}", v.scenario);
        }
        for c in header_values(&har, "response", "set-cookie") {
            let first = c.split(';').next().unwrap_or_default();
            assert!(all_pairs_hashed(first), "{}: Set-Cookie: {c}", v.scenario);
        }
        // The shop's session cookie: the HAR's hash is the cookie record's.
        let writes = store
            .history()
            .cookie_writes(run_id, Some(&v.scenario))
            .await
            .expect("cookie writes");
        for set in header_values(&har, "response", "set-cookie") {
            let Some(rest) = set.strip_prefix("sid=") else {
                continue;
            };
            let hash = rest.get(6..22).unwrap_or_default();
            assert!(
                writes
                    .iter()
                    .any(|w| w.name == "sid" && w.value_hash == hash),
                "{}: sid hash {hash} is no stored write's",
                v.scenario
            );
        }
        // A request to a declared vendor (Meta's pixel, www.facebook.com/tr) carries its
        // response: status, status text, headers, MIME type, timings.
        for e in got.iter().filter(|e| {
            e["request"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://www.facebook.com/tr"))
        }) {
            vendor_seen = true;
            let rs = &e["response"];
            assert_eq!(rs["status"], 200, "{e:#}");
            assert!(
                rs["headers"].as_array().is_some_and(|h| !h.is_empty()),
                "{e:#}"
            );
            assert_eq!(rs["content"]["mimeType"], "image/gif", "{e:#}");
            assert!(
                rs["cookies"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["name"] == "fr"
                        && c["value"].as_str().is_some_and(|v| v.starts_with("[hash ")))),
                "{e:#}"
            );
            assert!(e["timings"]["wait"].as_f64().is_some_and(|w| w >= 0.0));
            assert!(e["timings"]["comment"].is_null(), "timings captured: {e:#}");
        }
    }
    assert!(vendor_seen, "the Meta pixel fired in some visit");
    store.close().await;

    // One visit on stdout: `--scenario`.
    let (code, out, err) = run(&db, &["har", &id, "--scenario", "accept_all"]);
    assert_eq!(code, 0, "{err}");
    let on_disk = std::fs::read_to_string(out_dir.join("demo-shop-accept_all.har")).expect("file");
    assert_eq!(out, on_disk);

    // The evidence bundle holds each visit's HAR, in its manifest.
    let bundle = dir.path().join("bundle.tar.gz");
    let (code, _, err) = run(
        &db,
        &["evidence", &id, "--output", bundle.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&bundle).expect("bundle");
    let v = consentry::evidence::verify(&bytes, None).expect("a bundle");
    let m = v.manifest.expect("manifest");
    let files = bundle_files(&bytes);
    for visit in &visits {
        let path = format!("har/{}.har", visit.scenario);
        assert!(
            m.files
                .iter()
                .any(|f| f.path == path && f.what.contains("HAR 1.2")),
            "{path} not in {:?}",
            m.files
        );
        let text = String::from_utf8(files[&path].clone()).expect("utf-8");
        valid(&path, &text);
    }

    // Purged: the run made old, `purge` removes its requests; its HAR is refused (exit
    // 2, saying why), and its evidence bundle says it has none.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("db");
    sqlx::query("UPDATE runs SET started_at = '2000' || substr(started_at, 5) WHERE id = ?")
        .bind(run_id)
        .execute(&pool)
        .await
        .expect("age the run");
    pool.close().await;
    let (code, _, err) = run(&db, &["purge", "--older-than", "1d"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&db, &["har", &id, "--scenario", "accept_all"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("no longer stored") && err.contains("consentry purge"),
        "{err}"
    );
    let (code, _, err) = run(
        &db,
        &["evidence", &id, "--output", bundle.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&bundle).expect("bundle");
    let m = consentry::evidence::verify(&bytes, None)
        .expect("a bundle")
        .manifest
        .expect("manifest");
    assert!(!m.files.iter().any(|f| f.path.starts_with("har/")));
    assert!(
        m.notes.iter().any(|n| n.contains("the bundle has no HAR")),
        "{:?}",
        m.notes
    );
}

/// The HAR lab: a known cookie set by script and sent back, a known `Set-Cookie` from the
/// shop and from a declared vendor, a `fetch` with `Authorization` to that vendor, and a
/// declared secret in the page URL (so in every `Referer`). None of the known values
/// reaches the HAR in clear; the cookie values are the keyed hashes; the bearer token is
/// stripped; the secret is `[secret:LAB_TOKEN]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn the_har_lab_hashes_cookies_strips_credentials_and_redacts_secrets() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(common::lab::LAB)
        .expect("lab file")
        .replace(
            "policy = \"../../scenarios/demo-shop.policy.toml\"",
            &format!("policy = \"{root}/scenarios/demo-shop.policy.toml\""),
        )
        .replace(
            "first_party_domains = [\"demo-shop.test\"]",
            "first_party_domains = [\"demo-shop.test\"]\nsecrets = [\"LAB_TOKEN\"]",
        )
        + "\n[[scenario]]\nid = \"har\"\ndescription = \"The HAR lab.\"\nsteps = [\n  { navigate = \"/lab/har?token=${LAB_TOKEN}\" },\n  { wait_idle = true },\n  { navigate = \"/lab/next\" },\n]\n";
    let file = dir.path().join("har-lab.toml");
    std::fs::write(&file, text).expect("write");
    let db = dir.path().join("har.db");
    let out = consentry()
        .arg("audit")
        .arg(&file)
        .args(["--format", "json", "--no-progress", "--no-screenshots"])
        .args(["--fail-on", "never", "-s", "har", "--db"])
        .arg(&db)
        .env("CONSENTRY_DEMO_PORT", port.to_string())
        .env("LAB_TOKEN", TOKEN)
        .env_remove("CONSENTRY_AUTOCONSENT")
        .output()
        .expect("audit");
    let served: Vec<String> = server
        .log()
        .into_iter()
        .map(|r| format!("{} {} {}", r.method, r.host, r.path_and_query))
        .collect();
    server.shutdown().await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, text, err) = run(&db, &["har", "latest"]);
    assert_eq!(code, 0, "one visit: on stdout; {err}");
    let har = valid("har lab", &text);

    // Known values in clear: never.
    for clear in [
        "KnownCookieValue42",
        SET_VALUE,
        "LabBearer-Xy9Qw",
        TOKEN,
        "Hq4Rt8",
    ] {
        assert!(!text.contains(clear), "{clear} in the HAR");
    }
    let hasher = {
        let store = Store::open_read_only(&db).await.expect("db");
        let h = store.hasher().await.expect("hasher");
        store.close().await;
        h
    };
    // The cookie set by script went back to the shop, hashed with the database's key.
    let cookies = header_values(&har, "request", "cookie");
    let known = format!("lab_known=[hash {}]", hasher.hash("KnownCookieValue42"));
    assert!(
        cookies.iter().any(|c| c.contains(&known)),
        "{known} not in {cookies:?}"
    );
    // The shop's and the vendor's Set-Cookie: hashed too.
    let set = header_values(&har, "response", "set-cookie");
    let want = format!("lab_set=[hash {}]", hasher.hash(SET_VALUE));
    assert!(
        set.iter().filter(|s| s.starts_with(&want)).count() >= 2,
        "{want} not twice in {set:?}; served: {served:#?}"
    );
    // The vendor fetch: Authorization stripped, the other header kept, its response
    // (status, headers) there.
    let vendor = entries(&har)
        .iter()
        .find(|e| {
            e["request"]["method"] == "GET"
                && e["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("https://www.facebook.com/lab/har-api"))
        })
        .unwrap_or_else(|| panic!("no vendor fetch; served: {served:#?}"));
    let rq: Vec<(String, String)> = vendor["request"]["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap_or_default().to_ascii_lowercase(),
                h["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        rq.contains(&("authorization".into(), STRIPPED.into())),
        "{rq:?}"
    );
    assert!(rq.contains(&("x-lab".into(), "lab".into())), "{rq:?}");
    assert_eq!(vendor["response"]["status"], 200, "{vendor:#}");
    assert_eq!(
        vendor["response"]["content"]["mimeType"],
        "application/json"
    );
    // The secret in the page URL: redacted in the URL, the page title and every Referer.
    let referers = header_values(&har, "request", "referer");
    assert!(
        referers
            .iter()
            .any(|r| r.contains("token=[secret:LAB_TOKEN]")),
        "{referers:?}"
    );
    assert!(text.contains("/lab/har?token=[secret:LAB_TOKEN]"));
    // The database holds none of them either (the headers column included).
    for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("har.db") {
            continue;
        }
        let bytes = std::fs::read(entry.path()).expect("db");
        for clear in ["KnownCookieValue42", "LabBearer-Xy9Qw", TOKEN] {
            assert!(
                !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
                "{clear} in {name}"
            );
        }
    }
}
