//! The rules: one function per finding code (or per closely related pair), each pushing
//! [`Hit`]s into the [`Sink`]. Every rule is documented in docs/findings.md.

use super::finding::{Code, Evidence};
use super::sink::{Hit, Sink};
use crate::observe::{
    ConsentChoice, CookieSource, CookieWrite, RequestObs, StoredCookie, VisitObservation,
    VisitStatus,
};
use crate::policy::{describe_secs, CookieRule, Permission, Policy, Retention, Vendor};
use crate::scenario::{registrable_domain, Site};

/// Everything a rule may look at.
pub(crate) struct Ctx<'a> {
    pub site: &'a Site,
    pub policy: &'a Policy,
    pub observations: &'a [VisitObservation],
}

const DAY: i64 = 86_400;
/// Chromium caps cookie lifetimes at 400 days.
const CHROMIUM_MAX_LIFETIME: i64 = 400 * DAY;

// ---------------------------------------------------------------------------------------
// helpers

/// Lower-case host of a URL the browser actually sent over the network
/// (`http`, `https`, `ws`, `wss`); `None` for `data:`, `blob:`, extensions, ...
pub(crate) fn network_host(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https" | "ws" | "wss") {
        return None;
    }
    u.host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

fn vendor_label(v: &Vendor) -> String {
    format!("{} (\"{}\")", v.name, v.id)
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `purpose "advertising" requires consent` / `purposes "a", "b" require consent`.
fn purposes_require(purposes: &[String], what: &str, what_plural: &str) -> String {
    if purposes.len() == 1 {
        format!("purpose {} {what}", quoted_list(purposes))
    } else {
        format!("purposes {} {what_plural}", quoted_list(purposes))
    }
}

fn request_detail(req: &RequestObs) -> String {
    let mut d = format!("{} {}", req.method, req.resource_type);
    match (&req.status, &req.error) {
        (_, Some(e)) => d.push_str(&format!(", failed: {e}")),
        (Some(s), None) => d.push_str(&format!(", status {s}")),
        (None, None) => d.push_str(", no response"),
    }
    if let Some(i) = &req.initiator {
        d.push_str(&format!(", initiator {i}"));
    }
    d
}

fn request_evidence(obs: &VisitObservation, req: &RequestObs) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: req.page.clone(),
        request_url: Some(req.url.clone()),
        cookie: None,
        time: req.time,
        phase: req.state.phase(),
        detail: Some(request_detail(req)),
    }
}

fn write_evidence(obs: &VisitObservation, w: &CookieWrite, detail: String) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: w.page.clone(),
        request_url: match &w.source {
            CookieSource::Header { request_url } => Some(request_url.clone()),
            CookieSource::Script { .. } => None,
        },
        cookie: Some(format!("{}@{}", w.name, w.domain)),
        time: w.time,
        phase: w.state.phase(),
        detail: Some(detail),
    }
}

fn stored_evidence(
    site: &Site,
    obs: &VisitObservation,
    c: &StoredCookie,
    detail: String,
) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: last_page_or_site(obs, site),
        request_url: None,
        cookie: Some(format!("{}@{}", c.name, c.domain)),
        time: c.observed_at,
        phase: c.state.phase(),
        detail: Some(detail),
    }
}

fn source_phrase(source: &CookieSource) -> &'static str {
    match source {
        CookieSource::Header { .. } => "via Set-Cookie header",
        CookieSource::Script { .. } => "via document.cookie",
    }
}

/// A write that stores something: accepted by the browser and not a deletion.
fn write_stores(w: &CookieWrite) -> bool {
    w.blocked_reasons.is_empty() && w.requested_lifetime_secs.is_none_or(|s| s > 0)
}

fn stored_lifetime(c: &StoredCookie) -> Option<i64> {
    c.expires.map(|e| (e - c.observed_at).num_seconds())
}

