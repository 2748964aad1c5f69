//! Page discovery with a real browser (`engine::discover`) over the crawl fixture
//! (`fixtures/sites/crawl`, docs/fixtures.md#crawl): robots.txt naming a sitemap index,
//! a gzipped sitemap of 50 product pages, a Disallowed path, and a page only a link
//! leads to. The same rules without a browser: `src/crawl/discover_tests.rs`.
#![cfg(feature = "demo")]

use consentry::crawl::{CrawlPlan, Found};
use consentry::demo::{DemoServer, FileSite};
use consentry::engine::{discover, Engine, EngineConfig};
use consentry::model::ValueHasher;
use std::collections::BTreeSet;
use std::path::Path;
use url::Url;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

async fn discover_fixture(edit: impl Fn(&mut consentry::scenario::AuditSpec)) -> CrawlPlan {
    discover_fixture_with(edit, false).await
}

async fn discover_fixture_with(
    edit: impl Fn(&mut consentry::scenario::AuditSpec),
    interrupted: bool,
) -> CrawlPlan {
    let server = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "crawl"))
        .await
        .expect("fixture server");
    let port = server.port().to_string();
    let env = |name: &str| (name == "CONSENTRY_DEMO_PORT").then(|| port.clone());
    let file = Path::new(ROOT).join("tests/fixtures/crawl/crawl.toml");
    let mut spec = consentry::scenario::load::load_audit_file_with_env(&file, &env)
        .unwrap_or_else(|d| panic!("{d}"));
    edit(&mut spec);
    let engine = Engine::start(&EngineConfig::default(), ValueHasher::unkeyed())
        .await
        .expect("engine");
    let (_never, cancel) = tokio::sync::watch::channel(interrupted);
    let plan = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        discover(&engine, &spec, cancel),
    )
    .await
    .expect("discovery within its bounds");
    engine.shutdown().await;
    server.shutdown().await;
    plan
}

