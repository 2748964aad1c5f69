//! Cookies: undeclared cookies, retention, and cookies set without consent.

use super::{
    choice_phrase, choice_str, human_secs, purposes_require, quoted_list, source_phrase,
    storage_evidence, stored_evidence, vendor_label, write_evidence, write_stores, Family,
    VisitCtx, CHROMIUM_MAX_LIFETIME, DAY,
};
use crate::analysis::finding::Code;
use crate::analysis::sink::{Hit, Sink};
use crate::attribution::{CookieAttribution, RetentionBasis, RetentionVerdict};
use crate::model::ConsentChoice;
use crate::model::ConsentState;
use crate::policy::{CookieRule, LegalBasis, Permission, Policy, Vendor};

pub(crate) const FAMILY: Family = Family {
    name: "cookies",
    codes: &[
        Code::UndeclaredCookie,
        Code::CookieRetentionExceeded,
        Code::ConsentCookieWithoutConsent,
        Code::LiCookieWithoutConsent,
    ],
    visit: &[
        undeclared_cookie,
        cookie_retention,
        consent_cookie_without_consent,
        li_cookie_without_consent,
    ],
    run: &[],
};

/// `undeclared-cookie`: a cookie written or stored whose name matches no cookie rule.
fn undeclared_cookie(ctx: &VisitCtx, sink: &mut Sink) {
    let rule = "every cookie must match a declared cookie rule".to_string();
    let obs = ctx.obs();
    {
        for (w, at) in ctx
            .visit
            .cookie_writes
            .iter()
            .filter(|(w, _)| write_stores(w))
        {
            if at.rule.is_some() {
                continue;
            }
            let phase = w.state.phase();
            let lifetime = match w.requested_lifetime_secs {
                Some(s) => format!("requested {}", human_secs(s)),
                None => "session".to_string(),
            };
            sink.push(Hit {
                code: Code::UndeclaredCookie,
                scenario: Some(obs.scenario.clone()),
                subject: w.name.clone(),
                vendor: None,
                message: format!(
                    "Cookie \"{}\" (domain {}), which matches no declared cookie, was written in scenario \"{}\" (phase {phase}).",
                    w.name, w.domain, obs.scenario
                ),
                rule: rule.clone(),
                evidence: super::with_known(
                    write_evidence(
                        obs,
                        w,
                        format!("written {} ({lifetime})", source_phrase(&w.source)),
                    ),
                    at.known.as_ref(),
                ),
            });
        }
        for (c, at) in &ctx.visit.cookies {
            if at.rule.is_some() {
                continue;
            }
            let phase = c.state.phase();
            sink.push(Hit {
                code: Code::UndeclaredCookie,
                scenario: Some(obs.scenario.clone()),
                subject: c.name.clone(),
                vendor: None,
                message: format!(
                    "Cookie \"{}\" (domain {}), which matches no declared cookie, was stored at the end of scenario \"{}\" (phase {phase}).",
                    c.name, c.domain, obs.scenario
                ),
                rule: rule.clone(),
                evidence: super::with_known(
                    stored_evidence(ctx.site, obs, c, "stored in the cookie jar".to_string()),
                    at.known.as_ref(),
                ),
            });
        }
    }
}

/// `cookie-retention-exceeded`: a cookie lives longer than its rule allows.
///
/// Judged per (scenario, cookie name, rule) by the attribution stage
/// ([`crate::attribution::RetentionVerdict`]: the lifetime the site asked for wins when
/// seen; otherwise the stored cookie's, with the policy's tolerance); one finding per
/// record that exceeds. The inventory reads the same verdicts.
fn cookie_retention(ctx: &VisitCtx, sink: &mut Sink) {
    for verdict in &ctx.visit.retention {
        retention_for(ctx, verdict, sink);
    }
}

