//! IAB TCF v2 TC strings: decoded with `iab_gpp` (a maintained decoder that matches the
//! IAB reference library on our golden vectors, tests/tcf_golden.rs), never by hand.
//!
//! A TC string is kept only as a keyed hash (the audited database's
//! [`crate::model::ValueHasher`], passed to every decoder here) next to what it decoded to: two strings can be compared (is a vendor's string the CMP's current
//! one?) without storing consent records in clear.

use super::contain::contained;
use super::{SignalObs, SignalSource};
use crate::model::{RequestObs, ValueHasher};
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::str::FromStr;

pub use crate::model::tcf::*;

impl TcfSignal {
    /// Decodes `tc_string` (trimmed; an empty one is "no string"), keeping the string
    /// only as its hash with `hasher`.
    pub fn from_string(tc_string: &str, hasher: &ValueHasher) -> TcfSignal {
        let s = tc_string.trim();
        let mut sig = TcfSignal {
            string_hash: if s.is_empty() {
                String::new()
            } else {
                hasher.hash(s)
            },
            string_len: s.len(),
            ..TcfSignal::default()
        };
        if s.is_empty() {
            sig.error = Some("no TC string".to_string());
            return sig;
        }
        match decode(s) {
            Ok(d) => sig.decoded = Some(d),
            Err(e) => sig.error = Some(e),
        }
        sig
    }
}

/// The decoders, named as the evidence names them.
const IAB_GPP: &str = "iab_gpp 0.1.2";
const LIB_TCSTRING: &str = "lib_tcstring 0.5.0";

/// Longest TC string decoded, in bytes: longer ones are "undecodable: too long".
///
/// Why 8 KiB: a TC string that names every vendor of today's Global Vendor List (about
/// 1,100) as a bitfield in all four vendor sections (consent, legitimate interest,
/// disclosed, allowed) is about 1 KiB of base64, and browsers cap a whole cookie
/// (`euconsent-v2`) at 4 KiB. 8 KiB is twice the largest cookie and eight times the
/// largest string a CMP makes; anything longer is not a TC string worth decoding, and
/// decoding time and memory stay bounded (with [`MAX_RANGE_IDS`]).
pub const MAX_TC_STRING_LEN: usize = 8 * 1024;

/// Most vendor ids the ranges of one TC string may name (both decoders expand every
/// range `start..=end` into a list, so 2,000 ranges over `1..=65535` would be 130 million
/// ids from a 8 KiB string). Why 262,144: four vendor sections that each name every
/// possible 16-bit vendor id; a real string names at most a few thousand.
pub const MAX_RANGE_IDS: usize = 4 * 65_536;

mod preflight;
use preflight::*;

