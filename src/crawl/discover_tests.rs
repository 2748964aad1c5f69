//! Discovery over in-memory sites: a fetcher and a renderer that serve a map of URLs.

use super::discover::*;
use super::plan::{CrawlPlan, Found};
use super::settings::{CrawlSettings, PathPattern, Robots};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use url::Url;

const BASE: &str = "https://www.shop.test/";

/// A site: files (robots.txt, sitemaps) and pages (HTML), and what was asked of it.
#[derive(Default)]
struct Site {
    files: BTreeMap<String, (u16, Vec<u8>)>,
    pages: BTreeMap<String, String>,
    fetched: Mutex<Vec<String>>,
    rendered: Mutex<Vec<String>>,
}

impl Site {
    fn file(mut self, path: &str, status: u16, body: impl Into<Vec<u8>>) -> Self {
        self.files.insert(abs(path), (status, body.into()));
        self
    }

    /// A page linking to `links` (paths or URLs).
    fn page(mut self, path: &str, links: &[&str]) -> Self {
        let a: String = links
            .iter()
            .map(|l| format!("<a href=\"{l}\">x</a>"))
            .collect();
        self.pages
            .insert(abs(path), format!("<html><body>{a}</body></html>"));
        self
    }

    fn sitemap(self, path: &str, pages: &[String]) -> Self {
        let body = urlset(pages);
        self.file(path, 200, body)
    }

    fn renders(&self) -> Vec<String> {
        self.rendered.lock().unwrap().clone()
    }
}

fn abs(path: &str) -> String {
    Url::parse(BASE).unwrap().join(path).unwrap().to_string()
}

fn urlset(pages: &[String]) -> String {
    let urls: String = pages
        .iter()
        .map(|p| format!("<url><loc>{}</loc></url>", abs(p)))
        .collect();
    format!("<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

impl Fetch for Site {
    async fn fetch(&self, url: &Url) -> Result<Fetched, String> {
        self.fetched.lock().unwrap().push(url.to_string());
        match self.files.get(url.as_str()) {
            Some((_, body)) if body == b"NETWORK ERROR" => Err("connection refused".into()),
            Some((status, body)) => Ok(Fetched {
                status: *status,
                content_type: None,
                body: body.clone(),
            }),
            None => Ok(Fetched {
                status: 404,
                content_type: None,
                body: Vec::new(),
            }),
        }
    }
}

impl Render for Site {
    async fn render(&self, url: &Url) -> Result<Rendered, String> {
        self.rendered.lock().unwrap().push(url.to_string());
        match self.pages.get(url.as_str()) {
            Some(html) => Ok(Rendered {
                url: url.clone(),
                html: html.clone(),
            }),
            None => Err("HTTP 404".into()),
        }
    }
}

async fn run(site: &Site, settings: &CrawlSettings) -> CrawlPlan {
    run_listed(site, settings, &["/"]).await
}

async fn run_listed(site: &Site, settings: &CrawlSettings, listed: &[&str]) -> CrawlPlan {
    let base = Url::parse(BASE).unwrap();
    let listed: Vec<Url> = listed.iter().map(|p| base.join(p).unwrap()).collect();
    let target = Target {
        base: &base,
        listed: &listed,
        first_party_domains: &["shop.test".to_string()],
    };
    discover(target, settings, &Limits::default(), site, site, &|| false).await
}

fn paths(plan: &CrawlPlan) -> Vec<String> {
    plan.pages
        .iter()
        .map(|p| p.url.path().to_string())
        .collect()
}

fn products(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "/product/{}-wool-sweater-{i}",
                ["red", "blue", "green"][i % 3]
            )
        })
        .collect()
}

