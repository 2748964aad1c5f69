//! Host and domain helpers: the one place URLs become hosts and hosts become
//! registrable domains (eTLD+1, by the public suffix list).

/// Lower-case host of a URL the browser actually sent over the network
/// (`http`, `https`, `ws`, `wss`); `None` for `data:`, `blob:`, extensions, ...
pub fn network_host(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https" | "ws" | "wss") {
        return None;
    }
    u.host_str().map(normalise_host)
}

/// Lower-case host of any URL with a host; `None` otherwise.
pub fn url_host(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(normalise_host))
}

/// Path of a URL (`/` when it has none); `None` when it does not parse.
pub fn url_path(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|u| u.path().to_string())
}

/// A host as compared everywhere: lower case, without a trailing dot.
pub fn normalise_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Registrable domain (eTLD+1) of a host, by the public suffix list.
/// Unknown TLDs (such as `.test`) follow the list's default `*` rule; an IP address is
/// its own registrable domain.
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = normalise_host(host);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Some(host);
    }
    psl::domain_str(&host).map(|d| d.to_string())
}

/// Is `host` itself a public suffix (`com`, `co.uk`, `github.io`)?
pub fn is_public_suffix(host: &str) -> bool {
    let host = normalise_host(host);
    !host.is_empty() && registrable_domain(&host).is_none()
}

/// The URL without its query string and fragment (for messages and keys).
pub fn strip_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_string(),
    }
}

/// Cookie key as stored in the inventory: `name@domain`, domain lower-case, no leading dot.
pub fn cookie_key(name: &str, domain: &str) -> String {
    format!(
        "{name}@{}",
        domain.trim().trim_start_matches('.').to_ascii_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_psl() {
        assert_eq!(
            registrable_domain("www.demo-shop.test").as_deref(),
            Some("demo-shop.test")
        );
        assert_eq!(
            registrable_domain("a.b.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            registrable_domain("foo.github.io").as_deref(),
            Some("foo.github.io")
        );
        assert_eq!(
            registrable_domain("127.0.0.1").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            registrable_domain("WWW.Example.COM.").as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn public_suffixes() {
        assert!(is_public_suffix("com"));
        assert!(is_public_suffix("co.uk"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("127.0.0.1"));
    }

    #[test]
    fn hosts_only_for_network_schemes() {
        assert_eq!(
            network_host("https://WWW.Example.com./x?y").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(network_host("wss://a.b/"), Some("a.b".into()));
        assert_eq!(network_host("data:text/plain,hi"), None);
        assert_eq!(network_host("chrome-extension://abc/x.js"), None);
        assert_eq!(url_host("chrome-extension://abc/x.js"), Some("abc".into()));
        assert_eq!(url_path("https://a.b/c/d?e"), Some("/c/d".into()));
    }

    #[test]
    fn strips_queries() {
        assert_eq!(strip_query("https://a.b/c?d=1#e"), "https://a.b/c");
        assert_eq!(strip_query("not a url?x"), "not a url");
    }
}
