//! Breadth-first page discovery over what the caller can fetch and render.
//!
//! Order (docs/crawl.md#discovery): the listed pages; the base origin's robots.txt, its
//! `Sitemap:` lines and `/sitemap.xml` (indexes followed [`MAX_INDEX_NESTING`] deep,
//! gzip included); then links of rendered pages, breadth first: the listed pages (depth
//! 0) give the pages at depth 1, a sample of those (and of the sitemaps' pages) gives
//! depth 2, up to `max_depth`. Each level renders at most the sample it would keep
//! ([`sample`]: `per_template` per template, `max_pages` in all), so a level of 500
//! product pages renders three of them. Bounded by [`Limits`]: time, fetches, renders,
//! candidates; the bound that stopped discovery is recorded in the plan.
//!
//! Every discovered URL passes the same gate, in order: http(s) and the site's own
//! ([`SiteScope`]) else `off_site`; a page, not a file ([`is_file_link`]) else
//! `not_a_page`; seen before (the first finding stands, the link depth is the smallest);
//! `include` / `exclude` else `excluded`; robots.txt of its origin (when honoured) else
//! `robots`. Listed pages always pass.

use super::links::{links, SiteScope};
use super::plan::{sample, Candidate, CrawlPlan, Found, Problem, Skipped};
use super::robots::RobotsTxt;
use super::settings::{path_and_query, CrawlSettings};
use super::sitemap::{self, SitemapKind};
use super::template::{canonical, templates};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::time::{Duration, Instant};
use url::Url;

/// How deep sitemap indexes are followed (an index listing indexes listing sitemaps).
pub const MAX_INDEX_NESTING: u32 = 3;

/// A response to a GET (robots.txt, a sitemap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// GET a URL of the site (robots.txt, sitemaps). `Err` is a network failure, with why.
pub trait Fetch {
    fn fetch(&self, url: &Url) -> impl Future<Output = Result<Fetched, String>> + Send;
}

/// A page loaded and rendered: where it ended (after redirects) and its HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub url: Url,
    pub html: String,
}

/// Load a page and give its rendered HTML. `Err`: it could not be loaded, with why.
pub trait Render {
    fn render(&self, url: &Url) -> impl Future<Output = Result<Rendered, String>> + Send;
}

/// The site being discovered.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub base: &'a Url,
    /// The listed pages (`[site] pages`), absolute.
    pub listed: &'a [Url],
    /// Registrable domains that are the site's (the base URL's is added).
    pub first_party_domains: &'a [String],
}

/// Bounds of one site's discovery, beside the settings' page bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time for the whole discovery (checked between requests).
    pub time: Duration,
    /// robots.txt and sitemap requests.
    pub fetches: usize,
    /// Pages rendered for their links.
    pub renders: usize,
    /// Distinct candidate pages kept in memory.
    pub candidates: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(120),
            fetches: 64,
            renders: 60,
            candidates: 200_000,
        }
    }
}

/// The longest URL a page may have to be planned: the sitemaps protocol's limit (a page
/// names what it links to, and a hostile one could name megabytes).
pub const MAX_URL_BYTES: usize = 2048;

/// Does the URL name a file rather than a page (by the extension of its path)?
pub fn is_file_link(url: &Url) -> bool {
    const FILES: &[&str] = &[
        "7z", "avi", "avif", "bmp", "css", "csv", "dmg", "doc", "docx", "eot", "epub", "exe",
        "gif", "gz", "ico", "jpeg", "jpg", "js", "json", "m4a", "mov", "mp3", "mp4", "mpeg", "ogg",
        "otf", "pdf", "png", "ppt", "pptx", "rar", "rss", "svg", "tar", "tgz", "tif", "tiff",
        "ttf", "txt", "wav", "webm", "webp", "woff", "woff2", "xls", "xlsx", "xml", "zip",
    ];
    let last = url.path().rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => FILES.contains(&ext.to_ascii_lowercase().as_str()),
        _ => false,
    }
}

struct Entry {
    candidate: Candidate,
    in_sitemap: bool,
    listed: bool,
}

impl Entry {
    /// The breadth-first level it is rendered at: its link depth, sitemap pages at 1.
    fn level(&self) -> u32 {
        let sm = if self.in_sitemap { 1 } else { u32::MAX };
        self.candidate.link_depth.unwrap_or(u32::MAX).min(sm)
    }
}