/// Decodes a TC string with `iab_gpp`, cross-checked with `lib_tcstring`.
///
/// `iab_gpp` 0.1.2 reads a TCF v2 core segment's publisher restrictions as a GPP
/// "optimized range" instead of TCF's `NumEntries` + ranges, so a string with publisher
/// restrictions fails to decode or decodes wrong (measured on the golden vectors,
/// docs/signals.md). Both decoders run; when they disagree on the core segment or
/// `iab_gpp` fails, `lib_tcstring`'s reading is kept and `decoder` says why.
///
/// Never panics, whatever the page sent: the string is bounded ([`MAX_TC_STRING_LEN`],
/// [`MAX_RANGE_IDS`]) and checked (base64url, segments) first; `lib_tcstring` is not run
/// on a string it would index past the end of ([`lib_tcstring_preflight`]); and each
/// library runs inside [`super::contain::contained`], so a panic left in either is an
/// `Err` with its message.
pub fn decode(s: &str) -> Result<TcfDecoded, String> {
    let segments = check_tc_string(s).map_err(|e| format!("undecodable TC string: {e}"))?;
    let lib = match lib_tcstring_preflight(s, &segments) {
        Err(Unsafe::ForBoth(why)) => return Err(format!("undecodable TC string: {why}")),
        Err(Unsafe::ForLib(why)) => Err(LibFailure::NotRun(why)),
        Ok(()) => match contained(LIB_TCSTRING, || decode_lib_tcstring(s)) {
            Ok(Ok(d)) => Ok(d),
            Ok(Err(e)) => Err(LibFailure::Error(e)),
            Err(panicked) => Err(LibFailure::Panicked(panicked)),
        },
    };
    let gpp = match segments.first().map(|core| iab_gpp_restriction_ids(core)) {
        Some(n) if n > MAX_RANGE_IDS => Err(format!(
            "not run: its reading of the publisher restrictions names {n} vendor ids, more \
             than {MAX_RANGE_IDS}"
        )),
        _ => contained(IAB_GPP, || decode_iab_gpp(s))
            .and_then(|r| r)
            .map_err(|e| format!("failed: {e}")),
    };
    match (gpp, lib) {
        (Ok(g), Ok(l)) if same_core(&g, &l) => Ok(g),
        (Ok(g), Ok(mut l)) => {
            l.segments = g.segments;
            l.disclosed_vendors = g.disclosed_vendors;
            l.decoder = format!("{LIB_TCSTRING} ({IAB_GPP} read the core segment differently)");
            Ok(l)
        }
        (Err(e), Ok(mut l)) => {
            l.decoder = format!("{LIB_TCSTRING} ({IAB_GPP} {e})");
            Ok(l)
        }
        (Ok(g), Err(LibFailure::Error(_))) => Ok(g),
        // Said: a string one decoder refused or crashed on is not an ordinary string.
        (Ok(mut g), Err(e)) => {
            g.decoder = format!("{IAB_GPP} ({})", e.describe());
            Ok(g)
        }
        (Err(e), Err(e2)) => Err(format!(
            "undecodable TC string: {IAB_GPP} {e}; {}",
            e2.describe()
        )),
    }
}

/// Why `lib_tcstring` gave no reading.
enum LibFailure {
    /// It returned an error (an ordinary malformed string).
    Error(String),
    /// It was not run: the string would have made it index past the end.
    NotRun(String),
    /// It panicked anyway (contained).
    Panicked(String),
}

impl LibFailure {
    fn describe(&self) -> String {
        match self {
            LibFailure::Error(e) => format!("{LIB_TCSTRING}: {e}"),
            LibFailure::NotRun(why) => format!("{LIB_TCSTRING} not run: {why}"),
            LibFailure::Panicked(p) => p.clone(),
        }
    }
}

fn same_core(a: &TcfDecoded, b: &TcfDecoded) -> bool {
    a.cmp_id == b.cmp_id
        && a.cmp_version == b.cmp_version
        && a.consent_screen == b.consent_screen
        && a.vendor_list_version == b.vendor_list_version
        && a.policy_version == b.policy_version
        && a.special_feature_optins == b.special_feature_optins
        && a.purpose_consents == b.purpose_consents
        && a.purpose_legitimate_interests == b.purpose_legitimate_interests
        && a.vendor_consents == b.vendor_consents
        && a.vendor_legitimate_interests == b.vendor_legitimate_interests
        && a.publisher_restrictions == b.publisher_restrictions
}

fn utc(secs: u64) -> Option<DateTime<Utc>> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
}

