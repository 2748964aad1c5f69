//! Google Consent Mode v2: what Google tags were told (`gcs` / `gcd`, decoded by
//! [`crate::signals::gcm`]) against the visitor's choice and the vendor's declared
//! `consent_mode` (docs/signals.md#google-consent-mode).
//!
//! The one exemption of the request checks (in `advanced` mode, a cookieless ping: every
//! storage type denied, nothing granted, no identifier cookie sent or set) is a fact
//! derived by attribution, [`crate::attribution::RequestFacts::cookieless_ping`].

use super::{choice_phrase, request_detail, source_phrase, vendor_label, Family, VisitCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::attribution::{identifier_cookie, write_stores, RequestFacts};
use crate::model::{ConsentChoice, CookieWrite, RequestObs, VisitObservation};
use crate::policy::Vendor;
use crate::signals::gcm::{self, ConsentModeSignal, ConsentType};

pub(crate) const FAMILY: Family = Family {
    name: "consent_mode",
    codes: &[
        Code::ConsentModeDefaultMissing,
        Code::ConsentModeGrantedBeforeChoice,
        Code::ConsentModeGrantedAfterReject,
        Code::ConsentModeAdSignalsWithoutConsent,
        Code::ConsentModeCookieWhileDenied,
    ],
    visit: &[consent_mode_hits, cookie_while_denied],
    run: &[],
};

/// A Google tag hit (not the tag library) and its Consent Mode state, as decoded once
/// when the visit was captured (`None` inside: the hit carried no Consent Mode parameter).
fn google_hit<'a>(
    req: &RequestObs,
    facts: &RequestFacts<'a, '_>,
) -> Option<Option<&'a ConsentModeSignal>> {
    if !gcm::is_google_tag_url(&req.url) || gcm::is_tag_library(&req.url) {
        return None;
    }
    Some(facts.consent_mode)
}

/// For the request checks' evidence: the Consent Mode state a Google tag hit of a vendor
/// declaring `consent_mode` carried (why it was not a cookieless ping).
pub(crate) fn state_note(
    req: &RequestObs,
    facts: &RequestFacts,
    vendor: &Vendor,
) -> Option<String> {
    vendor.consent_mode?;
    match google_hit(req, facts)? {
        Some(s) => Some(format!("Consent Mode {}", s.describe())),
        None => Some("no Consent Mode parameter".to_string()),
    }
}

fn mode_phrase(vendor: &Vendor) -> String {
    match vendor.consent_mode {
        Some(m) => format!("declares consent_mode = \"{m}\""),
        None => "declares no consent_mode".to_string(),
    }
}

fn hit_evidence(obs: &VisitObservation, req: &RequestObs, state: &str) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: req.page.clone(),
        request_url: Some(req.url.clone()),
        cookie: None,
        time: req.time,
        phase: req.state.phase(),
        detail: Some(format!("{state}; {}", request_detail(req))),
        logged_in: false,
        known: None,
    }
}

