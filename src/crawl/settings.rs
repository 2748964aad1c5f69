//! What a site asks of page discovery (`[site] crawl = { ... }`, docs/crawl.md).
//!
//! Plain data: the scenario model holds an `Option<CrawlSettings>` (off unless asked),
//! so this file imports nothing of consentry (the crawl room stands on the floor of the
//! leaf helpers, docs/architecture.md).

use serde::{Deserialize, Serialize};

/// Page discovery for one site. Defaults: [`CrawlSettings::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlSettings {
    /// Pages in the plan at most, the listed pages included (they are always kept,
    /// even past this bound).
    pub max_pages: usize,
    /// Pages kept per URL template at most (the listed pages count towards it).
    pub per_template: usize,
    /// Link depth from the listed pages: links of the listed pages are at depth 1, links
    /// of those at depth 2. Pages at depth `max_depth` are kept but not rendered for
    /// more links.
    pub max_depth: u32,
    /// Read robots.txt's `Sitemap:` lines and `/sitemap.xml`.
    pub sitemaps: bool,
    /// When not empty, a discovered page is kept only if one pattern matches it.
    pub include: Vec<PathPattern>,
    /// A discovered page matching one of these is skipped (exclude wins over include).
    pub exclude: Vec<PathPattern>,
    pub robots: Robots,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            max_pages: 20,
            per_template: 3,
            max_depth: 2,
            sitemaps: true,
            include: Vec::new(),
            exclude: Vec::new(),
            robots: Robots::Honour,
        }
    }
}

/// Whether robots.txt's rules decide which discovered pages are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Robots {
    /// `Disallow` rules for `consentry` (else for `*`) skip the pages they match.
    Honour,
    /// robots.txt is read for its sitemaps only; the site owner says why.
    Ignore { reason: String },
}

/// A pattern over a URL's path and query: the path, then `?` and the query when there
/// is one (`/search?q=x`). `*` matches any run of characters, `/` and `?` included;
/// every other character is literal, and the pattern must match the whole path+query.
/// So `/blog/*` matches `/blog/a` and `/blog/a/b?page=2`, but not `/blog`; `*?preview=*`
/// matches any page with a `preview` query value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PathPattern(pub String);

impl PathPattern {
    pub fn matches(&self, url: &url::Url) -> bool {
        super::glob::matches_whole(&self.0, &path_and_query(url))
    }
}

/// The path of a URL, then `?` and its query when it has one.
pub fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

impl CrawlSettings {
    /// Is a discovered page kept by `include` and `exclude`?
    pub fn admits(&self, url: &url::Url) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(url)))
            && !self.exclude.iter().any(|p| p.matches(url))
    }

    /// robots.txt decides (it is honoured).
    pub fn honours_robots(&self) -> bool {
        matches!(self.robots, Robots::Honour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn defaults() {
        let d = CrawlSettings::default();
        assert_eq!((d.max_pages, d.per_template, d.max_depth), (20, 3, 2));
        assert!(d.sitemaps && d.honours_robots());
        assert!(d.admits(&u("https://a.test/anything?x=1")));
    }

    #[test]
    fn include_and_exclude_match_path_and_query() {
        let s = CrawlSettings {
            include: vec![PathPattern("/shop/*".into()), PathPattern("/".into())],
            exclude: vec![
                PathPattern("*?preview=*".into()),
                PathPattern("/shop/cart".into()),
            ],
            ..CrawlSettings::default()
        };
        assert!(s.admits(&u("https://a.test/")));
        assert!(s.admits(&u("https://a.test/shop/p/1")));
        assert!(!s.admits(&u("https://a.test/shop")));
        assert!(!s.admits(&u("https://a.test/blog/x")));
        assert!(!s.admits(&u("https://a.test/shop/p/1?preview=1")));
        assert!(!s.admits(&u("https://a.test/shop/cart")));
    }

    #[test]
    fn serialises_robots_as_documented() {
        let r = Robots::Ignore {
            reason: "our own staging".into(),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"ignore":{"reason":"our own staging"}}"#
        );
        assert_eq!(
            serde_json::to_string(&Robots::Honour).unwrap(),
            r#""honour""#
        );
    }
}