struct Discovery<'a, F, R> {
    target: Target<'a>,
    settings: &'a CrawlSettings,
    limits: &'a Limits,
    fetcher: &'a F,
    renderer: &'a R,
    stop: &'a (dyn Fn() -> bool + Sync),
    started: Instant,
    scope: SiteScope,
    entries: Vec<Entry>,
    known: HashMap<String, usize>,
    /// URLs left out, so each is counted once.
    rejected: HashSet<String>,
    /// robots.txt by origin.
    robots: HashMap<String, RobotsTxt>,
    skipped: Skipped,
    fetches: usize,
    rendered: HashSet<String>,
}

/// Discover the pages of `target`: see the module's documentation. Never fails: what
/// could not be read is in the plan's `skipped.problems`. `stop` is asked between
/// requests (an interrupted discovery keeps what it found).
pub async fn discover<F: Fetch + Sync, R: Render + Sync>(
    target: Target<'_>,
    settings: &CrawlSettings,
    limits: &Limits,
    fetcher: &F,
    renderer: &R,
    stop: &(dyn Fn() -> bool + Sync),
) -> CrawlPlan {
    let mut d = Discovery {
        target,
        settings,
        limits,
        fetcher,
        renderer,
        stop,
        started: Instant::now(),
        scope: SiteScope::new(target.base, target.first_party_domains),
        entries: Vec::new(),
        known: HashMap::new(),
        rejected: HashSet::new(),
        robots: HashMap::new(),
        skipped: Skipped::default(),
        fetches: 0,
        rendered: HashSet::new(),
    };
    // The listed pages as written (duplicates once); a link to one is the same page.
    for url in target.listed {
        if d.known.contains_key(url.as_str()) {
            continue;
        }
        d.known.insert(url.to_string(), d.entries.len());
        d.known
            .entry(canonical(url).to_string())
            .or_insert(d.entries.len());
        d.entries.push(Entry {
            candidate: Candidate {
                url: url.clone(),
                found: Found::Listed,
                link_depth: Some(0),
            },
            in_sitemap: false,
            listed: true,
        });
    }
    // robots.txt of the base origin: its rules, and its sitemaps.
    let robots = d.robots_of(target.base).await;
    if settings.sitemaps && d.go_on() {
        d.sitemaps(robots.map(|r| r.sitemaps).unwrap_or_default())
            .await;
    }
    d.links().await;
    d.finish()
}

