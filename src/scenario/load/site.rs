//! `[site]`: the site's name, URLs, first-party domains and policy path.

use super::PolicyRef;
use crate::policy::DomainPattern;
use crate::scenario::{registrable_domain, Site};
use crate::toml_check::{Checker, Table};
use std::path::Path;
use toml::Spanned;
use url::Url;

/// The ports Chromium refuses to connect to (`net::ERR_UNSAFE_PORT`), from its
/// `kRestrictedPorts` list (net/base/port_util.cc). A page on one of them cannot be
/// audited; port 0 is refused too.
pub const RESTRICTED_PORTS: [u16; 82] = [
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
    103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
    512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
    995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
    6669, 6679, 6697, 10080,
];

#[derive(Default)]
pub(super) struct SiteParts {
    pub(super) site: Option<Site>,
    /// Known even when other [site] values are wrong, to check URLs against.
    pub(super) base_url: Option<Url>,
    pub(super) policy: Option<PolicyRef>,
    pub(super) secrets: crate::secrets::Secrets,
    /// The variable names `secrets` lists (set or not).
    pub(super) secret_names: Vec<String>,
}

pub(super) fn check_site(ck: &mut Checker<'_>, path: &Path, t: &Table<'_, '_>) -> SiteParts {
    let name = ck
        .req_string(t, "name", "\"my-shop\"")
        .and_then(|n| non_empty(ck, n, "`name` in [site]"));
    let base_url = ck
        .req_string(t, "base_url", "\"https://www.example.com/\"")
        .and_then(|s| absolute_url(ck, &s));

    let pages = match (t.get("pages"), &base_url) {
        (None, Some(base)) => base.join("/").ok().into_iter().collect(),
        (None, None) => Vec::new(),
        (Some(v), base) => {
            let list = ck.strings(v, "`pages` in [site]").unwrap_or_default();
            if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
                ck.error(
                    &v.span(),
                    "`pages` in [site] is empty",
                    "list at least one page, or leave `pages` out to visit \"/\"",
                );
            }
            list.iter()
                .filter_map(|p| base.as_ref().and_then(|b| resolve_url(ck, p, b)))
                .collect()
        }
    };

    let mut first_party = Vec::new();
    if let Some(host) = base_url.as_ref().and_then(|u| u.host_str()) {
        first_party.push(registrable_domain(host).unwrap_or_else(|| host.to_ascii_lowercase()));
    }
    for d in ck.opt_strings(t, "first_party_domains").unwrap_or_default() {
        if let Some(domain) = first_party_domain(ck, &d) {
            if !first_party.contains(&domain) {
                first_party.push(domain);
            }
        }
    }

    let policy = ck
        .req_string(t, "policy", "\"my-shop.policy.toml\"")
        .and_then(|p| non_empty(ck, p, "`policy` in [site]"))
        .map(|p| {
            let (line, col) = ck.line_col(&p.span());
            let dir = path.parent().unwrap_or(Path::new(""));
            PolicyRef {
                path: dir.join(p.get_ref()),
                at: (path.to_path_buf(), line, col),
            }
        });

    let (secrets, secret_names) = check_secrets(ck, t);
    let crawl = t
        .get("crawl")
        .and_then(|v| super::crawl::check_crawl(ck, v, "`crawl` in [site]"));
    let site = match (name, &base_url) {
        (Some(name), Some(base)) => Some(Site {
            // The name labels every run, finding, file and progress line: a secret in it
            // is redacted here, once, so nothing downstream can print it.
            name: secrets.redact(&name.into_inner()).into_owned(),
            base_url: base.clone(),
            pages,
            first_party_domains: first_party,
            secrets: secrets.clone(),
            crawl: crawl.and_then(|c| c.settings()),
        }),
        _ => None,
    };
    SiteParts {
        site,
        base_url,
        policy,
        secrets,
        secret_names,
    }
}