fn retention_for(ctx: &VisitCtx, v: &RetentionVerdict, sink: &mut Sink) {
    let obs = ctx.obs();
    let (name, rule) = (v.name, v.rule);
    let tolerance = v.tolerance_secs;
    let max_stored = v.max_stored();
    let declared = rule.max_retention.describe();
    let vendor = ctx
        .policy
        .vendor(&rule.vendor)
        .map(vendor_label)
        .unwrap_or_else(|| format!("\"{}\"", rule.vendor));
    let rule_text = format!(
        "cookie \"{}\" (vendor \"{}\"): max_retention {declared}",
        rule.name, rule.vendor
    );
    let stored_text = match max_stored {
        Some(s) => format!("stored {}", human_secs(s)),
        None if v.stored_copies > 0 => "stored as session".to_string(),
        None => "not stored at the end".to_string(),
    };
    let message = |lifetime: i64, how: &str, phase: &str| {
        format!(
            "Cookie \"{name}\" of {vendor} lives {} ({how}) but its declared retention is {declared}, in scenario \"{}\" (phase {phase}).",
            human_secs(lifetime),
            obs.scenario
        )
    };

    match v.basis {
        RetentionBasis::Requested => {
            for &(w, lifetime, exceeds) in &v.writes {
                if !exceeds {
                    continue;
                }
                let mut detail = format!(
                    "requested {} {}; {stored_text}",
                    human_secs(lifetime),
                    source_phrase(&w.source)
                );
                if lifetime > CHROMIUM_MAX_LIFETIME
                    && max_stored.is_some_and(|s| s <= CHROMIUM_MAX_LIFETIME + DAY)
                {
                    detail.push_str(" (Chromium caps at 400d)");
                }
                detail.push_str(&format!("; declared max {declared}"));
                let phase = w.state.phase();
                sink.push(Hit {
                    code: Code::CookieRetentionExceeded,
                    scenario: Some(obs.scenario.clone()),
                    subject: name.to_string(),
                    vendor: Some(rule.vendor.clone()),
                    message: message(lifetime, "as requested by the site", &phase),
                    rule: rule_text.clone(),
                    evidence: write_evidence(obs, w, detail),
                });
            }
        }
        RetentionBasis::Stored => {
            for &(c, lifetime, exceeds) in &v.stored {
                if !exceeds {
                    continue;
                }
                let seen = match v.unparsed {
                    Some(raw) => format!(
                        "the site's Expires {:?} could not be parsed, so the stored lifetime is used",
                        crate::text::clip_for_evidence(raw)
                    ),
                    None => "no write with a lifetime was seen".to_string(),
                };
                let detail = format!(
                    "{seen}; stored {} (expires {}); declared max {declared} ({} tolerance)",
                    human_secs(lifetime),
                    c.expires.map(|e| e.to_rfc3339()).unwrap_or_default(),
                    human_secs(tolerance)
                );
                let phase = c.state.phase();
                sink.push(Hit {
                    code: Code::CookieRetentionExceeded,
                    scenario: Some(obs.scenario.clone()),
                    subject: name.to_string(),
                    vendor: Some(rule.vendor.clone()),
                    message: message(lifetime, "as stored by the browser", &phase),
                    rule: rule_text.clone(),
                    evidence: stored_evidence(ctx.site, obs, c, detail),
                });
            }
        }
    }
}

/// `consent-cookie-without-consent`: a cookie of a consent-based vendor written, or still
/// stored at the end, while consent was not granted.
fn consent_cookie_without_consent(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    {
        for (w, at) in ctx
            .visit
            .cookie_writes
            .iter()
            .filter(|(w, _)| write_stores(w))
        {
            let Some((vendor, purposes, choice)) = needs_consent(at) else {
                continue;
            };
            let phase = w.state.phase();
            sink.push(Hit {
                code: Code::ConsentCookieWithoutConsent,
                scenario: Some(obs.scenario.clone()),
                subject: w.name.clone(),
                vendor: Some(vendor.id.clone()),
                message: format!(
                    "Cookie \"{}\" of {} was written {} in scenario \"{}\" (phase {phase}).",
                    w.name,
                    vendor_label(vendor),
                    choice_phrase(choice),
                    obs.scenario
                ),
                rule: cookie_consent_rule(&w.name, vendor, &purposes),
                evidence: write_evidence(
                    obs,
                    w,
                    format!(
                        "written {}; consent {}",
                        source_phrase(&w.source),
                        choice_str(choice)
                    ),
                ),
            });
        }
        for (c, at) in &ctx.visit.cookies {
            let Some((vendor, purposes, choice)) = needs_consent(at) else {
                continue;
            };
            let phase = c.state.phase();
            sink.push(Hit {
                code: Code::ConsentCookieWithoutConsent,
                scenario: Some(obs.scenario.clone()),
                subject: c.name.clone(),
                vendor: Some(vendor.id.clone()),
                message: format!(
                    "Cookie \"{}\" of {} was still stored at the end of scenario \"{}\" (phase {phase}) without consent.",
                    c.name,
                    vendor_label(vendor),
                    obs.scenario
                ),
                rule: cookie_consent_rule(&c.name, vendor, &purposes),
                evidence: stored_evidence(
                    ctx.site,
                    obs,
                    c,
                    format!("stored at the end; consent {}", choice_str(choice)),
                ),
            });
        }
    }
}

fn needs_consent<'p>(
    at: &CookieAttribution<'p>,
) -> Option<(&'p Vendor, Vec<String>, ConsentChoice)> {
    let vendor = at.vendor?;
    match &at.permission {
        Some(Permission::NeedsConsent {
            purposes, choice, ..
        }) if *choice != ConsentChoice::Granted => Some((vendor, purposes.clone(), *choice)),
        _ => None,
    }
}

fn cookie_consent_rule(cookie: &str, vendor: &Vendor, purposes: &[String]) -> String {
    format!(
        "cookie \"{cookie}\" belongs to vendor \"{}\" ({}): {}",
        vendor.id,
        vendor.name,
        purposes_require(purposes, "requires consent", "require consent")
    )
}