/// `730d`, `12h`; values that are not a whole number of minutes are rounded (`~400d`).
pub(crate) fn human_secs(s: i64) -> String {
    if s % 60 == 0 || s.abs() < 60 {
        describe_secs(s)
    } else if s.abs() >= DAY {
        format!("~{}d", (s + DAY / 2).div_euclid(DAY))
    } else if s.abs() >= 3600 {
        format!("~{}h", (s + 1800).div_euclid(3600))
    } else {
        format!("~{}m", (s + 30).div_euclid(60))
    }
}

/// The top-level page the visit was last seen on (for findings about the whole visit).
pub(crate) fn last_page(obs: &VisitObservation) -> String {
    let req = obs.requests.iter().map(|r| (r.time, &r.page));
    let writes = obs.cookie_writes.iter().map(|w| (w.time, &w.page));
    req.chain(writes)
        .filter(|(_, p)| !p.is_empty())
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p.clone())
        .unwrap_or_default()
}

fn last_page_or_site(obs: &VisitObservation, site: &Site) -> String {
    let p = last_page(obs);
    if p.is_empty() {
        site.pages
            .first()
            .unwrap_or(&site.base_url)
            .as_str()
            .to_string()
    } else {
        p
    }
}

fn choice_phrase(choice: ConsentChoice) -> &'static str {
    match choice {
        ConsentChoice::Undecided => "before the visitor made a consent choice",
        ConsentChoice::Denied => "after the visitor rejected",
        ConsentChoice::Granted => "although consent was granted",
    }
}

fn choice_str(choice: ConsentChoice) -> &'static str {
    match choice {
        ConsentChoice::Undecided => "undecided",
        ConsentChoice::Granted => "granted",
        ConsentChoice::Denied => "denied",
    }
}

// ---------------------------------------------------------------------------------------
// requests

/// `consent-vendor-before-choice` and `consent-vendor-after-reject`: a request to a
/// consent-based vendor while consent was not granted.
pub(crate) fn consent_vendor_requests(ctx: &Ctx, sink: &mut Sink) {
    for obs in ctx.observations {
        for req in &obs.requests {
            let Some(host) = network_host(&req.url) else {
                continue;
            };
            let Some(vendor) = ctx.policy.vendor_for_host(&host) else {
                continue;
            };
            let Permission::NeedsConsent { purposes, choice } =
                ctx.policy.permission(vendor, &req.state)
            else {
                continue;
            };
            let code = match choice {
                ConsentChoice::Undecided => Code::ConsentVendorBeforeChoice,
                ConsentChoice::Denied => Code::ConsentVendorAfterReject,
                // Unreachable through Policy::permission (granted consent allows).
                ConsentChoice::Granted => continue,
            };
            let phase = req.state.phase();
            sink.push(Hit {
                code,
                scenario: Some(obs.scenario.clone()),
                subject: vendor.id.clone(),
                message: format!(
                    "{} was contacted ({host}) {} in scenario \"{}\" (phase {phase}).",
                    vendor_label(vendor),
                    choice_phrase(choice),
                    obs.scenario
                ),
                rule: format!(
                    "vendor \"{}\" ({}): {}",
                    vendor.id,
                    vendor.name,
                    purposes_require(&purposes, "requires consent", "require consent")
                ),
                evidence: request_evidence(obs, req),
            });
        }
    }
}