#[tokio::test]
async fn sitemap_index_and_gzip_from_robots_txt() {
    let index = format!(
        "<sitemapindex><sitemap><loc>{}</loc></sitemap><sitemap><loc>{}</loc></sitemap></sitemapindex>",
        abs("/sitemaps/products.xml.gz"),
        abs("/sitemaps/pages.xml")
    );
    let site = Site::default()
        .file(
            "/robots.txt",
            200,
            format!(
                "User-agent: *\nAllow: /\nSitemap: {}\n",
                abs("/sitemap_index.xml")
            ),
        )
        .file("/sitemap_index.xml", 200, gzip(index.as_bytes()))
        .file(
            "/sitemaps/products.xml.gz",
            200,
            gzip(urlset(&products(2)).as_bytes()),
        )
        .sitemap("/sitemaps/pages.xml", &["/about".into(), "/contact".into()])
        .page("/", &[])
        .page("/about", &[])
        .page("/contact", &[]);
    let site = products(2).iter().fold(site, |s, p| s.page(p, &[]));
    let plan = run(&site, &CrawlSettings::default()).await;
    let got: BTreeSet<String> = paths(&plan).into_iter().collect();
    let want: BTreeSet<String> = ["/", "/about", "/contact"]
        .iter()
        .map(|s| s.to_string())
        .chain(products(2))
        .collect();
    assert_eq!(got, want, "{plan:#?}");
    let p = plan
        .pages
        .iter()
        .find(|p| p.url.path() == products(2)[1])
        .unwrap();
    assert_eq!(
        p.found,
        Found::Sitemap {
            sitemap_url: Url::parse(&abs("/sitemaps/products.xml.gz")).unwrap()
        }
    );
    assert_eq!(p.template, "/product/{slug}");
    assert!(
        plan.skipped.problems.is_empty(),
        "{:?}",
        plan.skipped.problems
    );
    // /sitemap.xml is tried as well (absent here: not a problem).
    assert!(site.fetched.lock().unwrap().contains(&abs("/sitemap.xml")));
}

#[tokio::test]
async fn robots_disallow_is_honoured_or_ignored_with_a_reason() {
    let site = Site::default()
        .file(
            "/robots.txt",
            200,
            "User-agent: *\nDisallow: /private\nUser-agent: consentry\nDisallow: /account\n",
        )
        .sitemap(
            "/sitemap.xml",
            &["/private/a".into(), "/account".into(), "/shop".into()],
        )
        .page("/", &["/private/b"]);
    let plan = run(&site, &CrawlSettings::default()).await;
    let got: BTreeSet<String> = paths(&plan).into_iter().collect();
    // The consentry group applies (not `*`): /account is disallowed, /private is not.
    assert_eq!(
        got,
        BTreeSet::from([
            "/".into(),
            "/private/a".into(),
            "/private/b".into(),
            "/shop".into()
        ])
    );
    assert_eq!(plan.skipped.robots, 1);

    let ignore = CrawlSettings {
        robots: Robots::Ignore {
            reason: "our own site".into(),
        },
        ..CrawlSettings::default()
    };
    let plan = run(&site, &ignore).await;
    assert!(paths(&plan).contains(&"/account".to_string()));
    assert_eq!(plan.skipped.robots, 0);
}

#[tokio::test]
async fn robots_txt_unreachable_disallows_discovered_pages_but_keeps_listed_ones() {
    let site = Site::default()
        .file("/robots.txt", 503, "")
        .sitemap("/sitemap.xml", &["/a".into()])
        .page("/", &["/b"])
        .page("/listed", &[]);
    let plan = run_listed(&site, &CrawlSettings::default(), &["/", "/listed"]).await;
    assert_eq!(paths(&plan), ["/", "/listed"]);
    assert_eq!(plan.skipped.robots, 2);
    assert_eq!(plan.skipped.problems.len(), 1);
    assert!(plan.skipped.problems[0].error.starts_with("HTTP 503"));
    // A missing robots.txt (404) allows everything.
    let site = Site::default()
        .sitemap("/sitemap.xml", &["/a".into()])
        .page("/", &["/b"]);
    assert_eq!(paths(&run(&site, &CrawlSettings::default()).await).len(), 3);
}