/// `li-cookie-without-consent`: a cookie write (Set-Cookie or `document.cookie`) or a
/// `localStorage` / `sessionStorage` write of a vendor that relies on legitimate
/// interest, while consent was not granted. ePrivacy art. 5(3) asks consent for storing
/// information on the device whatever the GDPR basis; only strictly necessary storage is
/// exempt. Consent-based cookies are `consent-cookie-without-consent`; the jar at the end
/// is not judged again (the write is the act).
fn li_cookie_without_consent(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (w, at) in ctx
        .visit
        .cookie_writes
        .iter()
        .filter(|(w, _)| write_stores(w))
    {
        let Some(vendor) = at.vendor else { continue };
        let Some(purposes) = li_storage(ctx.policy, at.rule, vendor, &w.state, &at.permission)
        else {
            continue;
        };
        let phase = w.state.phase();
        sink.push(Hit {
            code: Code::LiCookieWithoutConsent,
            scenario: Some(obs.scenario.clone()),
            subject: w.name.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "Cookie \"{}\" of {}, which relies on legitimate interest, was written {} in scenario \"{}\" (phase {phase}).",
                w.name,
                vendor_label(vendor),
                choice_phrase(w.state.consent),
                obs.scenario
            ),
            rule: li_storage_rule(&format!("cookie \"{}\"", w.name), vendor, &purposes),
            evidence: write_evidence(
                obs,
                w,
                format!(
                    "written {}; consent {}",
                    source_phrase(&w.source),
                    choice_str(w.state.consent)
                ),
            ),
        });
    }
    for (w, at) in &ctx.visit.storage_writes {
        let Some(vendor) = at.vendor else { continue };
        let Some(purposes) = li_storage(ctx.policy, None, vendor, &w.state, &at.permission) else {
            continue;
        };
        let phase = w.state.phase();
        sink.push(Hit {
            code: Code::LiCookieWithoutConsent,
            scenario: Some(obs.scenario.clone()),
            subject: w.key.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{}Storage item \"{}\" of {}, which relies on legitimate interest, was written {} in scenario \"{}\" (phase {phase}).",
                w.area,
                w.key,
                vendor_label(vendor),
                choice_phrase(w.state.consent),
                obs.scenario
            ),
            rule: li_storage_rule(&format!("{}Storage item \"{}\"", w.area, w.key), vendor, &purposes),
            evidence: storage_evidence(
                obs,
                w,
                format!(
                    "{}Storage write by {}; consent {}",
                    w.area,
                    w.origin,
                    choice_str(w.state.consent)
                ),
            ),
        });
    }
}

/// The legitimate-interest purposes a storage write rests on, when consent was not
/// granted and nothing else covers it: `None` for strictly necessary storage (the
/// cookie's own flag, or any strictly necessary purpose of the vendor), contract and
/// legal obligation, and consent-based vendors (judged by `consent-cookie-without-consent`).
fn li_storage(
    policy: &Policy,
    rule: Option<&CookieRule>,
    vendor: &Vendor,
    state: &ConsentState,
    permission: &Option<Permission>,
) -> Option<Vec<String>> {
    if state.consent == ConsentChoice::Granted {
        return None;
    }
    if let Some(rule) = rule {
        if rule.strictly_necessary == Some(true) {
            return None;
        }
        match rule.basis {
            Some(LegalBasis::LegitimateInterest) => {
                return Some(vec![format!("cookie \"{}\" (its own basis)", rule.name)])
            }
            Some(_) => return None,
            None => {}
        }
    }
    let purposes: Vec<_> = vendor
        .purposes
        .iter()
        .filter_map(|id| policy.purpose(id))
        .collect();
    let exempt = |p: &&crate::policy::Purpose| {
        p.strictly_necessary
            || matches!(p.basis, LegalBasis::Contract | LegalBasis::LegalObligation)
    };
    if purposes.iter().any(exempt) {
        return None;
    }
    let li: Vec<String> = purposes
        .iter()
        .filter(|p| p.basis == LegalBasis::LegitimateInterest)
        .map(|p| p.id.clone())
        .collect();
    // A vendor that also has consent purposes is NeedsConsent once it objected; then the
    // consent check has it. Before any objection, its storage rests on LI: flagged here.
    let consent_check_has_it = matches!(permission, Some(Permission::NeedsConsent { .. }));
    (!li.is_empty() && !consent_check_has_it).then_some(li)
}

fn li_storage_rule(what: &str, vendor: &Vendor, purposes: &[String]) -> String {
    format!(
        "{what} belongs to vendor \"{}\" ({}), on legitimate interest ({}): ePrivacy art. 5(3) requires consent to store information on the device unless strictly necessary, whatever the GDPR basis",
        vendor.id,
        vendor.name,
        quoted_list(purposes)
    )
}