fn decode_iab_gpp(s: &str) -> Result<TcfDecoded, String> {
    use iab_gpp::sections::tcfeuv2::{RestrictionType, TcfEuV2};
    let t = TcfEuV2::from_str(s).map_err(|e| e.to_string())?;
    let c = &t.core;
    let mut segments = vec!["core".to_string()];
    if t.disclosed_vendors.is_some() {
        segments.push("disclosed_vendors".into());
    }
    if t.allowed_vendors.is_some() {
        segments.push("allowed_vendors".into());
    }
    if t.publisher_purposes.is_some() {
        segments.push("publisher_tc".into());
    }
    Ok(TcfDecoded {
        created: utc(c.created),
        last_updated: utc(c.last_updated),
        cmp_id: c.cmp_id,
        cmp_version: c.cmp_version,
        consent_screen: c.consent_screen,
        consent_language: c.consent_language.clone(),
        vendor_list_version: c.vendor_list_version,
        policy_version: c.policy_version,
        is_service_specific: c.is_service_specific,
        use_non_standard_texts: c.use_non_standard_stacks,
        purpose_one_treatment: c.purpose_one_treatment,
        publisher_country_code: c.publisher_country_code.clone(),
        special_feature_optins: c.special_feature_optins.clone(),
        purpose_consents: c.purpose_consents.clone(),
        purpose_legitimate_interests: c.purpose_legitimate_interests.clone(),
        vendor_consents: c.vendor_consents.clone(),
        vendor_legitimate_interests: c.vendor_legitimate_interests.clone(),
        publisher_restrictions: c
            .publisher_restrictions
            .iter()
            .map(|r| PublisherRestriction {
                purpose: r.purpose_id,
                restriction: match r.restriction_type {
                    RestrictionType::NotAllowed => "not_allowed",
                    RestrictionType::RequireConsent => "require_consent",
                    RestrictionType::RequireLegitimateInterest => "require_legitimate_interest",
                    RestrictionType::Undefined => "undefined",
                }
                .to_string(),
                vendors: r.restricted_vendor_ids.clone(),
            })
            .collect(),
        publisher: t.publisher_purposes.as_ref().map(|p| PublisherSegment {
            consents: p.consents.clone(),
            legitimate_interests: p.legitimate_interests.clone(),
            custom_consents: p.custom_consents.clone(),
            custom_legitimate_interests: p.custom_legitimate_interests.clone(),
        }),
        disclosed_vendors: t.disclosed_vendors.clone(),
        segments,
        decoder: IAB_GPP.to_string(),
    })
}

fn decode_lib_tcstring(s: &str) -> Result<TcfDecoded, String> {
    use lib_tcstring::{PublisherRestrictionType as R, TcModelV2};
    let m = TcModelV2::try_from(s).map_err(|e| format!("{e:?}"))?;
    let set8 = |v: &[u8]| v.iter().map(|&x| u16::from(x)).collect::<BTreeSet<u16>>();
    let set16 = |v: &[u16]| v.iter().copied().collect::<BTreeSet<u16>>();
    let publisher_present = !m.publisher_purposes_consent.is_empty()
        || !m.publisher_purposes_li_transparency.is_empty()
        || !m.custom_purposes_consent.is_empty()
        || !m.custom_purposes_li_transparency.is_empty();
    let mut segments = vec!["core".to_string()];
    if !m.disclosed_vendors.is_empty() {
        segments.push("disclosed_vendors".into());
    }
    if !m.allowed_vendors.is_empty() {
        segments.push("allowed_vendors".into());
    }
    if publisher_present {
        segments.push("publisher_tc".into());
    }
    // lib_tcstring gives milliseconds.
    Ok(TcfDecoded {
        created: utc(m.created_at / 1000),
        last_updated: utc(m.updated_at / 1000),
        cmp_id: m.cmp_id,
        cmp_version: m.cmp_version,
        consent_screen: m.consent_screen,
        consent_language: m.consent_language.clone(),
        vendor_list_version: m.vendor_list_version,
        policy_version: u8::try_from(m.tcf_policy_version).unwrap_or(u8::MAX),
        is_service_specific: m.is_service_specific,
        use_non_standard_texts: m.use_non_standard_stacks,
        purpose_one_treatment: m.purpose_one_treatment,
        publisher_country_code: m.publisher_country_code.clone(),
        special_feature_optins: set8(&m.special_feature_opt_ins),
        purpose_consents: set8(&m.purposes_consent),
        purpose_legitimate_interests: set8(&m.purposes_li_transparency),
        vendor_consents: set16(&m.vendors_consent),
        vendor_legitimate_interests: set16(&m.vendors_li_consent),
        publisher_restrictions: m
            .publisher_restrictions
            .iter()
            .map(|r| PublisherRestriction {
                purpose: r.purpose_id,
                restriction: match r.restriction_type {
                    R::NotAllowed => "not_allowed",
                    R::RequireConsent => "require_consent",
                    R::RequireLegitimateInterest => "require_legitimate_interest",
                    _ => "undefined",
                }
                .to_string(),
                vendors: set16(&r.vendor_list),
            })
            .collect(),
        publisher: publisher_present.then(|| PublisherSegment {
            consents: set8(&m.publisher_purposes_consent),
            legitimate_interests: set8(&m.publisher_purposes_li_transparency),
            custom_consents: set8(&m.custom_purposes_consent),
            custom_legitimate_interests: set8(&m.custom_purposes_li_transparency),
        }),
        disclosed_vendors: (!m.disclosed_vendors.is_empty()).then(|| set16(&m.disclosed_vendors)),
        segments,
        decoder: LIB_TCSTRING.to_string(),
    })
}

