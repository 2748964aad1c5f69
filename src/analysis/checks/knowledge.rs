//! Knowledge against declarations (issue 20 item 4): what the vendor and cookie
//! knowledge bases ([`crate::knowledge`]) know of a declared vendor or cookie, where it
//! contradicts what the declared map says. The map stays the authority: these findings
//! are low or info, show both sides and name the source, and ask a human to look.
//!
//! - `vendor-known-purpose-mismatch`: a declared vendor known as advertising whose
//!   declared purposes include none that is advertising, or known as analytics and
//!   declared for strictly necessary purposes only.
//! - `cookie-retention-below-known`: a declared cookie whose typical retention in the
//!   Open Cookie Database (capped at Chromium's 400 days) exceeds its declared
//!   `max_retention` by more than the policy's tolerance and a tenth (the source's
//!   precision: it writes round units).
//!
//! Both are site-level (one per vendor or cookie rule per run), judged once every visit
//! is in, from the attribution's `known` fields: the knowledge was asked once per record.

use super::{
    human_secs, quoted_list, request_evidence, stored_evidence, vendor_label, Family, RunCtx,
    CHROMIUM_MAX_LIFETIME,
};
use crate::analysis::finding::Code;
use crate::analysis::sink::{Hit, Sink};
use crate::knowledge::Known;
use crate::policy::{Policy, Purpose, Retention, Vendor};

pub(crate) const FAMILY: Family = Family {
    name: "knowledge",
    codes: &[
        Code::VendorKnownPurposeMismatch,
        Code::CookieRetentionBelowKnown,
    ],
    visit: &[],
    run: &[vendor_known_purpose_mismatch, cookie_retention_below_known],
};

/// What a purpose, or a known category, is about, as far as these checks tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Advertising,
    Analytics,
    Necessary,
    Other,
}

/// What a declared purpose is about: strictly necessary first; then its TCF purpose
/// (2, 3, 4, 7: advertising; 8, 9: measurement); then `gpc_opt_out` (declared a sale or
/// sharing); then the words of its id and name.
pub(crate) fn purpose_kind(p: &Purpose) -> Kind {
    if p.strictly_necessary {
        return Kind::Necessary;
    }
    match p.tcf_purpose {
        Some(2 | 3 | 4 | 7) => return Kind::Advertising,
        Some(8 | 9) => return Kind::Analytics,
        Some(_) => return Kind::Other,
        None => {}
    }
    if p.gpc_opt_out {
        return Kind::Advertising;
    }
    let words = format!("{} {}", p.id, p.name).to_ascii_lowercase();
    let has = |stems: &[&str]| stems.iter().any(|s| words.contains(s));
    if has(&["advert", "marketing", "retarget", "targeting", "ads"]) {
        Kind::Advertising
    } else if has(&["analytic", "statistic", "measur", "audience"]) {
        Kind::Analytics
    } else {
        Kind::Other
    }
}

/// What a known category is about: third-party-web's `ad` and `analytics`, the Open
/// Cookie Database's `Marketing` and `Analytics`; anything else is not judged.
pub(crate) fn known_kind(k: &Known) -> Option<Kind> {
    match k.category.to_ascii_lowercase().as_str() {
        "ad" | "advertising" | "marketing" => Some(Kind::Advertising),
        "analytics" => Some(Kind::Analytics),
        _ => None,
    }
}

/// Does a vendor declared for purposes of `declared` kinds contradict a known `kind`?
pub(crate) fn contradicts(known: Kind, declared: &[Kind]) -> bool {
    match known {
        Kind::Advertising => !declared.contains(&Kind::Advertising),
        Kind::Analytics => !declared.is_empty() && declared.iter().all(|k| *k == Kind::Necessary),
        Kind::Necessary | Kind::Other => false,
    }
}

fn declared_kinds(policy: &Policy, v: &Vendor) -> Vec<Kind> {
    v.purposes
        .iter()
        .filter_map(|id| policy.purposes.iter().find(|p| &p.id == id))
        .map(purpose_kind)
        .collect()
}

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::Advertising => "advertising",
        Kind::Analytics => "analytics",
        Kind::Necessary => "strictly necessary",
        Kind::Other => "other",
    }
}

