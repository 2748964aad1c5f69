//! robots.txt (RFC 9309): which paths a crawler may fetch, and the sitemaps it names.
//!
//! - Lines are `key: value`, `#` starts a comment; keys are case-insensitive; malformed
//!   lines are ignored. Input past [`MAX_ROBOTS_BYTES`] (500 KiB, as Google reads) is
//!   ignored; invalid UTF-8 is read lossily. Parsing never fails.
//! - Groups: one or more `user-agent` lines, then rules. The group for `consentry` is
//!   used when there is one (all groups naming it, combined), else the `*` group(s),
//!   else no rules (everything allowed).
//! - `Allow` / `Disallow` match a prefix of the path and query, with `*` (any run) and a
//!   final `$` (end). The longest matching pattern wins; on a tie, `Allow` wins. An
//!   empty `Disallow` allows everything. `/robots.txt` itself is always allowed.
//! - `Sitemap:` lines are global (outside any group), absolute URLs.

use super::glob::matches_prefix;

/// The product token consentry's group is found by.
pub const USER_AGENT: &str = "consentry";

/// The most of a robots.txt that is read (RFC 9309 asks for at least 500 kibibytes).
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// The rules that apply to consentry, and the sitemaps named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RobotsTxt {
    /// `(allow, pattern)`, of the chosen group(s).
    rules: Vec<(bool, String)>,
    /// `Sitemap:` values, in file order, duplicates removed.
    pub sitemaps: Vec<String>,
}

#[derive(Default)]
struct Group {
    agents: Vec<String>,
    rules: Vec<(bool, String)>,
}

impl RobotsTxt {
    /// Everything allowed, no sitemap (no robots.txt: a 4xx answer).
    pub fn allow_all() -> Self {
        RobotsTxt::default()
    }

    /// Everything disallowed (robots.txt unreachable: a 5xx answer or a network error,
    /// RFC 9309 §2.3.1.4).
    pub fn disallow_all() -> Self {
        RobotsTxt {
            rules: vec![(false, "/".to_string())],
            sitemaps: Vec::new(),
        }
    }