/// Query parameters that carry a TC string to a vendor (the IAB's macro `${GDPR_CONSENT_XXX}`
/// is conventionally sent as `gdpr_consent`; some vendors use shorter names).
const TC_PARAMS: &[&str] = &[
    "gdpr_consent",
    "gdpr_consent_string",
    "euconsent",
    "consent_string",
];

/// The TC string a vendor request carries (`gdpr_consent`, with `gdpr` = 0/1), decoded.
/// Requests without a TC parameter, or with an empty or unexpanded macro value
/// (`${GDPR_CONSENT_755}`), carry no TCF signal. The string is hashed with `hasher`.
pub fn from_request(r: &RequestObs, hasher: &ValueHasher) -> Option<SignalObs> {
    let url = url::Url::parse(&r.url).ok()?;
    let mut tc: Option<String> = None;
    let mut gdpr: Option<bool> = None;
    for (k, v) in url.query_pairs() {
        let k = k.to_ascii_lowercase();
        if TC_PARAMS.contains(&k.as_str()) && tc.is_none() {
            tc = Some(v.into_owned());
        } else if k == "gdpr" {
            gdpr = match v.as_ref() {
                "1" | "true" => Some(true),
                "0" | "false" => Some(false),
                _ => None,
            };
        }
    }
    let tc = tc?;
    if tc.trim().is_empty() || tc.contains("${") {
        return None;
    }
    let mut data = TcfSignal::from_string(&tc, hasher);
    data.gdpr_applies = gdpr;
    Some(SignalObs {
        time: r.time,
        page: r.page.clone(),
        state: r.state.clone(),
        source: SignalSource::Request { url: r.url.clone() },
        data: super::SignalData::Tcf(Box::new(data)),
    })
}

/// What the page-side probe returns (engine: `__tcfapi('getTCData')` and the
/// `euconsent-v2` cookie, read in the top document). Fields as the probe names them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageProbe {
    /// `__tcfapi` is defined.
    #[serde(default)]
    pub api: bool,
    /// The API answered within the probe's time limit.
    #[serde(default)]
    pub answered: bool,
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub tc_string: Option<String>,
    #[serde(default)]
    pub gdpr_applies: Option<bool>,
    #[serde(default)]
    pub event_status: Option<String>,
    #[serde(default)]
    pub cmp_status: Option<String>,
    /// `euconsent-v2` as `document.cookie` shows it.
    #[serde(default)]
    pub cookie: Option<String>,
    #[serde(default)]
    pub cookie_domain: Option<String>,
    /// What the CMP's `addEventListener` callback received since the previous probe.
    #[serde(default)]
    pub events: Vec<TcfEvent>,
}

/// One `__tcfapi('addEventListener')` callback, as the probe's listener recorded it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcfEvent {
    #[serde(default)]
    pub tc_string: Option<String>,
    #[serde(default)]
    pub event_status: Option<String>,
    #[serde(default)]
    pub cmp_status: Option<String>,
    /// `Date.now()` in the page, milliseconds since the epoch.
    #[serde(default)]
    pub at: f64,
}

/// Most `addEventListener` announcements read from one probe. The probe's listener keeps
/// at most 200 (`PAGE_PROBE_JS`), but the list lives in the page (`window.__consentryTcfEvents`),
/// which a page can overwrite with any array: the same bound is kept here, so one probe
/// decodes at most 202 TC strings (events, the answer, the cookie), each bounded by
/// [`MAX_TC_STRING_LEN`].
pub const MAX_PROBE_EVENTS: usize = 200;

