//! Ingest time per visit, for `make bench-pg` (bench/pg-bench.sh): writes `--visits`
//! judged visits through the store's own write path, `RunWriter::record_judged_visit`,
//! one transaction per visit as the audit pipeline does, and times each call.
//!
//! ```sh
//! cargo run --release --example ingest_bench -- --db /tmp/ingest.db --visits 300
//! cargo run --release --example ingest_bench -- --db postgres://postgres@127.0.0.1:5432/ingest
//! ```
//!
//! `--db` is what `consentry --db` takes: a SQLite file or a `postgres://` URL. The visits
//! are grouped into runs of five scenarios (`no_action`, `accept_all`, `reject_all`,
//! `object_li`, `accept_then_object`, as the demo audit), each run started with its
//! declared map (ten vendors) and finished like an audit's; only `record_judged_visit`
//! is timed. The first `--warmup` visits (default 5) are written but not counted (the
//! pool's first connections, the hash key, prepared statements).
//!
//! One visit holds, by default, what a busy page's visit does: `--requests` 300
//! (first-party assets, vendors' scripts, pixels and XHRs, some with an initiator and a
//! frame), `--cookie-writes` 40 (header and script), `--cookies` 30 in the jar,
//! `--storage-writes` 20, 2-3 steps, one page error, `--findings` 8 (with evidence), and
//! its inventory (ten vendors' activity, every third-party host, every cookie, two
//! `loaded-by` items). `bench/pg-bench.sh` also runs it at the demo shop's own visit size
//! (a real `accept_all` visit of the demo: 42 requests, 12 cookie writes, 7 cookies, no
//! storage write, 8 findings). Deterministic from `--seed`.
//!
//! Prints one JSON object: the sizes, and the per-visit times in ms (`times_ms`, in
//! order) with min, median, p95, max and mean.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use consentry::analysis::{fingerprint, Code, Evidence, Finding};
use consentry::inventory::{Declaration, InventoryItem, ItemKind, VendorActivity, VisitInventory};
use consentry::model::{
    ConsentAction, ConsentState, CookieSource, CookieWrite, FrameCounts, LegalBasis, PageError,
    RequestObs, RunStatus, StepOutcome, StepStatus, StorageArea, StorageWrite, StoredCookie,
    TargetKind, VisitObservation, VisitStatus, VisitTimings,
};
use consentry::outcome::FailOn;
use consentry::store::{DbLocation, JudgedVisit, RunStart, Store};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Times record_judged_visit, one transaction per visit, on a consentry database")]
struct Args {
    /// Database to write, as `consentry --db` takes it: a SQLite file (created) or a
    /// `postgres://` URL.
    #[arg(long, value_parser = parse_db)]
    db: DbLocation,
    /// Visits timed (after the warm-up).
    #[arg(long, default_value_t = 300)]
    visits: usize,
    /// Visits written first and not timed.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Requests per visit.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// Cookie writes per visit (`Set-Cookie` headers and `document.cookie`).
    #[arg(long, default_value_t = 40)]
    cookie_writes: usize,
    /// Cookies in the jar at the end of the visit.
    #[arg(long, default_value_t = 30)]
    cookies: usize,
    /// localStorage / sessionStorage writes per visit.
    #[arg(long, default_value_t = 20)]
    storage_writes: usize,
    /// Findings per visit.
    #[arg(long, default_value_t = 8)]
    findings: usize,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_db(value: &str) -> Result<DbLocation, String> {
    DbLocation::parse(value.as_ref()).map_err(|e| e.to_string())
}

/// splitmix64: tiny and deterministic (no `rand`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn hash(&mut self) -> String {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.next(),
            self.next(),
            self.next(),
            self.next()
        )
    }
}

/// (vendor id, name, hosts, basis)
const VENDORS: [(&str, &str, [&str; 2], LegalBasis); 10] = [
    (
        "meta",
        "Meta Pixel",
        ["connect.facebook.net", "www.facebook.com"],
        LegalBasis::Consent,
    ),
    (
        "google-ads",
        "Google Ads",
        ["www.googleadservices.com", "googleads.g.doubleclick.net"],
        LegalBasis::Consent,
    ),
    (
        "criteo",
        "Criteo",
        ["static.criteo.net", "gum.criteo.com"],
        LegalBasis::Consent,
    ),
    (
        "tiktok",
        "TikTok Pixel",
        ["analytics.tiktok.com", "mon.tiktokv.com"],
        LegalBasis::Consent,
    ),
    (
        "linkedin",
        "LinkedIn Insight Tag",
        ["snap.licdn.com", "px.ads.linkedin.com"],
        LegalBasis::Consent,
    ),
    (
        "google-analytics",
        "Google Analytics",
        ["www.google-analytics.com", "region1.google-analytics.com"],
        LegalBasis::LegitimateInterest,
    ),
    (
        "hotjar",
        "Hotjar",
        ["static.hotjar.com", "script.hotjar.com"],
        LegalBasis::LegitimateInterest,
    ),
    (
        "matomo",
        "Matomo Cloud",
        ["cdn.matomo.cloud", "shop.matomo.cloud"],
        LegalBasis::LegitimateInterest,
    ),
    (
        "stripe",
        "Stripe",
        ["js.stripe.com", "m.stripe.network"],
        LegalBasis::Contract,
    ),
    (
        "zendesk",
        "Zendesk",
        ["static.zdassets.com", "ekr.zdassets.com"],
        LegalBasis::Contract,
    ),
];

