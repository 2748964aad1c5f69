//! URL → template: which pages are "the same kind of page", so a sample takes a few of
//! each kind rather than 500 product pages.
//!
//! The rule (docs/crawl.md#templates), pure and deterministic over a set of URLs:
//! 1. **Path segments by shape.** A segment (a trailing `.html`-like extension set apart
//!    and kept) that is all digits becomes `{n}`; a UUID, a hex run of 8 or more with a
//!    digit, or a run of 6 or more letters and digits with both becomes `{id}`; words
//!    joined by `-` or `_` that are three or more (`blue-wool-sweater`), or that end in a
//!    number (`sweater-123`), become `{slug}`. Anything else stays as written.
//! 2. **Path segments by variance.** Below the first segment, a position where the URLs
//!    sharing the same (already templated) parent path have [`VARIANCE_MIN`] or more
//!    distinct literal values becomes `{slug}` for all of them: `/docs/install`,
//!    `/docs/config`, ... five of them make `/docs/{slug}`. If the wildcards at that
//!    position under that parent (with five or more distinct values of any kind) are
//!    then of more than one kind (`item9` folded to
//!    `{slug}` beside `item10`, an `{id}`), they all become `{slug}`. First segments are
//!    never folded by variance (`/about` and `/contact` are different pages).
//! 3. **Query strings.** Tracking keys ([`is_tracking_key`]: `utm_*`, `gclid`, `fbclid`,
//!    ...) are removed from the URL itself ([`canonical`]); the template keeps the other
//!    keys, sorted and de-duplicated, without their values: `/list?page=2&sort=a` is
//!    `/list?page&sort`.
//! 4. A URL on another host than the base URL's has its host before the path
//!    (`blog.example.com/{slug}`). The scheme and the port are not part of a template.

use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// Distinct literal values at one position, under one parent, that make it a wildcard.
pub const VARIANCE_MIN: usize = 5;

/// Query keys that only track a visit (removed from discovered URLs and templates).
pub fn is_tracking_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_")
        || matches!(
            k.as_str(),
            "gclid"
                | "gclsrc"
                | "dclid"
                | "gbraid"
                | "wbraid"
                | "fbclid"
                | "msclkid"
                | "yclid"
                | "twclid"
                | "ttclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "_hsenc"
                | "_hsmi"
                | "mkt_tok"
        )
}

/// A discovered URL as kept: no fragment, no tracking keys (the other keys in their
/// order), no empty `?`.
pub fn canonical(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_key(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let all = u.query_pairs().count();
        if kept.is_empty() {
            u.set_query(None);
        } else if kept.len() != all {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    u
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Wild(&'static str),
}

impl Token {
    fn show(&self) -> &str {
        match self {
            Token::Literal(s) => s,
            Token::Wild(w) => w,
        }
    }
}

/// One segment by its shape: the token of its stem, and its extension (kept as written).
fn by_shape(segment: &str) -> (Token, &str) {
    let (stem, ext) = split_extension(segment);
    let lower = stem.to_ascii_lowercase();
    let digits = lower.bytes().filter(u8::is_ascii_digit).count();
    let letters = lower.bytes().filter(u8::is_ascii_alphabetic).count();
    let alnum = !lower.is_empty() && digits + letters == lower.len();
    let hex = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
    let token = if !lower.is_empty() && digits == lower.len() {
        Token::Wild("{n}")
    } else if is_uuid(&lower)
        || (hex && lower.len() >= 8 && digits > 0)
        || (alnum && lower.len() >= 6 && digits > 0 && letters > 0)
    {
        Token::Wild("{id}")
    } else if is_slug(&lower) {
        Token::Wild("{slug}")
    } else {
        Token::Literal(stem.to_string())
    };
    (token, ext)
}

/// `name.html` → (`name`, `.html`): an extension of 1 to 5 letters or digits, not the
/// whole segment.
fn split_extension(segment: &str) -> (&str, &str) {
    match segment.rfind('.') {
        Some(i)
            if i > 0
                && (2..=6).contains(&(segment.len() - i))
                && segment[i + 1..].bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            (&segment[..i], &segment[i..])
        }
        _ => (segment, ""),
    }
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Words of letters and digits joined by `-` or `_`: three or more, or two ending in a
/// number.
fn is_slug(s: &str) -> bool {
    let words: Vec<&str> = s.split(['-', '_']).collect();
    let wordy = words
        .iter()
        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric()));
    let numbered = words
        .last()
        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()));
    wordy && (words.len() >= 3 || (words.len() == 2 && numbered))
}

