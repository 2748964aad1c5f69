//! Checking `[[vendor]]` and `[[cookie]]` entries of a policy.

use super::load::{tcf_li_rule, TCF_LI_FORBIDDEN};
use crate::policy::{
    ConsentMode, CookieRule, DomainPattern, HostPattern, LegalBasis, MapIssue, MapIssueCode, Party,
    Retention, TcfDeclaration, Vendor,
};
use crate::toml_check::{Checker, Ids, Span, Table, DURATION_HINT};
use std::collections::HashMap;
use strum::VariantNames;
use toml::Spanned;

pub(crate) const VENDOR_KEYS: &[&str] = &[
    "id",
    "name",
    "domains",
    "hosts",
    "pages",
    "purposes",
    "consent_mode",
    "cmp_services",
    "tcf_vendor_id",
    "tcf_consent_purposes",
    "tcf_li_purposes",
    "tcf_special_purposes",
    "tcf_features",
    "tcf_special_features",
    "draft",
];
pub(crate) const COOKIE_KEYS: &[&str] = &[
    "name",
    "vendor",
    "max_retention",
    "domain",
    "party",
    "basis",
    "strictly_necessary",
    "draft",
];

/// State shared by the vendor checks of one file.
pub(crate) struct VendorChecks<'p> {
    pub(crate) ids: Ids,
    purpose_ids: &'p Ids,
    /// `domain x.com`, `domain *.x.com`, `host h/path` -> owning vendor and its span.
    owners: HashMap<String, (String, Span)>,
}

impl<'p> VendorChecks<'p> {
    pub(crate) fn new(purpose_ids: &'p Ids) -> Self {
        VendorChecks {
            ids: Ids::new("vendor id"),
            purpose_ids,
            owners: HashMap::new(),
        }
    }

    /// A pattern belongs to one vendor.
    fn claim(
        &mut self,
        ck: &mut Checker<'_>,
        kind: &str,
        key: String,
        owner: &str,
        at: &Spanned<String>,
    ) {
        // Domains and hosts are claimed apart: `x.com` as a domain (it and its
        // subdomains) and as an exact host may belong to different vendors.
        let slot = format!("{kind} {key}");
        if let Some((other, first)) = self.owners.get(&slot) {
            let line = ck.line(first);
            ck.error(
                &at.span(),
                format!("{kind} `{key}` is already claimed by vendor `{other}` (line {line})"),
                "a host must belong to one vendor; remove one of the two",
            );
        } else {
            self.owners.insert(slot, (owner.to_string(), at.span()));
        }
    }
}

const DOMAIN_HINT: &str = "write a host name such as example.com (it and its subdomains) or *.example.com (subdomains only), without scheme, port or path";

/// A registrable-domain pattern that is not a public suffix.
pub(crate) fn domain_pattern(ck: &mut Checker<'_>, d: &Spanned<String>) -> Option<DomainPattern> {
    match DomainPattern::parse_checked(d.get_ref()) {
        Err(why) => {
            ck.error(
                &d.span(),
                format!("invalid domain pattern `{}`: {why}", d.get_ref()),
                DOMAIN_HINT,
            );
            None
        }
        Ok(p) if p.is_public_suffix() => {
            ck.error(
                &d.span(),
                format!("`{}` is a public suffix, not a vendor's domain", p.suffix),
                "name the vendor's own registrable domain (example.co.uk, not co.uk), or an exact host in `hosts`",
            );
            None
        }
        Ok(p) => Some(p),
    }
}