/// JavaScript for WebDriver's execute-async: answers a [`PageProbe`] as JSON.
pub const PAGE_PROBE_JS: &str = r#"
const done = arguments[arguments.length - 1];
const out = { api: typeof window.__tcfapi === 'function', answered: false };
const m = document.cookie.match(/(?:^|;\s*)euconsent-v2=([^;]*)/);
if (m) { out.cookie = decodeURIComponent(m[1]); out.cookieDomain = location.hostname; }
if (!out.api) { done(JSON.stringify(out)); return; }
// From the first probe on, every change the CMP announces is kept until the next probe.
try {
  if (!window.__consentryTcfEvents) {
    window.__consentryTcfEvents = [];
    window.__tcfapi('addEventListener', 2, (d, ok) => {
      if (ok && d && typeof d.tcString === 'string' && window.__consentryTcfEvents.length < 200) {
        window.__consentryTcfEvents.push({ tcString: d.tcString, eventStatus: d.eventStatus || null,
          cmpStatus: d.cmpStatus || null, at: Date.now() });
      }
    });
  }
  out.events = window.__consentryTcfEvents.splice(0);
} catch (e) { out.events = []; }
let finished = false;
const finish = () => { if (!finished) { finished = true; done(JSON.stringify(out)); } };
setTimeout(finish, 1000);
try {
  window.__tcfapi('getTCData', 2, (d, ok) => {
    out.answered = true;
    out.success = !!ok;
    if (d) {
      out.tcString = typeof d.tcString === 'string' ? d.tcString : null;
      out.gdprApplies = typeof d.gdprApplies === 'boolean' ? d.gdprApplies : null;
      out.eventStatus = d.eventStatus || null;
      out.cmpStatus = d.cmpStatus || null;
    }
    finish();
  });
} catch (e) { out.error = String(e); finish(); }
"#;

impl PageProbe {
    /// The signals the probe read: the page API's answer and the CMP's cookie, each TC
    /// string hashed with `hasher`.
    pub fn signals(
        &self,
        hasher: &ValueHasher,
        time: DateTime<Utc>,
        page: &str,
        state: &crate::model::ConsentState,
        state_at: impl Fn(DateTime<Utc>) -> crate::model::ConsentState,
    ) -> Vec<SignalObs> {
        let mut out = Vec::new();
        // The CMP's announcements since the previous probe, each in the phase in force
        // when it was made; the one that equals the current answer is that answer.
        let current = self.tc_string.as_deref().unwrap_or_default();
        for e in self.events.iter().take(MAX_PROBE_EVENTS) {
            let Some(s) = e.tc_string.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            if s == current {
                continue;
            }
            let at = Utc
                .timestamp_millis_opt(e.at as i64)
                .single()
                .filter(|t| *t <= time)
                .unwrap_or(time);
            let mut data = TcfSignal::from_string(s, hasher);
            data.event_status = e.event_status.clone();
            data.cmp_status = e.cmp_status.clone();
            out.push(SignalObs {
                time: at,
                page: page.to_string(),
                state: state_at(at),
                source: SignalSource::PageApi {
                    api: "__tcfapi addEventListener".to_string(),
                },
                data: super::SignalData::Tcf(Box::new(data)),
            });
        }
        if self.api {
            let mut data = match (&self.tc_string, self.answered) {
                (Some(s), _) if !s.is_empty() => TcfSignal::from_string(s, hasher),
                (_, true) => TcfSignal {
                    error: Some(if self.success == Some(false) {
                        "__tcfapi getTCData answered success=false".to_string()
                    } else {
                        "__tcfapi getTCData answered without a TC string".to_string()
                    }),
                    ..TcfSignal::default()
                },
                (_, false) => TcfSignal {
                    error: Some("__tcfapi getTCData did not answer within 1 s".to_string()),
                    ..TcfSignal::default()
                },
            };
            data.gdpr_applies = self.gdpr_applies;
            data.event_status = self.event_status.clone();
            data.cmp_status = self.cmp_status.clone();
            out.push(SignalObs {
                time,
                page: page.to_string(),
                state: state.clone(),
                source: SignalSource::PageApi {
                    api: "__tcfapi getTCData".to_string(),
                },
                data: super::SignalData::Tcf(Box::new(data)),
            });
        }
        if let Some(c) = self.cookie.as_deref().filter(|c| !c.is_empty()) {
            out.push(SignalObs {
                time,
                page: page.to_string(),
                state: state.clone(),
                source: SignalSource::Cookie {
                    name: TC_COOKIE.to_string(),
                    domain: self.cookie_domain.clone().unwrap_or_default(),
                },
                data: super::SignalData::Tcf(Box::new(TcfSignal::from_string(c, hasher))),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests;