/// `vendor-known-purpose-mismatch`: per declared vendor, the first record whose known
/// category contradicts its declared purposes, with up to 5 pieces of evidence.
fn vendor_known_purpose_mismatch(ctx: &RunCtx, sink: &mut Sink) {
    for visit in ctx.visits {
        let requests = visit
            .requests
            .iter()
            .filter_map(|(req, at)| Some((at.vendor?, at.known.as_ref()?, Some(*req), None)));
        let cookies = visit
            .cookies
            .iter()
            .filter_map(|(c, at)| Some((at.vendor?, at.known.as_ref()?, None, Some(*c))));
        for (vendor, known, req, cookie) in requests.chain(cookies) {
            let Some(kind) = known_kind(known) else {
                continue;
            };
            let declared = declared_kinds(ctx.policy, vendor);
            if !contradicts(kind, &declared) {
                continue;
            }
            let purposes: Vec<String> = vendor
                .purposes
                .iter()
                .zip(&declared)
                .map(|(p, k)| format!("{p} ({})", kind_word(*k)))
                .collect();
            let detail = format!(
                "{}; declared purposes: {}",
                known.describe(),
                purposes.join(", ")
            );
            let mut evidence = match (req, cookie) {
                (Some(r), _) => request_evidence(visit.obs, r),
                (None, Some(c)) => stored_evidence(ctx.site, visit.obs, c, String::new()),
                (None, None) => continue,
            };
            evidence.detail = Some(match evidence.detail.take().filter(|d| !d.is_empty()) {
                Some(d) => format!("{d}; {detail}"),
                None => detail,
            });
            sink.push(Hit {
                code: Code::VendorKnownPurposeMismatch,
                scenario: None,
                subject: vendor.id.clone(),
                vendor: Some(vendor.id.clone()),
                message: format!(
                    "Declared vendor {} is known as {} ({}, category {} in {}), but its declared purposes ({}) say otherwise.",
                    vendor_label(vendor),
                    kind_word(kind),
                    known.name,
                    known.category,
                    known.source,
                    quoted_list(&vendor.purposes)
                ),
                rule: format!(
                    "vendor \"{}\" ({}) declares purposes {}",
                    vendor.id,
                    vendor.name,
                    quoted_list(&vendor.purposes)
                ),
                evidence,
            });
        }
    }
}

/// The Open Cookie Database gives typical retentions in round units (`13 months`, `1 year`,
/// `2 years`): a declaration within a tenth of one (390d against 400 days) is within the
/// data's precision and not reported.
const ROUND_UNITS_MARGIN: i64 = 10;

pub(crate) use crate::knowledge::typical_retention_secs as known_retention_secs;

/// `cookie-retention-below-known`: per declared cookie rule, a stored cookie whose known
/// typical retention (capped at Chromium's 400 days) is longer than the rule allows.
fn cookie_retention_below_known(ctx: &RunCtx, sink: &mut Sink) {
    let tolerance = ctx.policy.retention_tolerance_secs;
    for visit in ctx.visits {
        for (c, at) in &visit.cookies {
            let (Some(rule), Some(known)) = (at.rule, at.known.as_ref()) else {
                continue;
            };
            let Some(typical) = known.retention.as_deref() else {
                continue;
            };
            let Some(secs) = known_retention_secs(typical) else {
                continue;
            };
            let capped = secs.min(CHROMIUM_MAX_LIFETIME);
            let (allowed, declared) = match rule.max_retention {
                Retention::Session => (0, "session".to_string()),
                Retention::MaxSeconds(s) => (
                    s.saturating_add(tolerance)
                        .saturating_add(s / ROUND_UNITS_MARGIN),
                    human_secs(s),
                ),
            };
            if capped <= allowed {
                continue;
            }
            let cap = if secs > CHROMIUM_MAX_LIFETIME {
                format!(", {} in Chromium", human_secs(CHROMIUM_MAX_LIFETIME))
            } else {
                String::new()
            };
            let detail = format!(
                "declared max_retention {declared} (rule \"{}\" of vendor \"{}\"); typical retention {typical}{cap}: {}",
                rule.name,
                rule.vendor,
                known.describe()
            );
            sink.push(Hit {
                code: Code::CookieRetentionBelowKnown,
                scenario: None,
                subject: c.name.clone(),
                vendor: Some(rule.vendor.clone()),
                message: format!(
                    "Cookie {} is declared to live at most {declared}, but {} says it typically lives {typical}{cap}: the declaration may be too short.",
                    c.name, known.source
                ),
                rule: format!(
                    "cookie \"{}\" of vendor \"{}\" may live at most {declared}",
                    rule.name, rule.vendor
                ),
                evidence: stored_evidence(ctx.site, visit.obs, c, detail),
            });
        }
    }
}

#[cfg(test)]
#[path = "knowledge_tests.rs"]
mod tests;
