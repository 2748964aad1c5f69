//! Host, domain, cookie-name and page patterns of the policy.

use serde::Serialize;

/// Why a DNS name is not valid, in words for a hint.
pub fn dns_name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".to_string());
    }
    if name.len() > 253 {
        return Some(format!(
            "a DNS name is at most 253 characters (this one has {})",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("a DNS name has no empty labels (`..`, or a leading dot)".to_string());
        }
        if label.len() > 63 {
            return Some(format!("the label `{label}` is longer than 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some(format!(
                "the label `{label}` may use only letters, digits and `-` (write international names in their xn-- form)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!(
                "the label `{label}` must not start or end with `-`"
            ));
        }
    }
    None
}

/// Lower-case, without a trailing dot.
fn normalise(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// A registrable-domain pattern. `example.com` matches `example.com` and every
/// subdomain; `*.example.com` matches subdomains only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DomainPattern {
    pub suffix: String,
    pub subdomains_only: bool,
}

impl DomainPattern {
    /// Parse a pattern; `None` when it is not a valid DNS name (see [`dns_name_error`]).
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_checked(s).ok()
    }

    /// Parse a pattern, or say why it is not one.
    pub fn parse_checked(s: &str) -> Result<Self, String> {
        if s.contains("://") {
            return Err("write the domain without a scheme".to_string());
        }
        if s.contains('/') {
            return Err(
                "write the domain without a path (put host/path patterns in `hosts`)".to_string(),
            );
        }
        if s.contains(':') {
            return Err("write the domain without a port".to_string());
        }
        let s = normalise(s);
        let (suffix, subdomains_only) = match s.strip_prefix("*.") {
            Some(rest) => (rest.to_string(), true),
            None => (s, false),
        };
        match dns_name_error(&suffix) {
            Some(e) => Err(e),
            None => Ok(DomainPattern {
                suffix,
                subdomains_only,
            }),
        }
    }

    /// Is the pattern's domain a public suffix (`com`, `co.uk`, `github.io`)?
    pub fn is_public_suffix(&self) -> bool {
        crate::net::is_public_suffix(&self.suffix)
    }

    /// Does this pattern match `host` (already lower-case)? Returns the matched suffix
    /// length so the most specific pattern can win.
    pub fn matches(&self, host: &str) -> Option<usize> {
        let host = host.trim_end_matches('.');
        if host == self.suffix {
            return (!self.subdomains_only).then_some(self.suffix.len());
        }
        let dotted = host.strip_suffix(self.suffix.as_str())?;
        dotted.ends_with('.').then_some(self.suffix.len())
    }
}

impl std::fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.subdomains_only {
            write!(f, "*.{}", self.suffix)
        } else {
            f.write_str(&self.suffix)
        }
    }
}

/// An exact-host pattern with an optional path prefix: `maps.googleapis.com` (that
/// host, any path) or `www.google.com/recaptcha` (that host, paths `/recaptcha` and
/// `/recaptcha/...`, not `/recaptcha2`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HostPattern {
    /// Lower-case host, no trailing dot.
    pub host: String,
    /// Path prefix without a trailing `/`, as `/recaptcha`; empty for any path.
    pub path_prefix: String,
}

impl HostPattern {
    /// Parse `host` or `host/path`, or say why it is not a host pattern.
    pub fn parse_checked(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.contains("://") {
            return Err("write the host without a scheme".to_string());
        }
        let (host, path) = match s.find('/') {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        if host.contains(':') {
            return Err("write the host without a port".to_string());
        }
        if host.starts_with("*.") {
            return Err("`hosts` are exact hosts; put wildcard patterns in `domains`".to_string());
        }
        let host = normalise(host);
        if let Some(e) = dns_name_error(&host) {
            return Err(e);
        }
        if path.contains(['?', '#', '*']) || path.chars().any(char::is_whitespace) {
            return Err(
                "the path is a plain prefix: no query, fragment, `*` or spaces".to_string(),
            );
        }
        Ok(HostPattern {
            host,
            path_prefix: path.trim_end_matches('/').to_string(),
        })
    }

    /// Does the pattern's path prefix cover `path` (segment-aligned)?
    pub fn covers_path(&self, path: &str) -> bool {
        if self.path_prefix.is_empty() {
            return true;
        }
        match path.strip_prefix(self.path_prefix.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with(['/', '?', '#']),
            None => false,
        }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.host, self.path_prefix)
    }
}

/// `*`-only glob match (no other metacharacters).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = rest.get(pos + part.len()..).unwrap_or_default(),
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_patterns() {
        let p = DomainPattern::parse("Example.COM").unwrap();
        assert!(p.matches("example.com").is_some());
        assert!(p.matches("a.b.example.com").is_some());
        assert!(p.matches("badexample.com").is_none());
        let s = DomainPattern::parse("*.example.com").unwrap();
        assert!(s.matches("example.com").is_none());
        assert!(s.matches("www.example.com").is_some());
        assert!(DomainPattern::parse("bad host").is_none());
        assert!(DomainPattern::parse("").is_none());
        assert!(DomainPattern::parse("-a.com").is_none());
        assert!(DomainPattern::parse("a_b.com").is_none());
        assert!(DomainPattern::parse(&format!("{}.com", "a".repeat(64))).is_none());
        assert!(DomainPattern::parse(&format!("{}.com", "a".repeat(63))).is_some());
        assert!(DomainPattern::parse(&["abc"; 64].join(".")).is_none());
        assert!(DomainPattern::parse("co.uk").unwrap().is_public_suffix());
        assert!(DomainPattern::parse("*.github.io")
            .unwrap()
            .is_public_suffix());
        assert!(!DomainPattern::parse("demo-shop.test")
            .unwrap()
            .is_public_suffix());
    }

    #[test]
    fn host_patterns() {
        let p = HostPattern::parse_checked("WWW.Google.com/recaptcha/").unwrap();
        assert_eq!(p.to_string(), "www.google.com/recaptcha");
        assert!(p.covers_path("/recaptcha"));
        assert!(p.covers_path("/recaptcha/api2/anchor"));
        assert!(!p.covers_path("/recaptcha2"));
        assert!(!p.covers_path("/"));
        let any = HostPattern::parse_checked("maps.googleapis.com").unwrap();
        assert!(any.covers_path("/anything"));
        for bad in [
            "https://x.com/a",
            "x.com:443/a",
            "*.x.com",
            "x.com/a?b",
            "bad host",
        ] {
            assert!(HostPattern::parse_checked(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("_ga_*", "_ga_ABC"));
        assert!(!glob_match("_ga_*", "_ga"));
        assert!(glob_match("*id*", "session_id_x"));
        assert!(glob_match("exact", "exact"));
        assert!(glob_match("/product/*", "/product/a/b"));
        assert!(!glob_match("/product/*", "/products"));
    }
}