/// A URL split for templating.
struct Parts {
    host: Option<String>,
    /// Each segment's token, its extension, and the segment as written.
    segments: Vec<(Token, String, String)>,
    trailing_slash: bool,
    query: String,
}

/// The templates of `urls`, in the same order; `base` decides which host is the site's
/// own (left out of the template).
pub fn templates(base: &Url, urls: &[Url]) -> Vec<String> {
    let base_host = base.host_str().map(str::to_ascii_lowercase);
    let mut parts: Vec<Parts> = urls
        .iter()
        .map(|u| {
            let host = u.host_str().map(str::to_ascii_lowercase);
            let path = u.path();
            let segments: Vec<(Token, String, String)> = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (t, ext) = by_shape(s);
                    (t, ext.to_string(), s.to_string())
                })
                .collect();
            Parts {
                host: (host != base_host).then_some(host).flatten(),
                trailing_slash: path.len() > 1 && path.ends_with('/'),
                segments,
                query: query_template(u),
            }
        })
        .collect();
    fold_by_variance(&mut parts);
    parts
        .iter()
        .map(|p| {
            let mut t = p.host.clone().unwrap_or_default();
            t.push('/');
            let segs: Vec<String> = p
                .segments
                .iter()
                .map(|(tok, ext, _)| format!("{}{ext}", tok.show()))
                .collect();
            t.push_str(&segs.join("/"));
            if p.trailing_slash {
                t.push('/');
            }
            t.push_str(&p.query);
            t
        })
        .collect()
}

/// Rule 2, position by position: parents are compared by their templated form so far.
fn fold_by_variance(parts: &mut [Parts]) {
    let deepest = parts.iter().map(|p| p.segments.len()).max().unwrap_or(0);
    for pos in 1..deepest {
        // Parent (host + templated segments before pos) → distinct literal values at pos.
        let mut values: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        let mut all: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for p in parts.iter().filter(|p| p.segments.len() > pos) {
            let raw = p.segments[pos].2.as_str();
            all.entry(parent_key(p, pos)).or_default().insert(raw);
            if let Token::Literal(_) = &p.segments[pos].0 {
                values.entry(parent_key(p, pos)).or_default().insert(raw);
            }
        }
        let values: BTreeMap<String, usize> =
            values.into_iter().map(|(k, v)| (k, v.len())).collect();
        let all: BTreeMap<String, usize> = all.into_iter().map(|(k, v)| (k, v.len())).collect();
        let mut kinds: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
        for p in parts.iter_mut().filter(|p| p.segments.len() > pos) {
            let key = parent_key(p, pos);
            if values.get(&key).is_some_and(|n| *n >= VARIANCE_MIN)
                && matches!(p.segments[pos].0, Token::Literal(_))
            {
                p.segments[pos].0 = Token::Wild("{slug}");
            }
            if let Token::Wild(w) = p.segments[pos].0 {
                kinds.entry(key).or_default().insert(w);
            }
        }
        for p in parts.iter_mut().filter(|p| p.segments.len() > pos) {
            let key = parent_key(p, pos);
            if kinds.get(&key).is_some_and(|k| k.len() > 1)
                && all.get(&key).is_some_and(|n| *n >= VARIANCE_MIN)
                && matches!(p.segments[pos].0, Token::Wild(_))
            {
                p.segments[pos].0 = Token::Wild("{slug}");
            }
        }
    }
}

fn parent_key(p: &Parts, pos: usize) -> String {
    let mut key = p.host.clone().unwrap_or_default();
    for (t, ext, _) in &p.segments[..pos] {
        key.push('/');
        key.push_str(t.show());
        key.push_str(ext);
    }
    key
}