/// A vendor and the span of its id.
pub(crate) fn check_vendor(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    vc: &mut VendorChecks<'_>,
    issues: &mut Vec<MapIssue>,
) -> Option<(Vendor, Span)> {
    let id = ck.req_id(t, "id", "google-analytics");
    if let Some(id) = &id {
        vc.ids.insert(ck, id);
    }
    let name = ck.opt_string(t, "name");
    let owner = id.as_ref().map(|i| i.get_ref().clone()).unwrap_or_default();

    let mut domains = Vec::new();
    for d in ck.opt_strings(t, "domains").unwrap_or_default() {
        if let Some(pattern) = domain_pattern(ck, &d) {
            vc.claim(ck, "domain", pattern.to_string(), &owner, &d);
            domains.push(pattern);
        }
    }
    let mut hosts = Vec::new();
    for h in ck.opt_strings(t, "hosts").unwrap_or_default() {
        match HostPattern::parse_checked(h.get_ref()) {
            Ok(pattern) => {
                vc.claim(ck, "host", pattern.to_string(), &owner, &h);
                hosts.push(pattern);
            }
            Err(why) => ck.error(
                &h.span(),
                format!("invalid host pattern `{}`: {why}", h.get_ref()),
                "write an exact host with an optional path prefix, as in \"maps.googleapis.com\" or \"www.google.com/recaptcha\"",
            ),
        }
    }
    let pages = check_pages(ck, t);

    let purposes = match t.get("purposes") {
        None => {
            ck.missing(t, "purposes", "[\"analytics\"]");
            Vec::new()
        }
        Some(v) => {
            let list = ck
                .strings(v, "`purposes` in [[vendor]]")
                .unwrap_or_default();
            if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
                ck.error(
                    &v.span(),
                    "a vendor must serve at least one purpose",
                    "list the ids of the [[purpose]] entries this vendor serves",
                );
            }
            for p in &list {
                vc.purpose_ids.check_ref(ck, p);
            }
            list.into_iter().map(Spanned::into_inner).collect()
        }
    };
    let consent_mode = ck.opt_string(t, "consent_mode").and_then(|s| {
        ck.one_of(&s, "consent_mode", <ConsentMode as VariantNames>::VARIANTS)
            .and_then(|m| m.parse::<ConsentMode>().ok())
    });
    let tcf = check_tcf(ck, t, &owner, issues);
    let cmp_services = check_cmp_services(ck, t);
    let draft = ck.opt_bool(t, "draft").unwrap_or(false);

    let id = id?;
    let span = id.span();
    let id = id.into_inner();
    Some((
        Vendor {
            name: name.map(Spanned::into_inner).unwrap_or_else(|| id.clone()),
            id,
            domains,
            hosts,
            pages,
            purposes,
            tcf,
            consent_mode,
            cmp_services,
            draft,
        },
        span,
    ))
}

/// `cmp_services`: the CMP's service or category names this vendor is; each non-empty,
/// none twice.
fn check_cmp_services(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> Vec<String> {
    let Some(v) = t.get("cmp_services") else {
        return Vec::new();
    };
    let list = ck
        .strings(v, "`cmp_services` in [[vendor]]")
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let name = s.get_ref().trim();
        if name.is_empty() {
            ck.error(
                &s.span(),
                "an empty name in `cmp_services`",
                "write the CMP's name of the service or category (Klaro's service `name`, a cookieconsent category such as \"analytics\")",
            );
        } else if out.iter().any(|o| o == name) {
            ck.error(
                &s.span(),
                format!("`{name}` is listed twice in `cmp_services`"),
                "list each CMP service or category once",
            );
        } else {
            out.push(name.to_string());
        }
    }
    out
}

/// `pages`: globs on the page path (default `["*"]`).
fn check_pages(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> Vec<String> {
    let Some(v) = t.get("pages") else {
        return vec!["*".to_string()];
    };
    let list = ck.strings(v, "`pages` in [[vendor]]").unwrap_or_default();
    if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
        ck.error(
            &v.span(),
            "`pages` in [[vendor]] is empty",
            "list the page paths where the vendor is embedded, or leave `pages` out for every page",
        );
    }
    let mut out = Vec::new();
    for p in list {
        let s = p.get_ref();
        if (s == "*" || s.starts_with('/')) && !s.chars().any(char::is_whitespace) {
            out.push(p.into_inner());
        } else {
            ck.error(
                &p.span(),
                format!("invalid page pattern {s:?}"),
                "write a path glob: \"/checkout\", \"/product/*\" (`*` matches any run of characters), or \"*\" for every page",
            );
        }
    }
    out
}

