//! Same-site links of a rendered page: `a[href]` and `area[href]`, resolved against the
//! document's `<base href>` (else the page's URL), fragments dropped, tracking keys
//! removed ([`super::template::canonical`]), `http(s)` only.

use super::template::canonical;
use scraper::{Html, Selector};
use url::Url;

/// Which hosts are the site's: the registrable domains (eTLD+1) of the base URL and of
/// the site's first-party domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteScope {
    domains: Vec<String>,
}

impl SiteScope {
    /// `domains`: registrable domains (the scenario's `first_party_domains`, which always
    /// hold the base URL's).
    pub fn new(base: &Url, domains: &[String]) -> Self {
        let mut all: Vec<String> = base
            .host_str()
            .and_then(crate::net::registrable_domain)
            .into_iter()
            .collect();
        for d in domains {
            let d = crate::net::normalise_host(d);
            if !all.contains(&d) {
                all.push(d);
            }
        }
        SiteScope { domains: all }
    }

    /// Is `url` an http(s) URL of one of the site's registrable domains?
    pub fn contains(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url
                .host_str()
                .and_then(crate::net::registrable_domain)
                .is_some_and(|d| self.domains.contains(&d))
    }
}

/// What the links of a page were.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageLinks {
    /// Same-site links, canonical, in document order, without duplicates.
    pub same_site: Vec<Url>,
    /// http(s) links to other sites, without duplicates.
    pub off_site: Vec<Url>,
}

/// Links of `html`, a page rendered at `page` (its URL after redirects).
pub fn links(html: &str, page: &Url, scope: &SiteScope) -> PageLinks {
    let doc = Html::parse_document(html);
    let base = Selector::parse("base[href]")
        .ok()
        .and_then(|s| {
            doc.select(&s)
                .next()
                .and_then(|e| e.value().attr("href"))
                .and_then(|h| page.join(h.trim()).ok())
        })
        .unwrap_or_else(|| page.clone());
    let mut out = PageLinks::default();
    let mut seen = std::collections::HashSet::new();
    let Ok(anchors) = Selector::parse("a[href], area[href]") else {
        return out;
    };
    for e in doc.select(&anchors) {
        let Some(href) = e.value().attr("href") else {
            continue;
        };
        let Ok(url) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        if !scope.contains(&url) {
            let url = canonical(&url);
            if seen.insert(url.to_string()) {
                out.off_site.push(url);
            }
            continue;
        }
        let url = canonical(&url);
        if seen.insert(url.to_string()) {
            out.same_site.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn same_site_links_resolved_and_cleaned() {
        let scope = SiteScope::new(&u("https://www.shop.test/"), &["shop-cdn.test".into()]);
        let html = r##"<html><body>
            <a href="/a#x">a</a> <a href="b?utm_source=n">b</a> <a href=" /a ">again</a>
            <a href="https://blog.shop.test/p">sub</a> <a href="https://shop-cdn.test/x">fp</a>
            <a href="https://other.test/">off</a> <a href="mailto:x@shop.test">m</a>
            <a href="javascript:void(0)">j</a> <a>no href</a> <a href="#top">top</a>
            <map><area href="/area" shape="rect"></map> <link href="/not-a-link">
        </body></html>"##;
        let l = links(html, &u("https://www.shop.test/dir/page"), &scope);
        let got: Vec<&str> = l.same_site.iter().map(Url::as_str).collect();
        assert_eq!(
            got,
            [
                "https://www.shop.test/a",
                "https://www.shop.test/dir/b",
                "https://blog.shop.test/p",
                "https://shop-cdn.test/x",
                "https://www.shop.test/dir/page",
                "https://www.shop.test/area",
            ]
        );
        assert_eq!(l.off_site, [u("https://other.test/")]);
    }

    #[test]
    fn base_href_is_honoured() {
        let scope = SiteScope::new(&u("https://a.test/"), &[]);
        let html = r#"<head><base href="/shop/"></head><a href="item">i</a>"#;
        let l = links(html, &u("https://a.test/x/y"), &scope);
        assert_eq!(l.same_site, [u("https://a.test/shop/item")]);
        let l = links("<a href=item>i</a>", &u("https://a.test/x/y"), &scope);
        assert_eq!(l.same_site, [u("https://a.test/x/item")]);
    }

    #[test]
    fn scope_is_by_registrable_domain() {
        let scope = SiteScope::new(&u("http://127.0.0.1:8080/"), &[]);
        assert!(scope.contains(&u("http://127.0.0.1:9/x")));
        assert!(!scope.contains(&u("http://127.0.0.2/x")));
        assert!(!scope.contains(&u("ftp://127.0.0.1/x")));
    }
}