#[tokio::test]
async fn links_are_followed_breadth_first_to_max_depth() {
    let site = Site::default()
        .page("/", &["/a", "https://other.test/x", "/file.pdf"])
        .page("/a", &["/b", "/"])
        .page("/b", &["/c"])
        .page("/c", &[]);
    let plan = run(&site, &CrawlSettings::default()).await;
    assert_eq!(paths(&plan), ["/", "/a", "/b"]);
    assert_eq!(
        plan.pages[2].found,
        Found::Link {
            from: Url::parse(&abs("/a")).unwrap(),
            depth: 2
        }
    );
    assert_eq!(
        site.renders(),
        [abs("/"), abs("/a")],
        "pages at max_depth are not rendered"
    );
    assert_eq!((plan.skipped.off_site, plan.skipped.not_a_page), (1, 1));
    let deeper = CrawlSettings {
        max_depth: 3,
        ..CrawlSettings::default()
    };
    assert_eq!(paths(&run(&site, &deeper).await), ["/", "/a", "/b", "/c"]);
    let none = CrawlSettings {
        max_depth: 0,
        ..CrawlSettings::default()
    };
    assert_eq!(paths(&run(&site, &none).await), ["/"]);
}

#[tokio::test]
async fn five_hundred_products_yield_per_template_of_them_and_render_few() {
    let all = products(500);
    let some: Vec<&str> = all[..40].iter().map(String::as_str).collect();
    let mut site = Site::default()
        .sitemap("/sitemap.xml", &all)
        .page("/", &some);
    for p in &all {
        site = site.page(p, &["/", "/cart"]);
    }
    let plan = run(&site, &CrawlSettings::default()).await;
    let kept: Vec<&str> = plan
        .pages
        .iter()
        .filter(|p| p.template == "/product/{slug}")
        .map(|p| p.url.path())
        .collect();
    assert_eq!(kept.len(), 3, "{:?}", paths(&plan));
    assert!(
        paths(&plan).contains(&"/cart".to_string()),
        "a product's link is followed"
    );
    assert_eq!(plan.candidates, 502);
    assert_eq!(plan.skipped.over_per_template, 497);
    // The home page, then three products at level 1: not 40, not 500.
    assert_eq!(site.renders().len(), 4, "{:?}", site.renders());
}

#[tokio::test]
async fn listed_pages_are_kept_as_written_and_a_link_to_one_is_the_same_page() {
    let site = Site::default()
        .page("/", &["/landing", "/other"])
        .page("/landing?utm_source=mail", &["/"])
        .page("/other", &[]);
    let plan = run_listed(
        &site,
        &CrawlSettings::default(),
        &["/", "/landing?utm_source=mail", "/"],
    )
    .await;
    let urls: Vec<&str> = plan.pages.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        urls,
        [abs("/"), abs("/landing?utm_source=mail"), abs("/other")]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(plan.candidates, 3);
    assert_eq!(
        site.renders(),
        [abs("/"), abs("/landing?utm_source=mail"), abs("/other")]
    );
}

#[tokio::test]
async fn include_and_exclude() {
    let site = Site::default()
        .sitemap(
            "/sitemap.xml",
            &["/blog/a".into(), "/blog/b?preview=1".into(), "/shop".into()],
        )
        .page("/", &["/blog/c"]);
    let s = CrawlSettings {
        include: vec![PathPattern("/blog/*".into())],
        exclude: vec![PathPattern("*?preview=*".into())],
        ..CrawlSettings::default()
    };
    let plan = run(&site, &s).await;
    let got: BTreeSet<String> = paths(&plan).into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from(["/".into(), "/blog/a".into(), "/blog/c".into()]),
        "the listed page is kept though not included"
    );
    assert_eq!(plan.skipped.excluded, 2);
}