const SCENARIOS: [&str; 5] = [
    "no_action",
    "accept_all",
    "reject_all",
    "object_li",
    "accept_then_object",
];
const SITE: &str = "demo-shop";
const ORIGIN: &str = "https://www.demo-shop.test";
const RESOURCE_TYPES: [&str; 6] = ["Script", "Image", "XHR", "Fetch", "Stylesheet", "Font"];

fn declarations() -> Vec<Declaration> {
    VENDORS
        .iter()
        .map(|(id, name, _, basis)| Declaration {
            vendor: id.to_string(),
            vendor_name: name.to_string(),
            purpose: match basis {
                LegalBasis::Consent => "advertising",
                LegalBasis::LegitimateInterest => "analytics",
                _ => "payment_and_support",
            }
            .to_string(),
            basis: *basis,
            strictly_necessary: matches!(basis, LegalBasis::Contract),
            tcf_purpose: matches!(basis, LegalBasis::Consent).then_some(4),
        })
        .collect()
}

fn final_state(scenario: &str) -> ConsentState {
    let s = ConsentState::initial();
    match scenario {
        "accept_all" => s.after(ConsentAction::AcceptAll),
        "reject_all" => s.after(ConsentAction::RejectAll),
        "object_li" => s.after(ConsentAction::ObjectLi),
        "accept_then_object" => s
            .after(ConsentAction::AcceptAll)
            .after(ConsentAction::ObjectLi),
        _ => s,
    }
}

/// What one visit produced, owned until it is written.
struct Visit {
    obs: VisitObservation,
    findings: Vec<Finding>,
    inventory: VisitInventory,
    third_party: usize,
}