/// The `tcf_*` keys, when any is given.
fn check_tcf(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    owner: &str,
    issues: &mut Vec<MapIssue>,
) -> Option<TcfDeclaration> {
    if !VENDOR_KEYS
        .iter()
        .any(|k| k.starts_with("tcf_") && t.get(k).is_some())
    {
        return None;
    }
    let mut at = super::TcfAt::default();
    let vendor_id = ck.opt_int(t, "tcf_vendor_id").and_then(|n| {
        at.vendor_id = Some(ck.location(&n.span()));
        let id = u32::try_from(*n.get_ref())
            .ok()
            .filter(|i| (1..=65_535).contains(i));
        if id.is_none() {
            ck.error(
                &n.span(),
                format!("tcf_vendor_id {} is out of range", n.get_ref()),
                "TCF vendor ids are the Global Vendor List's, 1 to 65535",
            );
        }
        id
    });
    let list = |ck: &mut Checker<'_>, key: &str, max: i64, what: &str| {
        let Some(v) = t.get(key) else {
            return Vec::new();
        };
        let hint = format!("TCF 2.2 {what} are numbered 1 to {max}");
        ck.ints_in(v, &format!("`{key}` in [[vendor]]"), 1..=max, &hint)
            .unwrap_or_default()
    };
    let consent = list(ck, "tcf_consent_purposes", 11, "purposes");
    let li = list(ck, "tcf_li_purposes", 11, "purposes");
    let special_purposes = list(ck, "tcf_special_purposes", 3, "special purposes");
    let features = list(ck, "tcf_features", 3, "features");
    let special_features = list(ck, "tcf_special_features", 2, "special features");

    for n in &li {
        if consent.iter().any(|c| c.get_ref() == n.get_ref()) {
            ck.error(
                &n.span(),
                format!(
                    "TCF purpose {} is listed both for consent and for legitimate interest",
                    n.get_ref()
                ),
                "a vendor declares each purpose on one basis: remove it from one of the lists",
            );
        }
        if TCF_LI_FORBIDDEN.contains(n.get_ref()) && !owner.is_empty() {
            let message = format!(
                "vendor `{owner}` declares legitimate interest for TCF purpose {}, which TCF 2.2 does not permit",
                n.get_ref()
            );
            ck.warning(
                &n.span(),
                format!("map issue vendor-tcf-li-forbidden: {message}"),
                "TCF 2.2 allows legitimate interest only for purposes 2 and 7-11; the audit still runs and reports it",
            );
            issues.push(MapIssue {
                code: MapIssueCode::VendorTcfLiForbidden,
                subject: owner.to_string(),
                message: format!("{message}."),
                rule: tcf_li_rule(*n.get_ref()).to_string(),
                location: ck.location(&n.span()),
            });
        }
    }
    for (l, on_li) in [(&consent, false), (&li, true)] {
        for n in l {
            if let Ok(p) = u8::try_from(*n.get_ref()) {
                at.purposes.push((p, on_li, ck.location(&n.span())));
            }
        }
    }
    let bytes = |l: Vec<Spanned<i64>>| -> Vec<u8> {
        l.into_iter()
            .filter_map(|n| u8::try_from(n.into_inner()).ok())
            .collect()
    };
    Some(TcfDeclaration {
        vendor_id,
        consent_purposes: bytes(consent),
        li_purposes: bytes(li),
        special_purposes: bytes(special_purposes),
        features: bytes(features),
        special_features: bytes(special_features),
        at,
    })
}

pub(crate) fn check_cookie(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    keys: &mut Ids,
    vendor_ids: &Ids,
) -> Option<CookieRule> {
    let name = ck.req_string(t, "name", "\"_ga\"");
    let domain = ck
        .opt_string(t, "domain")
        .map(|d| (domain_pattern(ck, &d), d));
    if let Some(n) = &name {
        let bad = n.get_ref().is_empty()
            || n.get_ref()
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | '=' | ','));
        if bad {
            ck.error(
                &n.span(),
                format!("invalid cookie name pattern {:?}", n.get_ref()),
                "a cookie name has no spaces, `;`, `,` or `=`; use `*` for any run of characters, as in \"_ga_*\"",
            );
        } else {
            // Unique by name and domain.
            let key = match &domain {
                Some((Some(d), _)) => format!("{} on {d}", n.get_ref()),
                _ => n.get_ref().clone(),
            };
            keys.insert(ck, &Spanned::new(n.span(), key));
        }
    }
    let vendor = ck.req_string(t, "vendor", "\"google-analytics\"");
    if let Some(v) = &vendor {
        vendor_ids.check_ref(ck, v);
    }
    let retention = ck.req_string(t, "max_retention", "\"390d\"");
    let retention = retention.and_then(|r| {
        let parsed = Retention::parse(r.get_ref());
        if parsed.is_none() {
            ck.error(
                &r.span(),
                format!("invalid retention {:?}", r.get_ref()),
                format!("write \"session\" or a duration: {DURATION_HINT}"),
            );
        }
        parsed
    });
    let party = ck.opt_string(t, "party").map(|p| {
        ck.one_of(&p, "party", <Party as VariantNames>::VARIANTS)
            .and_then(|p| p.parse::<Party>().ok())
    });
    let basis = ck.opt_string(t, "basis").map(|b| {
        ck.one_of(&b, "legal basis", LegalBasis::ALL)
            .and_then(LegalBasis::parse)
    });
    let strictly_necessary = ck.opt_bool(t, "strictly_necessary");
    let draft = ck.opt_bool(t, "draft").unwrap_or(false);
    // Present but invalid fails the rule; absent is fine.
    let domain = match domain {
        None => None,
        Some((d, _)) => Some(d?),
    };
    Some(CookieRule {
        name: name?.into_inner(),
        vendor: vendor?.into_inner(),
        max_retention: retention?,
        domain,
        party: party.map_or(Some(None), |p| p.map(Some))?,
        basis: basis.map_or(Some(None), |b| b.map(Some))?,
        strictly_necessary,
        draft,
    })
}