/// `?a&b`: the non-tracking keys, sorted, de-duplicated; empty without any.
fn query_template(u: &Url) -> String {
    let keys: BTreeSet<String> = u
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .filter(|k| !is_tracking_key(k) && !k.is_empty())
        .collect();
    if keys.is_empty() {
        String::new()
    } else {
        format!("?{}", keys.into_iter().collect::<Vec<_>>().join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(urls: &[&str]) -> Vec<String> {
        let urls: Vec<Url> = urls.iter().map(|u| Url::parse(u).unwrap()).collect();
        templates(&Url::parse("https://www.a.test/").unwrap(), &urls)
    }

    #[test]
    fn segments_by_shape() {
        assert_eq!(
            t(&[
                "https://www.a.test/",
                "https://www.a.test/about",
                "https://www.a.test/p/123",
                "https://www.a.test/order/550e8400-e29b-41d4-a716-446655440000",
                "https://www.a.test/c/deadbeef12",
                "https://www.a.test/item/B07XYZ1234",
                "https://www.a.test/v2/page2",
                "https://www.a.test/p/blue-wool-sweater.html",
                "https://www.a.test/p/sweater-123/",
                "https://www.a.test/about-us",
                "https://www.a.test/blog/2024/05/x",
            ]),
            [
                "/",
                "/about",
                "/p/{n}",
                "/order/{id}",
                "/c/{id}",
                "/item/{id}",
                "/v2/page2",
                "/p/{slug}.html",
                "/p/{slug}/",
                "/about-us",
                "/blog/{n}/{n}/x",
            ]
        );
    }

    #[test]
    fn siblings_that_vary_become_wildcards_below_the_first_segment() {
        let mut urls: Vec<String> = ["install", "config", "api", "faq", "cli"]
            .iter()
            .map(|s| format!("https://www.a.test/docs/{s}"))
            .collect();
        urls.extend(
            ["about", "contact", "shop", "blog", "jobs"].map(|s| format!("https://www.a.test/{s}")),
        );
        urls.push("https://www.a.test/shop/women".into());
        let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
        let got = t(&refs);
        assert!(got[..5].iter().all(|g| g == "/docs/{slug}"), "{got:?}");
        assert_eq!(
            got[5..10],
            ["/about", "/contact", "/shop", "/blog", "/jobs"]
        );
        assert_eq!(
            got[10], "/shop/women",
            "four siblings or fewer stay as written"
        );
        // Four docs pages are not enough.
        assert_eq!(t(&refs[..4])[0], "/docs/install");
    }

    #[test]
    fn queries_keep_sorted_keys_without_values_or_trackers() {
        assert_eq!(
            t(&[
                "https://www.a.test/list?sort=a&page=2&page=3",
                "https://www.a.test/list?utm_source=x&gclid=1",
                "https://blog.a.test/post/my-first-post?fbclid=9",
            ]),
            ["/list?page&sort", "/list", "blog.a.test/post/{slug}"]
        );
        let u = Url::parse("https://a.test/x?utm_medium=m&id=4&fbclid=z#top").unwrap();
        assert_eq!(canonical(&u).as_str(), "https://a.test/x?id=4");
        let u = Url::parse("https://a.test/x?utm_medium=m#top").unwrap();
        assert_eq!(canonical(&u).as_str(), "https://a.test/x");
    }

    #[test]
    fn five_hundred_products_are_one_template() {
        let urls: Vec<String> = (0..500)
            .map(|i| {
                format!(
                    "https://www.a.test/product/{}",
                    ["red", "blue", "green"][i % 3].to_string() + &format!("-item-{i}")
                )
            })
            .chain((0..500).map(|i| format!("https://www.a.test/shop/item{i}")))
            .collect();
        let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
        let got: BTreeSet<String> = t(&refs).into_iter().collect();
        assert_eq!(
            got,
            BTreeSet::from(["/product/{slug}".to_string(), "/shop/{slug}".to_string()])
        );
    }
}