/// `li-vendor-after-objection`: a request to a vendor whose only permitting basis is
/// legitimate interest, after the visitor objected.
pub(crate) fn li_vendor_after_objection(ctx: &Ctx, sink: &mut Sink) {
    for obs in ctx.observations {
        for req in &obs.requests {
            // Policy::permission also answers `Objected` (with no purposes) for a vendor
            // without any known purpose; only an actual objection is judged here.
            if !req.state.li_objected {
                continue;
            }
            let Some(host) = network_host(&req.url) else {
                continue;
            };
            let Some(vendor) = ctx.policy.vendor_for_host(&host) else {
                continue;
            };
            let Permission::Objected { purposes } = ctx.policy.permission(vendor, &req.state)
            else {
                continue;
            };
            if purposes.is_empty() {
                continue;
            }
            let phase = req.state.phase();
            sink.push(Hit {
                code: Code::LiVendorAfterObjection,
                scenario: Some(obs.scenario.clone()),
                subject: vendor.id.clone(),
                message: format!(
                    "{} was contacted ({host}) after the visitor objected to legitimate interest in scenario \"{}\" (phase {phase}).",
                    vendor_label(vendor),
                    obs.scenario
                ),
                rule: format!(
                    "vendor \"{}\" ({}): {}",
                    vendor.id,
                    vendor.name,
                    purposes_require(
                        &purposes,
                        "relies on legitimate interest, which stops on objection",
                        "rely on legitimate interest, which stops on objection"
                    )
                ),
                evidence: request_evidence(obs, req),
            });
        }
    }
}