/// `secrets = ["NAME", ...]`: environment variables whose values are never written
/// anywhere (docs/scenarios.md#secrets). Each must be a valid variable name; a set value
/// shorter than [`crate::secrets::MIN_SECRET_LEN`] cannot be redacted safely and is an
/// error (the message names the variable, never the value); an unset one is a warning.
fn check_secrets(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
) -> (crate::secrets::Secrets, Vec<String>) {
    let mut pairs = Vec::new();
    let mut names = Vec::new();
    let env = ck.env();
    for name in ck.opt_strings(t, "secrets").unwrap_or_default() {
        let n = name.get_ref();
        if !crate::toml_check::is_var_name(n) {
            ck.error(
                &name.span(),
                format!("{n:?} in `secrets` is not an environment variable name"),
                "use letters, digits and `_`, not starting with a digit (e.g. \"LOGIN_PASSWORD\")",
            );
            continue;
        }
        names.push(n.clone());
        match env.and_then(|e| e(n)) {
            None => ck.warning(
                &name.span(),
                format!("secret {n} is not set in the environment"),
                "set it before the audit, or remove it from `secrets`",
            ),
            Some(v) if v.chars().count() < crate::secrets::MIN_SECRET_LEN => ck.error(
                &name.span(),
                format!(
                    "the value of secret {n} is shorter than {} characters and cannot be redacted safely",
                    crate::secrets::MIN_SECRET_LEN
                ),
                "use a longer value, or do not list a value that is not secret",
            ),
            Some(v) => pairs.push((n.clone(), v)),
        }
    }
    (crate::secrets::Secrets::new(pairs), names)
}

/// A first-party domain, normalised to its registrable domain.
fn first_party_domain(ck: &mut Checker<'_>, d: &Spanned<String>) -> Option<String> {
    let Some(pattern) = DomainPattern::parse(d.get_ref()).filter(|p| !p.subdomains_only) else {
        ck.error(
            &d.span(),
            format!("invalid domain {:?}", d.get_ref()),
            "write a registrable domain such as example.com (no scheme, port, path or wildcard)",
        );
        return None;
    };
    let Some(registrable) = registrable_domain(&pattern.suffix) else {
        ck.error(
            &d.span(),
            format!(
                "`{}` is a public suffix, not a registrable domain",
                pattern.suffix
            ),
            "write the domain registered under it, such as example.co.uk",
        );
        return None;
    };
    if registrable != pattern.suffix {
        ck.warning(
            &d.span(),
            format!(
                "`{}` is not a registrable domain; `{registrable}` is used",
                pattern.suffix
            ),
            format!(
                "write \"{registrable}\": first party is decided by registrable domain (eTLD+1)"
            ),
        );
    }
    Some(registrable)
}

pub(super) fn non_empty(
    ck: &mut Checker<'_>,
    s: Spanned<String>,
    what: &str,
) -> Option<Spanned<String>> {
    if s.get_ref().trim().is_empty() {
        ck.error(&s.span(), format!("{what} is empty"), "give it a value");
        return None;
    }
    Some(s)
}

fn absolute_url(ck: &mut Checker<'_>, s: &Spanned<String>) -> Option<Url> {
    match Url::parse(s.get_ref()) {
        Ok(u) => http_only(ck, s, u),
        Err(e) => {
            ck.error(
                &s.span(),
                format!("invalid URL {:?}: {e}", s.get_ref()),
                "base_url must be an absolute http or https URL, such as https://www.example.com/",
            );
            None
        }
    }
}

/// A path or absolute URL, resolved against `base`.
pub(super) fn resolve_url(ck: &mut Checker<'_>, s: &Spanned<String>, base: &Url) -> Option<Url> {
    match base.join(s.get_ref()) {
        Ok(u) => http_only(ck, s, u),
        Err(e) => {
            ck.error(
                &s.span(),
                format!("invalid URL {:?}: {e}", s.get_ref()),
                "write a path such as /checkout (resolved against base_url) or an absolute http or https URL",
            );
            None
        }
    }
}

fn http_only(ck: &mut Checker<'_>, s: &Spanned<String>, u: Url) -> Option<Url> {
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(|h| h.is_empty()) {
        ck.error(
            &s.span(),
            format!("{:?} is not an http or https URL", s.get_ref()),
            "only http:// and https:// pages can be audited",
        );
        return None;
    }
    match u.port() {
        Some(0) => {
            ck.error(
                &s.span(),
                format!("{:?} has port 0", s.get_ref()),
                "give the port the site listens on, or leave it out for the scheme's default",
            );
            None
        }
        Some(port) if RESTRICTED_PORTS.contains(&port) => {
            ck.error(
                &s.span(),
                format!("{:?} uses port {port}, which Chromium refuses (ERR_UNSAFE_PORT)", s.get_ref()),
                "serve the site on another port (such as 8443 or 8080): Chromium never connects to its restricted ports",
            );
            None
        }
        _ => Some(u),
    }
}