fn visit(a: &Args, scenario: &str, start: DateTime<Utc>, rng: &mut Rng) -> Visit {
    let state = final_state(scenario);
    let phase = state.phase();
    let pages = [format!("{ORIGIN}/"), format!("{ORIGIN}/checkout")];
    let at = |ms: usize| start + Duration::milliseconds(ms as i64);
    let steps = (0..2 + usize::from(scenario.contains("object")))
        .map(|i| StepOutcome {
            index: i,
            description: if i == 0 {
                format!("open {ORIGIN}/ (scenarios/demo-shop.toml:12)")
            } else {
                format!(
                    "click \"#cmp-step-{i}\" (scenarios/demo-shop.toml:{})",
                    30 + i
                )
            },
            status: StepStatus::Done,
            started_at: at(500 + 900 * i),
            duration_ms: 80 + rng.below(900) as u64,
        })
        .collect();
    let mut third_party = 0;
    let mut activity: Vec<VendorActivity> = VENDORS
        .iter()
        .map(|v| VendorActivity {
            vendor: v.0.to_string(),
            requests: 0,
            cookie_writes: 0,
            storage_writes: 0,
            unauthorized: 0,
            objected: 0,
        })
        .collect();
    let requests: Vec<RequestObs> = (0..a.requests)
        .map(|i| {
            let page = pages[usize::from(i * 2 >= a.requests)].clone();
            // Two thirds first-party assets, a third the vendors'.
            let (url, initiator) = if i % 3 == 2 {
                let v = rng.below(VENDORS.len());
                let host = VENDORS[v].2[i % 2];
                third_party += 1;
                activity[v].requests += 1;
                (
                    format!(
                        "https://{host}/tr?ev=PageView&id={}&cb={}",
                        1000 + v,
                        rng.next()
                    ),
                    Some(format!("https://{}/sdk.js", VENDORS[v].2[0])),
                )
            } else {
                (
                    format!("{ORIGIN}/assets/chunk-{i:03}.{:08x}.js", rng.next() as u32),
                    (i > 0).then(|| page.clone()),
                )
            };
            RequestObs {
                url,
                method: if i % 7 == 3 { "POST" } else { "GET" }.into(),
                resource_type: RESOURCE_TYPES[i % RESOURCE_TYPES.len()].into(),
                initiator,
                frame_id: (i % 5 == 0).then(|| format!("F{:08X}", rng.next() as u32)),
                target: if i % 11 == 0 {
                    TargetKind::Iframe
                } else {
                    TargetKind::Page
                },
                status: Some(if i % 29 == 0 { 204 } else { 200 }),
                error: None,
                cancelled: false,
                frames: (i % 97 == 0).then_some(FrameCounts {
                    sent: 3,
                    received: 5,
                }),
                cause: None,
                time: at(900 + i * 7),
                page,
                state: state.clone(),
                http: None,
            }
        })
        .collect();
    let cookie_writes: Vec<CookieWrite> = (0..a.cookie_writes)
        .map(|i| {
            let v = i % VENDORS.len();
            activity[v].cookie_writes += 1;
            let host = VENDORS[v].2[1];
            CookieWrite {
                name: format!("_{}_{i}", VENDORS[v].0.replace('-', "_")),
                domain: if i % 2 == 0 {
                    ".demo-shop.test".into()
                } else {
                    format!(".{host}")
                },
                path: Some("/".into()),
                value_hash: rng.hash(),
                requested_lifetime_secs: (i % 4 != 0).then_some(86_400 * (30 + i as i64 * 10)),
                expiry_unparsed: None,
                source: if i % 2 == 0 {
                    CookieSource::Script {
                        document_url: pages[0].clone(),
                    }
                } else {
                    CookieSource::Header {
                        request_url: format!("https://{host}/sync?u={}", rng.next()),
                    }
                },
                blocked_reasons: Vec::new(),
                time: at(1_000 + i * 23),
                page: pages[0].clone(),
                state: state.clone(),
            }
        })
        .collect();
    let cookies: Vec<StoredCookie> = (0..a.cookies)
        .map(|i| StoredCookie {
            name: format!("jar_{i}"),
            domain: if i % 2 == 0 {
                ".demo-shop.test".into()
            } else {
                format!(".{}", VENDORS[i % VENDORS.len()].2[1])
            },
            path: "/".into(),
            value_hash: rng.hash(),
            expires: (i % 3 != 0).then(|| at(0) + Duration::days(30 + i as i64)),
            secure: true,
            http_only: i % 4 == 0,
            same_site: Some(if i % 2 == 0 { "Lax" } else { "None" }.into()),
            partition_key: None,
            observed_at: at(9_000),
            state: state.clone(),
        })
        .collect();
    let storage_writes: Vec<StorageWrite> = (0..a.storage_writes)
        .map(|i| {
            let v = i % VENDORS.len();
            activity[v].storage_writes += 1;
            StorageWrite {
                area: if i % 3 == 0 {
                    StorageArea::Session
                } else {
                    StorageArea::Local
                },
                origin: ORIGIN.into(),
                key: format!("{}:state:{i}", VENDORS[v].0),
                value_hash: rng.hash(),
                time: at(1_200 + i * 31),
                page: pages[0].clone(),
                state: state.clone(),
            }
        })
        .collect();
    let obs = VisitObservation {
        scenario: scenario.to_string(),
        started_at: start,
        finished_at: at(10_000),
        status: VisitStatus::Complete,
        steps,
        requests,
        cookie_writes,
        cookies,
        storage_writes,
        page_errors: vec![PageError {
            message: "TypeError: Cannot read properties of undefined (reading 'push')".into(),
            source: Some(format!("{ORIGIN}/assets/app.js:1:2345")),
            time: at(1_500),
            page: pages[0].clone(),
        }],
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        final_state: state.clone(),
        warnings: Vec::new(),
        timings: VisitTimings {
            session_start_ms: 40,
            load_ms: 800,
            steps_ms: 100,
            settle_ms: 350,
            capture_ms: 60,
            close_ms: 12,
            ..VisitTimings::default()
        },
        login: None,
    };
    let codes = [
        Code::ConsentVendorBeforeChoice,
        Code::ConsentCookieWithoutConsent,
        Code::UndeclaredThirdParty,
        Code::UndeclaredCookie,
        Code::CookieRetentionExceeded,
    ];
    let findings = (0..a.findings)
        .map(|i| {
            let code = codes[i % codes.len()];
            let v = VENDORS[i % VENDORS.len()];
            let subject = format!("{}-{i}", v.0);
            let evidence = (0..3)
                .map(|e| Evidence {
                    scenario: scenario.to_string(),
                    page: pages[0].clone(),
                    request_url: Some(format!("https://{}/tr?id={e}", v.2[0])),
                    cookie: (i % 2 == 1).then(|| format!("_{}@demo-shop.test", v.0)),
                    time: at(1_000 + e * 100),
                    phase: phase.clone(),
                    detail: None,
                    logged_in: false,
                    known: None,
                })
                .collect();
            Finding {
                code,
                severity: code.severity(),
                site: SITE.into(),
                scenario: Some(scenario.to_string()),
                subject: subject.clone(),
                vendor: Some(v.0.to_string()),
                message: format!(
                    "{} ({}) was contacted {phase} although its purposes need consent: 4 requests.",
                    v.1, v.2[0]
                ),
                rule: format!("vendor {}: purpose advertising (consent)", v.0),
                evidence,
                occurrences: 4,
                repeat: None,
                fingerprint: fingerprint(code, SITE, Some(scenario), &subject),
            }
        })
        .collect();
    let mut items: Vec<InventoryItem> = VENDORS
        .iter()
        .flat_map(|v| v.2.iter().map(move |h| (h, v.0)))
        .map(|(h, id)| InventoryItem {
            kind: ItemKind::Host,
            item: h.to_string(),
            vendor: Some(id.to_string()),
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: None,
        })
        .collect();
    items.extend(obs.cookies.iter().map(|c| InventoryItem {
        kind: ItemKind::Cookie,
        item: format!("{}@{}", c.name, c.domain.trim_start_matches('.')),
        vendor: None,
        lifetime_secs: Some(86_400 * 30),
        declared_secs: Some(86_400 * 395),
        over_retention: false,
        detail: None,
    }));
    for (host, by) in [
        ("gum.criteo.com", "google-ads"),
        ("mon.tiktokv.com", "meta"),
    ] {
        items.push(InventoryItem {
            kind: ItemKind::LoadedBy,
            item: host.into(),
            vendor: Some(by.into()),
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: Some("connect.facebook.net".into()),
        });
    }
    Visit {
        obs,
        findings,
        inventory: VisitInventory {
            vendors: activity,
            items,
        },
        third_party,
    }
}