impl<F: Fetch + Sync, R: Render + Sync> Discovery<'_, F, R> {
    /// Is there time and leave to go on? Records the bound that stopped it.
    fn go_on(&mut self) -> bool {
        if self.skipped.stopped.is_some() {
            return false;
        }
        let why = if (self.stop)() {
            Some("interrupted".to_string())
        } else if self.started.elapsed() >= self.limits.time {
            Some(format!(
                "time limit of {}s reached",
                self.limits.time.as_secs()
            ))
        } else {
            None
        };
        self.skipped.stopped = why;
        self.skipped.stopped.is_none()
    }

    fn problem(&mut self, url: &Url, error: impl Into<String>) {
        self.skipped.problems.push(Problem {
            url: url.to_string(),
            error: error.into(),
        });
    }

    /// GET within the fetch budget; `None` when the budget or time is out.
    async fn get(&mut self, url: &Url) -> Option<Result<Fetched, String>> {
        if !self.go_on() {
            return None;
        }
        if self.fetches >= self.limits.fetches {
            self.skipped.stopped = Some(format!(
                "fetch limit of {} requests reached",
                self.limits.fetches
            ));
            return None;
        }
        self.fetches += 1;
        Some(self.fetcher.fetch(url).await)
    }

    /// robots.txt of `url`'s origin, fetched once (RFC 9309: a 4xx answer allows all; a
    /// 5xx, a network error or no answer within the bounds disallows all).
    async fn robots_of(&mut self, url: &Url) -> Option<RobotsTxt> {
        let origin = url.origin().ascii_serialization();
        if let Some(r) = self.robots.get(&origin) {
            return Some(r.clone());
        }
        let robots_url = url.join("/robots.txt").ok()?;
        let robots = match self.get(&robots_url).await {
            Some(Ok(f)) if (200..300).contains(&f.status) => RobotsTxt::parse(&f.body),
            Some(Ok(f)) if (400..500).contains(&f.status) => RobotsTxt::allow_all(),
            Some(Ok(f)) => {
                self.problem(
                    &robots_url,
                    format!(
                        "HTTP {}: every page of this origin is taken as disallowed",
                        f.status
                    ),
                );
                RobotsTxt::disallow_all()
            }
            Some(Err(e)) => {
                self.problem(
                    &robots_url,
                    format!("{e}: every page of this origin is taken as disallowed"),
                );
                RobotsTxt::disallow_all()
            }
            None => RobotsTxt::disallow_all(),
        };
        self.robots.insert(origin, robots.clone());
        Some(robots)
    }

    /// The gate every discovered URL passes (see the module's documentation).
    async fn consider(&mut self, url: &Url, found: Found, link_depth: Option<u32>) {
        let url = canonical(url);
        let key = url.as_str();
        if let Some(&i) = self.known.get(key) {
            let e = &mut self.entries[i];
            e.in_sitemap |= matches!(found, Found::Sitemap { .. });
            if let Some(d) = link_depth {
                let depth = e.candidate.link_depth.map_or(d, |old| old.min(d));
                e.candidate.link_depth = Some(depth);
            }
            return;
        }
        if self.rejected.contains(key) {
            return;
        }
        let reason = if !self.scope.contains(&url) {
            Some(&mut self.skipped.off_site)
        } else if url.as_str().len() > MAX_URL_BYTES {
            Some(&mut self.skipped.too_long)
        } else if is_file_link(&url) {
            Some(&mut self.skipped.not_a_page)
        } else if !self.settings.admits(&url) {
            Some(&mut self.skipped.excluded)
        } else {
            None
        };
        if let Some(count) = reason {
            *count += 1;
            self.rejected.insert(url.to_string());
            return;
        }
        if self.settings.honours_robots() {
            let allowed = match self.robots_of(&url).await {
                Some(r) => r.allowed(&path_and_query(&url)),
                None => false,
            };
            if !allowed {
                self.skipped.robots += 1;
                self.rejected.insert(url.to_string());
                return;
            }
        }
        if self.entries.len() >= self.limits.candidates {
            self.skipped.stopped.get_or_insert_with(|| {
                format!(
                    "candidate limit of {} pages reached",
                    self.limits.candidates
                )
            });
            return;
        }
        self.known.insert(url.to_string(), self.entries.len());
        self.entries.push(Entry {
            in_sitemap: matches!(found, Found::Sitemap { .. }),
            candidate: Candidate {
                url,
                found,
                link_depth,
            },
            listed: false,
        });
    }

    /// robots.txt's sitemaps, then `/sitemap.xml`, indexes followed breadth first.
    async fn sitemaps(&mut self, from_robots: Vec<String>) {
        let base = self.target.base;
        // (URL, nesting, guessed: /sitemap.xml, which may well not exist)
        let mut queue: VecDeque<(Url, u32, bool)> = VecDeque::new();
        let mut queued: HashSet<String> = HashSet::new();
        for s in from_robots {
            match base.join(&s) {
                Ok(u) if self.scope.contains(&u) => {
                    if queued.insert(u.to_string()) {
                        queue.push_back((u, 0, false));
                    }
                }
                Ok(_) => self.skipped.off_site += 1,
                Err(e) => self.problem(base, format!("robots.txt names the sitemap {s:?}: {e}")),
            }
        }
        if let Ok(u) = base.join("/sitemap.xml") {
            if queued.insert(u.to_string()) {
                queue.push_back((u, 0, true));
            }
        }
        while let Some((url, nesting, guessed)) = queue.pop_front() {
            let Some(answer) = self.get(&url).await else {
                return;
            };
            let body = match answer {
                Ok(f) if (200..300).contains(&f.status) => f.body,
                Ok(f) if guessed && matches!(f.status, 404 | 410) => continue,
                Ok(f) => {
                    self.problem(&url, format!("HTTP {}", f.status));
                    continue;
                }
                Err(e) => {
                    self.problem(&url, e);
                    continue;
                }
            };
            let map = sitemap::parse(&body);
            if let Some(p) = &map.problem {
                if !(guessed && map.kind.is_none()) {
                    self.problem(&url, p.clone());
                }
            }
            match map.kind {
                Some(SitemapKind::Index) if nesting >= MAX_INDEX_NESTING => {
                    self.problem(
                        &url,
                        format!("a sitemap index nested more than {MAX_INDEX_NESTING} deep: not followed"),
                    );
                }
                Some(SitemapKind::Index) => {
                    for loc in &map.locs {
                        match url.join(loc) {
                            Ok(u) if !self.scope.contains(&u) => self.skipped.off_site += 1,
                            Ok(u) => {
                                if queued.insert(u.to_string()) {
                                    queue.push_back((u, nesting + 1, false));
                                }
                            }
                            Err(_) => {}
                        }
                    }
                }
                Some(SitemapKind::UrlSet | SitemapKind::Text) => {
                    for loc in &map.locs {
                        let Ok(page) = Url::parse(loc) else {
                            continue;
                        };
                        let found = Found::Sitemap {
                            sitemap_url: url.clone(),
                        };
                        self.consider(&page, found, None).await;
                    }
                }
                None => {}
            }
        }
    }

    /// Links of rendered pages, level by level.
    async fn links(&mut self) {
        let mut frontier: Vec<Url> = self
            .entries
            .iter()
            .filter(|e| e.listed)
            .map(|e| e.candidate.url.clone())
            .collect();
        for level in 0..self.settings.max_depth {
            for page in frontier {
                if self.rendered.contains(page.as_str()) {
                    continue;
                }
                if !self.go_on() {
                    return;
                }
                if self.rendered.len() >= self.limits.renders {
                    self.skipped.stopped = Some(format!(
                        "render limit of {} pages reached",
                        self.limits.renders
                    ));
                    return;
                }
                self.rendered.insert(page.to_string());
                let r = match self.renderer.render(&page).await {
                    Ok(r) => r,
                    Err(e) => {
                        self.problem(&page, e);
                        continue;
                    }
                };
                if !self.scope.contains(&r.url) {
                    self.problem(&page, format!("redirected off the site, to {}", r.url));
                    continue;
                }
                let found = links(&r.html, &r.url, &self.scope);
                for off in found.off_site {
                    if self.rejected.insert(off.to_string()) {
                        self.skipped.off_site += 1;
                    }
                }
                for link in found.same_site {
                    let via = Found::Link {
                        from: r.url.clone(),
                        depth: level + 1,
                    };
                    self.consider(&link, via, Some(level + 1)).await;
                }
            }
            frontier = self.frontier(level + 1);
        }
    }

    /// The pages to render at `level`: the sample of that level's pages not rendered yet.
    fn frontier(&self, level: u32) -> Vec<Url> {
        let at: Vec<Candidate> = self
            .entries
            .iter()
            .filter(|e| !e.listed && e.level() == level)
            .filter(|e| !self.rendered.contains(e.candidate.url.as_str()))
            .map(|e| e.candidate.clone())
            .collect();
        let mut ignored = Skipped::default();
        sample(self.target.base, &[], &at, self.settings, &mut ignored)
            .into_iter()
            .map(|p| p.url)
            .collect()
    }

    fn finish(mut self) -> CrawlPlan {
        let listed: Vec<Url> = self
            .entries
            .iter()
            .filter(|e| e.listed)
            .map(|e| e.candidate.url.clone())
            .collect();
        let candidates: Vec<Candidate> = self
            .entries
            .iter()
            .filter(|e| !e.listed)
            .map(|e| e.candidate.clone())
            .collect();
        let all: Vec<Url> = self
            .entries
            .iter()
            .map(|e| e.candidate.url.clone())
            .collect();
        let distinct: BTreeSet<String> = templates(self.target.base, &all).into_iter().collect();
        let pages = sample(
            self.target.base,
            &listed,
            &candidates,
            self.settings,
            &mut self.skipped,
        );
        CrawlPlan {
            pages,
            skipped: self.skipped,
            candidates: all.len(),
            templates: distinct.len(),
            fetches: self.fetches,
            rendered: self.rendered.len(),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }
}