fn names(types: &[ConsentType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `consent-mode-default-missing`, `consent-mode-granted-before-choice`,
/// `consent-mode-granted-after-reject`, `consent-mode-ad-signals-without-consent`: each
/// Google tag hit of a declared vendor made while consent was not granted.
fn consent_mode_hits(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (req, at) in &ctx.visit.requests {
        let choice = req.state.consent;
        if choice == ConsentChoice::Granted {
            continue;
        }
        let (Some(host), Some(vendor)) = (&at.host, at.vendor) else {
            continue;
        };
        let Some(signal) = google_hit(req, at) else {
            continue;
        };
        let phase = req.state.phase();
        let state = match &signal {
            Some(s) => s.describe(),
            None => "no Consent Mode parameter (no gcs, no gcd)".to_string(),
        };
        let mut push = |code: Code, told: String, rule: String| {
            sink.push(Hit {
                code,
                scenario: Some(obs.scenario.clone()),
                subject: vendor.id.clone(),
                vendor: Some(vendor.id.clone()),
                message: format!(
                    "{} ({host}) was {told} {} in scenario \"{}\" (phase {phase}).",
                    vendor_label(vendor),
                    choice_phrase(choice),
                    obs.scenario
                ),
                rule,
                evidence: hit_evidence(obs, req, &state),
            });
        };

        if vendor.consent_mode.is_some() {
            let missing = match &signal {
                Some(s) => s.missing_defaults(),
                None => ConsentType::ALL.to_vec(),
            };
            if !missing.is_empty() {
                push(
                    Code::ConsentModeDefaultMissing,
                    format!("sent a hit with no Consent Mode default for {}", names(&missing)),
                    format!(
                        "vendor \"{}\" ({}) {}: gtag('consent', 'default', …) must set every consent type before the first Google tag hit",
                        vendor.id,
                        vendor.name,
                        mode_phrase(vendor)
                    ),
                );
            }
        }
        let Some(signal) = signal else { continue };

        let storage: Vec<ConsentType> = [ConsentType::AdStorage, ConsentType::AnalyticsStorage]
            .into_iter()
            .filter(|t| signal.granted(*t))
            .collect();
        if !storage.is_empty() {
            let code = match choice {
                ConsentChoice::Denied => Code::ConsentModeGrantedAfterReject,
                _ => Code::ConsentModeGrantedBeforeChoice,
            };
            push(
                code,
                format!("told {} granted", names(&storage)),
                format!(
                    "vendor \"{}\" ({}) {}: without consent ad_storage and analytics_storage must be denied",
                    vendor.id,
                    vendor.name,
                    mode_phrase(vendor)
                ),
            );
        }
        let ads: Vec<ConsentType> = [ConsentType::AdUserData, ConsentType::AdPersonalization]
            .into_iter()
            .filter(|t| signal.granted(*t))
            .collect();
        if !ads.is_empty() {
            push(
                Code::ConsentModeAdSignalsWithoutConsent,
                format!("told {} granted", names(&ads)),
                format!(
                    "vendor \"{}\" ({}) {}: without consent ad_user_data and ad_personalization must be denied",
                    vendor.id,
                    vendor.name,
                    mode_phrase(vendor)
                ),
            );
        }
    }
}

/// Was `t` denied when `w` was written on its page, by the page's Google tag hits (the
/// cookie's own vendor's when it has some)? The state at the write lies between the
/// latest hit at or before it and the first hit after it:
/// - both exist: judged denied when both say denied (a grant in between leaves it open);
/// - only the one before: what it says;
/// - only the one after: denied when its `gcd` says denied by default and not granted by
///   an update (letters `p`, `q`: whichever held at the write was denied).
///
/// Returns the hit the state is shown from (the one before, else the one after).
fn denied_at_write<'r>(
    ctx: &'r VisitCtx,
    w: &CookieWrite,
    vendor: Option<&Vendor>,
    t: ConsentType,
) -> Option<(&'r RequestObs, ConsentModeSignal)> {
    let hits: Vec<(&RequestObs, Option<&str>, ConsentModeSignal)> = ctx
        .visit
        .requests
        .iter()
        .filter(|(r, _)| r.page == w.page)
        .filter_map(|(r, at)| {
            google_hit(r, at)
                .flatten()
                .filter(|s| s.has_state())
                .map(|s| (*r, at.vendor.map(|v| v.id.as_str()), s.clone()))
        })
        .collect();
    let own: Vec<&(&RequestObs, Option<&str>, ConsentModeSignal)> = match vendor {
        Some(v) if hits.iter().any(|(_, id, _)| *id == Some(v.id.as_str())) => hits
            .iter()
            .filter(|(_, id, _)| *id == Some(v.id.as_str()))
            .collect(),
        _ => hits.iter().collect(),
    };
    let before = own
        .iter()
        .filter(|(r, _, _)| r.time <= w.time)
        .max_by_key(|(r, _, _)| r.time);
    let after = own
        .iter()
        .filter(|(r, _, _)| r.time > w.time)
        .min_by_key(|(r, _, _)| r.time);
    match (before, after) {
        (Some((r, _, b)), Some((_, _, a))) => (b.denied(t) && a.denied(t)).then(|| (*r, b.clone())),
        (Some((r, _, b)), None) => b.denied(t).then(|| (*r, b.clone())),
        (None, Some((r, _, a))) => a
            .gcd_state(t)
            .is_some_and(|st| {
                st.default == Some(gcm::Grant::Denied) && st.update != Some(gcm::Grant::Granted)
            })
            .then(|| (*r, a.clone())),
        (None, None) => None,
    }
}

/// `consent-mode-cookie-while-denied`: a Google identifier cookie stored while the page's
/// Consent Mode state said its storage type was denied.
fn cookie_while_denied(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (w, at) in ctx
        .visit
        .cookie_writes
        .iter()
        .filter(|(w, _)| write_stores(w))
    {
        let Some(t) = identifier_cookie(&w.name) else {
            continue;
        };
        let Some((hit, signal)) = denied_at_write(ctx, w, at.vendor, t) else {
            continue;
        };
        let phase = w.state.phase();
        let hit_vendor = ctx
            .visit
            .requests
            .iter()
            .find(|(r, _)| std::ptr::eq(*r, hit))
            .and_then(|(_, a)| a.vendor);
        let vendor = at.vendor.or(hit_vendor);
        let rule = match vendor {
            Some(v) => format!(
                "vendor \"{}\" ({}) {}: a Google tag must not write identifier cookies while {} is denied",
                v.id,
                v.name,
                mode_phrase(v),
                t.as_str()
            ),
            None => format!(
                "a Google tag must not write identifier cookies while {} is denied",
                t.as_str()
            ),
        };
        let request_url = match &w.source {
            crate::model::CookieSource::Header { request_url } => request_url.clone(),
            crate::model::CookieSource::Script { .. } => hit.url.clone(),
        };
        sink.push(Hit {
            code: Code::ConsentModeCookieWhileDenied,
            scenario: Some(obs.scenario.clone()),
            subject: w.name.clone(),
            vendor: vendor.map(|v| v.id.clone()),
            message: format!(
                "Google identifier cookie \"{}\" (domain {}) was written {} while Consent Mode said {} denied, in scenario \"{}\" (phase {phase}).",
                w.name,
                w.domain,
                source_phrase(&w.source),
                t.as_str(),
                obs.scenario
            ),
            rule,
            evidence: Evidence {
                scenario: obs.scenario.clone(),
                page: w.page.clone(),
                request_url: Some(request_url),
                cookie: Some(format!("{}@{}", w.name, w.domain)),
                time: w.time,
                phase,
                detail: Some(format!(
                    "written {}; Consent Mode state {} (from {} at {})",
                    source_phrase(&w.source),
                    signal.describe(),
                    crate::net::strip_query(&hit.url),
                    hit.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                )),
                logged_in: false,
                known: None,
            },
        });
    }
}

#[cfg(test)]
#[path = "consent_mode_tests.rs"]
mod tests;