/// The `q` quantile of sorted `xs` (nearest rank).
fn quantile(xs: &[f64], q: f64) -> f64 {
    let rank = (q * xs.len() as f64).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.visits > 0, "--visits must be at least 1");
    let store = Store::open(args.db.clone())
        .await
        .context("open the database")?;
    let mut rng = Rng(args.seed);
    let declarations = declarations();
    let t0 = Utc::now();
    let total = args.warmup + args.visits;
    let mut times = Vec::with_capacity(args.visits);
    let mut written = 0;
    while written < total {
        let started = t0 + Duration::seconds(written as i64 * 12);
        let run = store
            .writer()
            .start_run(&RunStart {
                site: SITE,
                scenario_file: "scenarios/demo-shop.toml",
                started_at: started,
                scenario_digest: Some("ingest-bench"),
                policy_digest: Some("ingest-bench"),
                data_versions: None,
                fail_on: FailOn::DEFAULT,
                fleet_run: None,
                vantage: None,
            })
            .await?;
        store
            .writer()
            .record_declarations(run, &declarations)
            .await?;
        let mut at = started;
        for (pos, scenario) in SCENARIOS.iter().enumerate() {
            if written == total {
                break;
            }
            // Built before the clock starts: only the store's work is timed.
            let v = visit(&args, scenario, at, &mut rng);
            let judged = JudgedVisit {
                position: Some(pos),
                repetition: 1,
                obs: &v.obs,
                third_party_requests: Some(v.third_party),
                findings: &v.findings,
                inventory: Some(&v.inventory),
            };
            let t = Instant::now();
            store.writer().record_judged_visit(run, &judged).await?;
            let ms = t.elapsed().as_secs_f64() * 1_000.0;
            if written >= args.warmup {
                times.push(ms);
            }
            written += 1;
            at += Duration::seconds(2);
        }
        store
            .writer()
            .finish_run(run, &RunStatus::Complete, at)
            .await?;
    }
    store.close().await;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let out = serde_json::json!({
        "visits": args.visits,
        "warmup": args.warmup,
        "requests": args.requests,
        "cookie_writes": args.cookie_writes,
        "cookies": args.cookies,
        "storage_writes": args.storage_writes,
        "findings": args.findings,
        "min_ms": sorted[0],
        "median_ms": quantile(&sorted, 0.5),
        "p95_ms": quantile(&sorted, 0.95),
        "max_ms": sorted[sorted.len() - 1],
        "mean_ms": mean,
        "times_ms": times,
    });
    println!("{out}");
    Ok(())
}