fn url(path: &str) -> Url {
    Url::parse("https://www.crawl-shop.test/")
        .unwrap()
        .join(path)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_real_browser_discovers_the_fixture_site() {
    let plan = discover_fixture(|_| {}).await;
    let pages: Vec<&str> = plan.pages.iter().map(|p| p.url.path()).collect();
    // The listed page first; three of the 50 products; /about; the link-only page; not
    // the Disallowed account page.
    assert_eq!(pages[0], "/", "{plan:#?}");
    let products: Vec<_> = plan
        .pages
        .iter()
        .filter(|p| p.template == "/products/{slug}")
        .collect();
    assert_eq!(products.len(), 3, "{plan:#?}");
    let others: BTreeSet<&str> = pages
        .iter()
        .copied()
        .filter(|p| !p.starts_with("/products/"))
        .collect();
    assert_eq!(
        others,
        BTreeSet::from(["/", "/about", "/careers/open-positions"]),
        "{plan:#?}"
    );
    assert_eq!(
        plan.candidates, 53,
        "the listed page, 50 products, about, careers"
    );
    assert_eq!(
        plan.skipped.robots, 1,
        "/private/account, in the sitemap and linked"
    );
    assert_eq!(plan.skipped.over_per_template, 47);
    assert_eq!(plan.skipped.off_site, 1);
    assert!(
        plan.skipped.problems.is_empty(),
        "{:?}",
        plan.skipped.problems
    );
    let careers = plan
        .pages
        .iter()
        .find(|p| p.url == url("/careers/open-positions"))
        .unwrap();
    assert_eq!(
        careers.found,
        Found::Link {
            from: url("/about"),
            depth: 2
        }
    );
    // Products came from the gzipped sitemap, named by the index from robots.txt.
    for p in products {
        assert_eq!(
            p.found,
            Found::Sitemap {
                sitemap_url: url("/sitemaps/products.xml.gz")
            }
        );
    }
    // Two nights, one sample (ignoring how long it took).
    let again = discover_fixture(|_| {}).await;
    assert_eq!(again.pages, plan.pages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn robots_ignored_with_a_reason_keeps_the_disallowed_page() {
    let plan = discover_fixture(|spec| {
        let crawl = spec.site.crawl.as_mut().expect("crawl settings");
        crawl.robots = consentry::crawl::Robots::Ignore {
            reason: "our own fixture".into(),
        };
    })
    .await;
    assert!(
        plan.pages.iter().any(|p| p.url == url("/private/account")),
        "{plan:#?}"
    );
    assert_eq!(plan.skipped.robots, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn an_interrupted_discovery_keeps_the_listed_pages_and_says_so() {
    let plan = discover_fixture_with(|_| {}, true).await;
    let pages: Vec<&str> = plan.pages.iter().map(|p| p.url.path()).collect();
    assert_eq!(pages, ["/"]);
    assert_eq!(plan.skipped.stopped.as_deref(), Some("interrupted"));
    assert_eq!((plan.fetches, plan.rendered), (0, 0));
}

/// A real browser over a site whose gzipped sitemap lists 500 pages (five templates), once
/// with sitemaps only (`max_depth = 0`) and once with the default settings (the listed
/// page and the sampled pages rendered for links): the plan keeps `per_template` pages of
/// each template whatever the number of pages, and renders only its sample. It prints the
/// times (docs/crawl.md#measured); nothing here asserts a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_500_page_sitemap_yields_per_template_pages_of_each_template() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("www.crawl-shop.test");
    let kinds = ["product", "category", "blog", "help", "store"];
    let paths: Vec<String> = (0..500)
        .map(|i| format!("/{}/{}-item-page-{i}", kinds[i % 5], kinds[(i / 5) % 5]))
        .collect();
    let page = |links: &[&str]| {
        let a: String = links
            .iter()
            .map(|l| format!("<a href=\"{l}\">x</a>"))
            .collect();
        format!("<!doctype html><html><body>{a}</body></html>")
    };
    let write = |path: &str, bytes: &[u8]| {
        let f = host.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, bytes).unwrap();
    };
    let urls: String = paths
        .iter()
        .map(|p| format!("<url><loc>https://www.crawl-shop.test{p}</loc></url>"))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("<urlset>{urls}</urlset>").as_bytes())
        .unwrap();
    write(
        "/robots.txt",
        b"User-agent: *\nSitemap: https://www.crawl-shop.test/sitemap.xml.gz\n",
    );
    write("/sitemap.xml.gz", &gz.finish().unwrap());
    let first: Vec<&str> = paths.iter().take(50).map(String::as_str).collect();
    write("/index.html", page(&first).as_bytes());
    for p in &paths {
        write(&format!("{p}/index.html"), page(&["/"]).as_bytes());
    }
    let server = DemoServer::start_files(
        0,
        FileSite {
            root: dir.path().to_path_buf(),
            assets: Path::new(ROOT).join("fixtures/build"),
        },
    )
    .await
    .expect("fixture server");
    let port = server.port().to_string();
    let env = |name: &str| (name == "CONSENTRY_DEMO_PORT").then(|| port.clone());
    let file = Path::new(ROOT).join("tests/fixtures/crawl/crawl.toml");
    let mut spec = consentry::scenario::load::load_audit_file_with_env(&file, &env)
        .unwrap_or_else(|d| panic!("{d}"));
    let engine = Engine::start(&EngineConfig::default(), ValueHasher::unkeyed())
        .await
        .expect("engine");
    for (label, max_depth) in [
        ("sitemaps only (max_depth = 0)", 0),
        ("defaults (max_depth = 2)", 2),
    ] {
        spec.site.crawl = Some(consentry::crawl::CrawlSettings {
            max_depth,
            ..Default::default()
        });
        {
            let (_never, cancel) = tokio::sync::watch::channel(false);
            let t = std::time::Instant::now();
            let plan = discover(&engine, &spec, cancel).await;
            assert!(plan.candidates >= 500, "{label}: {plan:#?}");
            let mut per: std::collections::BTreeMap<&str, usize> = Default::default();
            for p in &plan.pages {
                *per.entry(p.template.as_str()).or_default() += 1;
            }
            let most = consentry::crawl::CrawlSettings::default().per_template;
            assert!(
                per.values().all(|n| *n <= most) && per.len() >= 5,
                "{label}: at most {most} pages of each of the five templates: {per:?}"
            );
            assert!(
                plan.rendered <= 20,
                "{label}: only the sample is rendered: {}",
                plan.rendered
            );
            println!(
                "{label}: {:.2} s wall ({} ms in discovery, browser start and context excluded), {} pages of {} candidates, {} templates, {} fetches, {} renders",
                t.elapsed().as_secs_f64(),
                plan.elapsed_ms,
                plan.pages.len(),
                plan.candidates,
                plan.templates,
                plan.fetches,
                plan.rendered
            );
        }
    }
    engine.shutdown().await;
    server.shutdown().await;
}

/// Discovery can run in a spawned task (a fleet discovers sites side by side): its
/// future is `Send`. A compile-time check.
#[allow(dead_code)]
fn discovery_is_send(
    engine: &Engine,
    spec: &consentry::scenario::AuditSpec,
    cancel: consentry::engine::Cancel,
) {
    fn send<T: Send>(_: T) {}
    send(discover(engine, spec, cancel));
}