    pub fn parse(bytes: &[u8]) -> Self {
        let bytes = &bytes[..bytes.len().min(MAX_ROBOTS_BYTES)];
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_start_matches('\u{feff}');
        let mut groups: Vec<Group> = Vec::new();
        let mut sitemaps: Vec<String> = Vec::new();
        // The group being read still takes user-agent lines (no rule seen yet).
        let mut open = false;
        for line in text.split(['\n', '\r']) {
            let line = line.split('#').next().unwrap_or("");
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !open {
                        groups.push(Group::default());
                        open = true;
                    }
                    if let Some(g) = groups.last_mut() {
                        // The product token: up to the first `/` or space, case-insensitive.
                        let token = value
                            .split(['/', ' ', '\t'])
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase();
                        g.agents.push(token);
                    }
                }
                "allow" | "disallow" => {
                    open = false;
                    let Some(g) = groups.last_mut() else {
                        continue; // a rule before any user-agent line belongs to no group
                    };
                    if value.is_empty() {
                        continue; // `Disallow:` allows everything; `Allow:` says nothing
                    }
                    g.rules.push((key == "allow", normalise_pattern(value)));
                }
                "sitemap" if !value.is_empty() && !sitemaps.iter().any(|s| s == value) => {
                    sitemaps.push(value.to_string());
                }
                _ => {
                    // Unknown keys (crawl-delay, host, ...) and repeated sitemaps end no
                    // group and say nothing.
                }
            }
        }
        let pick = |agent: &str| -> Vec<(bool, String)> {
            groups
                .iter()
                .filter(|g| g.agents.iter().any(|a| a == agent))
                .flat_map(|g| g.rules.iter().cloned())
                .collect()
        };
        let named = groups
            .iter()
            .any(|g| g.agents.iter().any(|a| a == USER_AGENT));
        let rules = if named { pick(USER_AGENT) } else { pick("*") };
        RobotsTxt { rules, sitemaps }
    }

    /// May `path_and_query` (`/a/b?c`) be crawled?
    pub fn allowed(&self, path_and_query: &str) -> bool {
        if path_and_query == "/robots.txt" {
            return true;
        }
        let target = normalise_pattern(path_and_query);
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if !matches_prefix(pattern, &target) {
                continue;
            }
            let len = pattern.len();
            best = match best {
                Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                _ => Some((len, *allow)),
            };
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Percent-escapes upper-cased, so `%2f` and `%2F` compare equal (RFC 9309 §2.2.2 compares
/// octets after decoding; upper-casing the escapes is enough for the common cases).
fn normalise_pattern(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            out.push('%');
            out.push(b[i + 1].to_ascii_uppercase() as char);
            out.push(b[i + 2].to_ascii_uppercase() as char);
            i += 3;
        } else {
            let c = p[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consentry_group_wins_over_star() {
        let r = RobotsTxt::parse(
            b"User-agent: *\nDisallow: /\n\nUser-agent: Consentry/1.0\nUser-agent: other\nDisallow: /private\n",
        );
        assert!(r.allowed("/shop"));
        assert!(!r.allowed("/private/x"));
        let star =
            RobotsTxt::parse(b"User-agent: *\nDisallow: /\n\nUser-agent: googlebot\nAllow: /\n");
        assert!(!star.allowed("/shop"));
        assert!(star.allowed("/robots.txt"));
    }

    #[test]
    fn groups_naming_consentry_are_combined() {
        let r = RobotsTxt::parse(
            b"user-agent: consentry\ndisallow: /a\nuser-agent: x\ndisallow: /x\n\nuser-agent: y\nuser-agent: CONSENTRY\ndisallow: /b\n",
        );
        assert!(
            !r.allowed("/a") && !r.allowed("/b"),
            "consecutive user-agent lines share a group"
        );
        assert!(
            r.allowed("/x"),
            "a user-agent line after a rule starts another group"
        );
        assert!(r.allowed("/c"));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let r = RobotsTxt::parse(
            b"User-agent: *\nDisallow: /shop\nAllow: /shop/public\nDisallow: /*.pdf$\nAllow: /same\nDisallow: /same\nDisallow:\n",
        );
        assert!(!r.allowed("/shop/cart"));
        assert!(r.allowed("/shop/public/1"));
        assert!(!r.allowed("/docs/a.pdf"));
        assert!(r.allowed("/docs/a.pdf?x=1"));
        assert!(r.allowed("/same"));
        assert!(r.allowed("/other"));
        assert!(!r.allowed("/shop?x"));
    }

    #[test]
    fn sitemaps_and_malformed_lines() {
        let r = RobotsTxt::parse(
            "\u{feff}garbage without colon\n::::\nDisallow: /before-any-agent\nSitemap: https://a.test/s1.xml\nsitemap:https://a.test/s2.xml # c\nSitemap: https://a.test/s1.xml\nUser-agent: *\nCrawl-delay: 5\nDisallow: /%7euser\n\u{0}\u{7f}: x\n"
                .as_bytes(),
        );
        assert_eq!(
            r.sitemaps,
            ["https://a.test/s1.xml", "https://a.test/s2.xml"]
        );
        assert!(r.allowed("/before-any-agent"));
        assert!(!r.allowed("/%7Euser/page"));
        assert!(RobotsTxt::parse(&[0xff, 0xfe, b'\n', 0x80]).allowed("/"));
        assert!(RobotsTxt::parse(b"").allowed("/"));
    }

    #[test]
    fn input_is_bounded() {
        let mut big = b"User-agent: *\n".to_vec();
        big.extend(std::iter::repeat_n(b'#', MAX_ROBOTS_BYTES));
        big.extend(b"\nDisallow: /\n");
        assert!(
            RobotsTxt::parse(&big).allowed("/x"),
            "the rule past 500 KiB is not read"
        );
        assert!(!RobotsTxt::disallow_all().allowed("/x"));
        assert!(RobotsTxt::allow_all().allowed("/x"));
    }
}