#[tokio::test]
async fn the_same_site_gives_the_same_sample_and_a_new_page_changes_only_its_template() {
    let build = |extra: Option<&str>| {
        let mut all = products(120);
        all.extend(
            [
                "/about",
                "/contact",
                "/blog/one-more-post",
                "/blog/second-post-here",
            ]
            .map(String::from),
        );
        if let Some(e) = extra {
            all.push(e.to_string());
        }
        Site::default()
            .sitemap("/sitemap.xml", &all)
            .page("/", &["/about"])
    };
    let s = CrawlSettings {
        max_pages: 8,
        ..CrawlSettings::default()
    };
    let one = run(&build(None), &s).await;
    let two = run(&build(None), &s).await;
    assert_eq!(one.pages, two.pages);
    assert_eq!(one.pages.len(), 8);
    // Add products until one sorts into the sample: only the product template changes,
    // by one page.
    let mut changed = None;
    for i in 1000..1100 {
        let extra = format!("/product/new-wool-sweater-{i}");
        let three = run(&build(Some(&extra)), &s).await;
        if three.pages != one.pages {
            changed = Some((extra, three));
            break;
        }
    }
    let (extra, three) = changed.expect("some new product sorts into the sample");
    let diff: Vec<(&str, &str)> = one
        .pages
        .iter()
        .zip(&three.pages)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.url.path(), b.url.path()))
        .collect();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(diff[0].1, extra);
    assert!(diff[0].0.starts_with("/product/"));
}

#[tokio::test]
async fn a_page_reachable_only_by_links_is_found() {
    let site = Site::default()
        .sitemap("/sitemap.xml", &["/shop".into(), "/about".into()])
        .page("/", &["/shop"])
        .page("/shop", &["/shop/hidden-offer"])
        .page("/shop/hidden-offer", &[]);
    let plan = run(&site, &CrawlSettings::default()).await;
    let hidden = plan
        .pages
        .iter()
        .find(|p| p.url.path() == "/shop/hidden-offer")
        .expect("the link-only page is in the plan");
    assert_eq!(
        hidden.found,
        Found::Link {
            from: Url::parse(&abs("/shop")).unwrap(),
            depth: 2
        }
    );
}

#[tokio::test]
async fn bounds_stop_discovery_and_say_so() {
    let site = Site::default()
        .file("/sitemap.xml", 200, "<sitemapindex><sitemap><loc>https://www.shop.test/s1.xml</loc></sitemap><sitemap><loc>https://www.shop.test/s2.xml</loc></sitemap></sitemapindex>")
        .sitemap("/s1.xml", &["/a".into()])
        .sitemap("/s2.xml", &["/b".into()])
        .page("/", &["/c"]);
    let base = Url::parse(BASE).unwrap();
    let listed = [base.clone()];
    let target = Target {
        base: &base,
        listed: &listed,
        first_party_domains: &[],
    };
    let limits = Limits {
        fetches: 3,
        ..Limits::default()
    };
    let plan = discover(
        target,
        &CrawlSettings::default(),
        &limits,
        &site,
        &site,
        &|| false,
    )
    .await;
    assert_eq!(plan.fetches, 3);
    assert_eq!(
        plan.skipped.stopped.as_deref(),
        Some("fetch limit of 3 requests reached")
    );
    assert_eq!(paths(&plan), ["/", "/a"]);
    assert!(site.renders().is_empty(), "nothing more once stopped");
    let plan = discover(
        target,
        &CrawlSettings::default(),
        &Limits::default(),
        &site,
        &site,
        &|| true,
    )
    .await;
    assert_eq!(plan.skipped.stopped.as_deref(), Some("interrupted"));
    assert_eq!(paths(&plan), ["/"]);
}

#[tokio::test]
async fn sitemap_problems_are_recorded_not_fatal() {
    let site = Site::default()
        .file(
            "/robots.txt",
            200,
            format!(
                "Sitemap: {}\nSitemap: https://elsewhere.test/s.xml\n",
                abs("/broken.xml")
            ),
        )
        .file(
            "/broken.xml",
            200,
            "<urlset><url><loc>https://www.shop.test/ok</loc></url><oops",
        )
        .file("/sitemap.xml", 500, "")
        .page("/", &[])
        .page("/ok", &[]);
    let plan = run(&site, &CrawlSettings::default()).await;
    assert_eq!(paths(&plan), ["/", "/ok"]);
    let errors: Vec<(&str, &str)> = plan
        .skipped
        .problems
        .iter()
        .map(|p| (p.url.as_str(), p.error.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].1.contains("malformed"));
    assert_eq!(errors[1], ("https://www.shop.test/sitemap.xml", "HTTP 500"));
    assert_eq!(plan.skipped.off_site, 1);
}