/// `undeclared-third-party`: a third-party host that belongs to no declared vendor.
pub(crate) fn undeclared_third_party(ctx: &Ctx, sink: &mut Sink) {
    for obs in ctx.observations {
        for req in &obs.requests {
            let Some(host) = network_host(&req.url) else {
                continue;
            };
            if ctx.site.is_first_party(&host) || ctx.policy.vendor_for_host(&host).is_some() {
                continue;
            }
            let domain = registrable_domain(&host).unwrap_or_else(|| host.clone());
            let phase = req.state.phase();
            sink.push(Hit {
                code: Code::UndeclaredThirdParty,
                scenario: Some(obs.scenario.clone()),
                subject: domain.clone(),
                message: format!(
                    "Third party {domain} ({host}), which belongs to no declared vendor, was contacted in scenario \"{}\" (phase {phase}).",
                    obs.scenario
                ),
                rule: "every third-party host must belong to a declared vendor".to_string(),
                evidence: request_evidence(obs, req),
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// cookies

/// `undeclared-cookie`: a cookie written or stored whose name matches no cookie rule.
pub(crate) fn undeclared_cookie(ctx: &Ctx, sink: &mut Sink) {
    let rule = "every cookie must match a declared cookie rule".to_string();
    for obs in ctx.observations {
        for w in obs.cookie_writes.iter().filter(|w| write_stores(w)) {
            if ctx.policy.cookie_rule(&w.name).is_some() {
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
                message: format!(
                    "Cookie \"{}\" (domain {}), which matches no declared cookie, was written in scenario \"{}\" (phase {phase}).",
                    w.name, w.domain, obs.scenario
                ),
                rule: rule.clone(),
                evidence: write_evidence(
                    obs,
                    w,
                    format!("written {} ({lifetime})", source_phrase(&w.source)),
                ),
            });
        }
        for c in &obs.cookies {
            if ctx.policy.cookie_rule(&c.name).is_some() {
                continue;
            }
            let phase = c.state.phase();
            sink.push(Hit {
                code: Code::UndeclaredCookie,
                scenario: Some(obs.scenario.clone()),
                subject: c.name.clone(),
                message: format!(
                    "Cookie \"{}\" (domain {}), which matches no declared cookie, was stored at the end of scenario \"{}\" (phase {phase}).",
                    c.name, c.domain, obs.scenario
                ),
                rule: rule.clone(),
                evidence: stored_evidence(ctx.site, obs, c, "stored in the cookie jar".to_string()),
            });
        }
    }
}

/// `cookie-retention-exceeded`: a cookie lives longer than its rule allows.
///
/// Judged per (scenario, cookie name). The lifetime the site asked for wins when seen
/// (the largest persistent one over accepted writes); otherwise the lifetime of the stored
/// cookie is used, with one day of tolerance for clock rounding.
pub(crate) fn cookie_retention(ctx: &Ctx, sink: &mut Sink) {
    for obs in ctx.observations {
        // Cookie names in first-seen order (deterministic).
        let mut names: Vec<&str> = Vec::new();
        for n in obs
            .cookie_writes
            .iter()
            .map(|w| w.name.as_str())
            .chain(obs.cookies.iter().map(|c| c.name.as_str()))
        {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        for name in names {
            let Some(rule) = ctx.policy.cookie_rule(name) else {
                continue;
            };
            retention_for(ctx, obs, name, rule, sink);
        }
    }
}

fn retention_for(
    ctx: &Ctx,
    obs: &VisitObservation,
    name: &str,
    rule: &CookieRule,
    sink: &mut Sink,
) {
    let writes: Vec<(&CookieWrite, i64)> = obs
        .cookie_writes
        .iter()
        .filter(|w| w.name == name && w.blocked_reasons.is_empty())
        .filter_map(|w| match w.requested_lifetime_secs {
            Some(s) if s > 0 => Some((w, s)),
            _ => None,
        })
        .collect();
    let stored: Vec<(&StoredCookie, i64)> = obs
        .cookies
        .iter()
        .filter(|c| c.name == name)
        .filter_map(|c| stored_lifetime(c).map(|l| (c, l)))
        .collect();
    let max_requested = writes.iter().map(|(_, s)| *s).max();
    let max_stored = stored.iter().map(|(_, s)| *s).max();
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
        None if obs.cookies.iter().any(|c| c.name == name) => "stored as session".to_string(),
        None => "not stored at the end".to_string(),
    };
    let exceeds = |lifetime: i64, slack: i64| match rule.max_retention {
        Retention::Session => true,
        Retention::MaxSeconds(max) => lifetime > max.saturating_add(slack),
    };
    let message = |lifetime: i64, how: &str, phase: &str| {
        format!(
            "Cookie \"{name}\" of {vendor} lives {} ({how}) but its declared retention is {declared}, in scenario \"{}\" (phase {phase}).",
            human_secs(lifetime),
            obs.scenario
        )
    };

    if max_requested.is_some() {
        for (w, lifetime) in writes {
            if !exceeds(lifetime, 0) {
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
                message: message(lifetime, "as requested by the site", &phase),
                rule: rule_text.clone(),
                evidence: write_evidence(obs, w, detail),
            });
        }
    } else {
        for (c, lifetime) in stored {
            if !exceeds(lifetime, DAY) {
                continue;
            }
            let detail = format!(
                "no write with a lifetime was seen; stored {} (expires {}); declared max {declared} (1d tolerance)",
                human_secs(lifetime),
                c.expires.map(|e| e.to_rfc3339()).unwrap_or_default()
            );
            let phase = c.state.phase();
            sink.push(Hit {
                code: Code::CookieRetentionExceeded,
                scenario: Some(obs.scenario.clone()),
                subject: name.to_string(),
                message: message(lifetime, "as stored by the browser", &phase),
                rule: rule_text.clone(),
                evidence: stored_evidence(ctx.site, obs, c, detail),
            });
        }
    }
}

/// `consent-cookie-without-consent`: a cookie of a consent-based vendor written, or still
/// stored at the end, while consent was not granted.
pub(crate) fn consent_cookie_without_consent(ctx: &Ctx, sink: &mut Sink) {
    for obs in ctx.observations {
        for w in obs.cookie_writes.iter().filter(|w| write_stores(w)) {
            let Some((vendor, purposes, choice)) = needs_consent(ctx, &w.name, &w.state) else {
                continue;
            };
            let phase = w.state.phase();
            sink.push(Hit {
                code: Code::ConsentCookieWithoutConsent,
                scenario: Some(obs.scenario.clone()),
                subject: w.name.clone(),
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
        for c in &obs.cookies {
            let Some((vendor, purposes, choice)) = needs_consent(ctx, &c.name, &c.state) else {
                continue;
            };
            let phase = c.state.phase();
            sink.push(Hit {
                code: Code::ConsentCookieWithoutConsent,
                scenario: Some(obs.scenario.clone()),
                subject: c.name.clone(),
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
    ctx: &Ctx<'p>,
    cookie: &str,
    state: &crate::observe::ConsentState,
) -> Option<(&'p Vendor, Vec<String>, ConsentChoice)> {
    let rule = ctx.policy.cookie_rule(cookie)?;
    let vendor = ctx.policy.vendor(&rule.vendor)?;
    match ctx.policy.permission(vendor, state) {
        Permission::NeedsConsent { purposes, choice } if choice != ConsentChoice::Granted => {
            Some((vendor, purposes, choice))
        }
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

// ---------------------------------------------------------------------------------------
// declaration and coverage

/// `declared-vendor-unobserved`: a declared vendor no request reached in any scenario,
/// judged only when at least one complete scenario ended with consent granted.
pub(crate) fn declared_vendor_unobserved(ctx: &Ctx, sink: &mut Sink) {
    let judges: Vec<&VisitObservation> = ctx
        .observations
        .iter()
        .filter(|o| {
            o.status == VisitStatus::Complete && o.final_state.consent == ConsentChoice::Granted
        })
        .collect();
    if judges.is_empty() {
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for req in ctx.observations.iter().flat_map(|o| &o.requests) {
        if let Some(v) = network_host(&req.url).and_then(|h| ctx.policy.vendor_for_host(&h)) {
            if !seen.contains(&v.id.as_str()) {
                seen.push(v.id.as_str());
            }
        }
    }
    let judge_ids: Vec<String> = judges.iter().map(|o| o.scenario.clone()).collect();
    for vendor in &ctx.policy.vendors {
        if vendor.domains.is_empty() || seen.contains(&vendor.id.as_str()) {
            continue;
        }
        let domains = vendor
            .domains
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        for obs in &judges {
            sink.push(Hit {
                code: Code::DeclaredVendorUnobserved,
                scenario: None,
                subject: vendor.id.clone(),
                message: format!(
                    "Declared vendor {} was never contacted in any scenario, even with consent granted ({}); the declaration may be stale.",
                    vendor_label(vendor),
                    judge_ids.join(", ")
                ),
                rule: format!("vendor \"{}\" ({}) declares domains {domains}", vendor.id, vendor.name),
                evidence: Evidence {
                    scenario: obs.scenario.clone(),
                    page: last_page_or_site(obs, ctx.site),
                    request_url: None,
                    cookie: None,
                    time: obs.finished_at,
                    phase: obs.final_state.phase(),
                    detail: Some(format!(
                        "{} requests observed, none to {domains}",
                        obs.requests.len()
                    )),
                },
            });
        }
    }
}

/// `scenario-not-observed`: a visit that could not be performed completely.
pub(crate) fn scenario_not_observed(ctx: &Ctx, sink: &mut Sink) {
    for obs in ctx.observations {
        let VisitStatus::Incomplete(reason) = &obs.status else {
            continue;
        };
        let phase = obs.final_state.phase();
        sink.push(Hit {
            code: Code::ScenarioNotObserved,
            scenario: Some(obs.scenario.clone()),
            subject: obs.scenario.clone(),
            message: format!(
                "Scenario \"{}\" could not be observed (stopped in phase {phase}): {reason}. What it should have shown is unknown, so this audit is not clean; findings from what it did observe are still reported.",
                obs.scenario
            ),
            rule: "every scenario of the scenario file must be observed completely".to_string(),
            evidence: Evidence {
                scenario: obs.scenario.clone(),
                page: last_page_or_site(obs, ctx.site),
                request_url: None,
                cookie: None,
                time: obs.finished_at,
                phase,
                detail: Some(reason.clone()),
            },
        });
    }
}
