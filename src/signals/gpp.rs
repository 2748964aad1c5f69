//! IAB Global Privacy Platform (GPP) strings and US Privacy (USP) strings, decoded with
//! `iab_gpp` (a maintained decoder that reads the US national and state sections, `uspv1`
//! and TCF EU v2; cross-checked with the IAB's reference library on golden vectors,
//! tests/gpp_golden.rs), never by hand.
//!
//! Read from the page (`__gpp` ping and its events, `__uspapi('getUSPData')`, the
//! `usprivacy` cookie: [`GPP_PROBE_JS`]) and from vendor requests (`gpp` with `gpp_sid`,
//! `us_privacy`: [`from_request`]). The string is kept only as a keyed hash, like a TC
//! string.

use super::contain::{contained, too_long};
use super::{SignalData, SignalObs, SignalSource};
use crate::model::{ConsentState, RequestObs, ValueHasher};
use chrono::{DateTime, TimeZone, Utc};
use iab_gpp::sections::us_common::OptOut as LibOptOut;
use iab_gpp::sections::{Section, SectionId};
use serde::Deserialize;
use std::str::FromStr;

pub use crate::model::gpp::*;

/// The decoder, named as evidence names it.
pub const IAB_GPP: &str = "iab_gpp 0.1.2";

/// Longest GPP or USP string decoded, in bytes: longer ones are "undecodable: too long".
///
/// Why 16 KiB: a GPP string is a header, a TC string (at most
/// [`super::tcf::MAX_TC_STRING_LEN`], 8 KiB) and US sections of a few dozen characters
/// each; twice the TC string's limit leaves room for every other section, and keeps
/// decoding time and memory bounded.
pub const MAX_GPP_STRING_LEN: usize = 16 * 1024;

/// The `usprivacy` cookie US Privacy CMPs keep their string in (first party).
pub const USP_COOKIE: &str = "usprivacy";

impl GppSignal {
    /// Decodes a GPP string (trimmed), keeping the string only as its hash with `hasher`.
    pub fn from_gpp_string(s: &str, hasher: &ValueHasher) -> GppSignal {
        Self::from_string(GppFormat::Gpp, s, hasher)
    }

    /// Decodes a US Privacy string (`1YNN`), keeping it only as its hash.
    pub fn from_usp_string(s: &str, hasher: &ValueHasher) -> GppSignal {
        Self::from_string(GppFormat::Usp, s, hasher)
    }

    fn from_string(format: GppFormat, s: &str, hasher: &ValueHasher) -> GppSignal {
        let s = s.trim();
        let mut sig = GppSignal {
            format,
            string_hash: if s.is_empty() {
                String::new()
            } else {
                hasher.hash(s)
            },
            string_len: s.len(),
            ..GppSignal::default()
        };
        let decoded = match format {
            GppFormat::Gpp => decode_gpp(s),
            GppFormat::Usp => decode_usp(s).map(|sec| vec![sec]),
        };
        match decoded {
            Ok(sections) => sig.sections = sections,
            Err(e) => sig.error = Some(e),
        }
        sig
    }
}

/// Decodes a GPP string into its sections. The string as a whole fails when it is empty,
/// too long ([`MAX_GPP_STRING_LEN`]), its header cannot be read, or it names a section
/// `iab_gpp` 0.1.2 does not know (ids above 23: US Indiana, Kentucky, ...); a section
/// that cannot be decoded fails alone. Never panics: the library runs inside
/// [`contained`].
pub fn decode_gpp(s: &str) -> Result<Vec<GppSection>, String> {
    if s.is_empty() {
        return Err("no GPP string".to_string());
    }
    if s.len() > MAX_GPP_STRING_LEN {
        return Err(format!(
            "undecodable GPP string: {}",
            too_long(s.len(), MAX_GPP_STRING_LEN)
        ));
    }
    let gpp = contained(IAB_GPP, || iab_gpp::v1::GPPString::from_str(s))
        .and_then(|r| r.map_err(|e| format!("{IAB_GPP}: {e}")))
        .map_err(|e| format!("undecodable GPP string: {e}"))?;
    let mut out = Vec::new();
    for &id in gpp.section_ids() {
        let mut section = GppSection {
            id: id as u8,
            name: id.to_string().to_ascii_lowercase(),
            ..GppSection::default()
        };
        if id == SectionId::TcfEuV2 {
            // The TC string inside, read as any TC string (both decoders, bounded).
            match gpp.section(id).map(super::tcf::decode) {
                Some(Ok(t)) => section.tcf = Some(Box::new(t)),
                Some(Err(e)) => section.error = Some(e),
                None => section.error = Some("missing".to_string()),
            }
        } else {
            match contained(IAB_GPP, || gpp.decode_section(id)) {
                Ok(Ok(decoded)) => match us_opt_outs(&decoded) {
                    Some(us) => section.us = Some(us),
                    None => section.error = Some("not read (not a US section)".to_string()),
                },
                Ok(Err(e)) => section.error = Some(format!("undecodable: {IAB_GPP}: {e}")),
                Err(panicked) => section.error = Some(format!("undecodable: {panicked}")),
            }
        }
        out.push(section);
    }
    Ok(out)
}

/// Decodes a US Privacy string (`1YNN`) as the GPP section `uspv1`.
pub fn decode_usp(s: &str) -> Result<GppSection, String> {
    if s.is_empty() {
        return Err("no US Privacy string".to_string());
    }
    // The string is four characters; anything much longer is not one.
    if s.len() > 64 {
        return Err(format!(
            "undecodable US Privacy string: {}",
            too_long(s.len(), 64)
        ));
    }
    let usp = contained(IAB_GPP, || {
        iab_gpp::sections::uspv1::UspV1::from_str(s).map(Section::UspV1)
    })
    .and_then(|r| r.map_err(|e| format!("{IAB_GPP}: {e}")))
    .map_err(|e| format!("undecodable US Privacy string: {e}"))?;
    Ok(GppSection {
        id: SectionId::UspV1 as u8,
        name: "uspv1".to_string(),
        us: us_opt_outs(&usp),
        ..GppSection::default()
    })
}

fn opt(o: &LibOptOut) -> OptOut {
    match o {
        LibOptOut::NotApplicable => OptOut::NotApplicable,
        LibOptOut::OptedOut => OptOut::OptedOut,
        LibOptOut::DidNotOptOut => OptOut::DidNotOptOut,
    }
}

/// The opt-outs of a US section, field by field as the section has them.
macro_rules! us {
    ($core:expr, $gpc:expr; $($field:ident => $slot:ident),*) => {{
        let c = $core;
        let mut us = UsOptOuts {
            gpc: $gpc,
            mspa_covered_transaction: Some(c.mspa_covered_transaction),
            ..UsOptOuts::default()
        };
        $(us.$slot = Some(opt(&c.$field));)*
        us
    }};
}

/// The opt-outs of a decoded US section; `None` for a section that is not a US one.
fn us_opt_outs(section: &Section) -> Option<UsOptOuts> {
    use iab_gpp::sections::usnat::Core as NatCore;
    use iab_gpp::sections::uspv1::Flag;
    Some(match section {
        Section::UspV1(u) => {
            let flag = |f: &Flag| match f {
                Flag::Yes => Some(true),
                Flag::No => Some(false),
                Flag::NotApplicable => None,
            };
            UsOptOuts {
                sale_opt_out: Some(match u.opt_out_sale {
                    Flag::Yes => OptOut::OptedOut,
                    Flag::No => OptOut::DidNotOptOut,
                    Flag::NotApplicable => OptOut::NotApplicable,
                }),
                mspa_covered_transaction: flag(&u.lspa_covered_transaction),
                ..UsOptOuts::default()
            }
        }
        Section::UsNat(s) => match &s.core {
            NatCore::V1(c) => us!(c, s.gpc; sale_opt_out => sale_opt_out,
                sharing_opt_out => sharing_opt_out,
                targeted_advertising_opt_out => targeted_advertising_opt_out),
            NatCore::V2(c) => us!(c, s.gpc; sale_opt_out => sale_opt_out,
                sharing_opt_out => sharing_opt_out,
                targeted_advertising_opt_out => targeted_advertising_opt_out),
            _ => return None,
        },
        Section::UsCa(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            sharing_opt_out => sharing_opt_out),
        Section::UsVa(s) => us!(&s.core, None; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsUt(s) => us!(&s.core, None; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsFl(s) => us!(&s.core, None; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsCo(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsCt(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsMt(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsOr(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsTx(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsDe(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsIa(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsNe(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsNh(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsNj(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsTn(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        Section::UsMn(s) => us!(&s.core, s.gpc; sale_opt_out => sale_opt_out,
            targeted_advertising_opt_out => targeted_advertising_opt_out),
        _ => return None,
    })
}

/// Query parameters that carry a US Privacy string to a vendor (`${US_PRIVACY}` is
/// conventionally sent as `us_privacy`).
const USP_PARAMS: &[&str] = &["us_privacy", "usprivacy"];

/// A parameter value that is a string (not empty, not an unexpanded macro such as
/// `${GPP_STRING_755}`).
fn real(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty() && !v.contains("${")).then_some(v)
}

/// The GPP string (`gpp`, with the applicable sections of `gpp_sid`) and the US Privacy
/// string (`us_privacy`) a vendor request carries, decoded and hashed with `hasher`.
pub fn from_request(r: &RequestObs, hasher: &ValueHasher) -> Vec<SignalObs> {
    let Ok(url) = url::Url::parse(&r.url) else {
        return Vec::new();
    };
    let (mut gpp, mut sid, mut usp) = (None, None, None);
    for (k, v) in url.query_pairs() {
        match k.to_ascii_lowercase().as_str() {
            "gpp" if gpp.is_none() => gpp = real(&v).map(str::to_string),
            "gpp_sid" if sid.is_none() => sid = real(&v).map(parse_sids),
            k if USP_PARAMS.contains(&k) && usp.is_none() => usp = real(&v).map(str::to_string),
            _ => {}
        }
    }
    let obs = |data: GppSignal| SignalObs {
        time: r.time,
        page: r.page.clone(),
        state: r.state.clone(),
        source: SignalSource::Request { url: r.url.clone() },
        data: SignalData::Gpp(Box::new(data)),
    };
    let mut out = Vec::new();
    if let Some(g) = gpp {
        let mut data = GppSignal::from_gpp_string(&g, hasher);
        data.applicable_sections = sid;
        out.push(obs(data));
    }
    if let Some(u) = usp {
        out.push(obs(GppSignal::from_usp_string(&u, hasher)));
    }
    out
}

/// `gpp_sid=7,8` (also `7_8`) as section ids; what is not a number is left out.
fn parse_sids(v: &str) -> Vec<i64> {
    v.split([',', '_'])
        .filter_map(|x| x.trim().parse::<i64>().ok())
        .take(64)
        .collect()
}

/// What the GPP / USP page probe returns ([`GPP_PROBE_JS`]). Fields as the probe names them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GppProbe {
    /// `__gpp` is defined.
    #[serde(default)]
    pub gpp: bool,
    /// It answered `ping` (or, for a GPP 1.0 CMP, `getGPPData`) in time.
    #[serde(default)]
    pub answered: bool,
    /// Which command gave the string (`ping`, `getGPPData`).
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub gpp_string: Option<String>,
    #[serde(default)]
    pub applicable_sections: Option<Vec<i64>>,
    #[serde(default)]
    pub cmp_status: Option<String>,
    #[serde(default)]
    pub signal_status: Option<String>,
    /// What the `addEventListener` callback received since the previous probe.
    #[serde(default)]
    pub events: Vec<GppEvent>,
    /// `__uspapi` is defined.
    #[serde(default)]
    pub usp: bool,
    #[serde(default)]
    pub usp_answered: bool,
    #[serde(default)]
    pub usp_string: Option<String>,
    /// `usprivacy` as `document.cookie` shows it.
    #[serde(default)]
    pub usp_cookie: Option<String>,
    #[serde(default)]
    pub cookie_domain: Option<String>,
}

/// One `__gpp('addEventListener')` callback, as the probe's listener recorded it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GppEvent {
    #[serde(default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub gpp_string: Option<String>,
    #[serde(default)]
    pub applicable_sections: Option<Vec<i64>>,
    /// `Date.now()` in the page, milliseconds since the epoch.
    #[serde(default)]
    pub at: f64,
}

/// Most `addEventListener` announcements read from one probe (the page can overwrite the
/// probe's list, so the bound is kept here too, as for TCF).
pub const MAX_PROBE_EVENTS: usize = 200;

/// JavaScript for WebDriver's execute-async: answers a [`GppProbe`] as JSON. GPP 1.1
/// CMPs answer `ping` with the string; a GPP 1.0 CMP is asked `getGPPData`.
pub const GPP_PROBE_JS: &str = r#"
const done = arguments[arguments.length - 1];
const out = { gpp: typeof window.__gpp === 'function', answered: false,
  usp: typeof window.__uspapi === 'function', uspAnswered: false, events: [] };
const m = document.cookie.match(/(?:^|;\s*)usprivacy=([^;]*)/);
if (m) { out.uspCookie = decodeURIComponent(m[1]); out.cookieDomain = location.hostname; }
if (!out.gpp && !out.usp) { done(JSON.stringify(out)); return; }
let pending = (out.gpp ? 1 : 0) + (out.usp ? 1 : 0);
let finished = false;
const finish = () => { if (!finished) { finished = true; done(JSON.stringify(out)); } };
const one = () => { pending -= 1; if (pending <= 0) finish(); };
setTimeout(finish, 1000);
const sids = (v) => Array.isArray(v) ? v.filter((x) => typeof x === 'number').slice(0, 64) : null;
const take = (d, command) => {
  if (!d || typeof d !== 'object') return false;
  if (typeof d.gppString !== 'string') return false;
  out.answered = true; out.command = command; out.gppString = d.gppString;
  out.applicableSections = sids(d.applicableSections);
  out.cmpStatus = typeof d.cmpStatus === 'string' ? d.cmpStatus : null;
  out.signalStatus = typeof d.signalStatus === 'string' ? d.signalStatus : null;
  return true;
};
if (out.gpp) {
  try {
    if (!window.__consentryGppEvents) {
      window.__consentryGppEvents = [];
      window.__gpp('addEventListener', (e, ok) => {
        const p = e && e.pingData;
        if (ok !== false && p && typeof p.gppString === 'string' && window.__consentryGppEvents.length < 200) {
          window.__consentryGppEvents.push({ eventName: e.eventName || null, gppString: p.gppString,
            applicableSections: sids(p.applicableSections), at: Date.now() });
        }
      });
    }
    out.events = window.__consentryGppEvents.splice(0);
  } catch (e) { out.events = []; }
  try {
    const r = window.__gpp('ping', (d, ok) => {
      if (take(d, 'ping')) { one(); return; }
      // GPP 1.0: the string comes from getGPPData (returned, or through the callback).
      out.cmpStatus = d && typeof d.cmpStatus === 'string' ? d.cmpStatus : null;
      try {
        const g = window.__gpp('getGPPData', (d2) => { if (take(d2, 'getGPPData')) one(); });
        if (take(g, 'getGPPData')) one();
      } catch (e) { one(); }
    });
    if (take(r, 'ping')) one();
  } catch (e) { one(); }
}
if (out.usp) {
  try {
    window.__uspapi('getUSPData', 1, (d, ok) => {
      out.uspAnswered = true;
      out.uspString = d && typeof d.uspString === 'string' ? d.uspString : null;
      one();
    });
  } catch (e) { one(); }
}
"#;

impl GppProbe {
    /// The signals the probe read: the GPP API's answer and its events, the US Privacy
    /// API's answer and the `usprivacy` cookie, each string hashed with `hasher`.
    pub fn signals(
        &self,
        hasher: &ValueHasher,
        time: DateTime<Utc>,
        page: &str,
        state: &ConsentState,
        state_at: impl Fn(DateTime<Utc>) -> ConsentState,
    ) -> Vec<SignalObs> {
        let obs = |at: DateTime<Utc>, st: ConsentState, api: &str, data: GppSignal| SignalObs {
            time: at,
            page: page.to_string(),
            state: st,
            source: SignalSource::PageApi {
                api: api.to_string(),
            },
            data: SignalData::Gpp(Box::new(data)),
        };
        let mut out = Vec::new();
        let current = self.gpp_string.as_deref().unwrap_or_default();
        for e in self.events.iter().take(MAX_PROBE_EVENTS) {
            let Some(s) = e.gpp_string.as_deref().filter(|s| !s.is_empty()) else {
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
            let mut data = GppSignal::from_gpp_string(s, hasher);
            data.applicable_sections = e.applicable_sections.clone();
            let api = match &e.event_name {
                Some(n) => format!(
                    "__gpp addEventListener ({})",
                    crate::text::printable_clipped(n, 40)
                ),
                None => "__gpp addEventListener".to_string(),
            };
            out.push(obs(at, state_at(at), &api, data));
        }
        if self.gpp {
            let mut data = match (&self.gpp_string, self.answered) {
                (Some(s), true) => GppSignal::from_gpp_string(s, hasher),
                _ => GppSignal {
                    error: Some("__gpp gave no GPP string within 1 s".to_string()),
                    ..GppSignal::default()
                },
            };
            data.applicable_sections = self.applicable_sections.clone();
            data.cmp_status = self.cmp_status.clone();
            data.signal_status = self.signal_status.clone();
            let api = format!("__gpp {}", self.command.as_deref().unwrap_or("ping"));
            out.push(obs(time, state.clone(), &api, data));
        }
        if self.usp {
            let data = match (&self.usp_string, self.usp_answered) {
                (Some(s), _) if !s.is_empty() => GppSignal::from_usp_string(s, hasher),
                (_, true) => GppSignal {
                    format: GppFormat::Usp,
                    error: Some("__uspapi getUSPData answered without a string".to_string()),
                    ..GppSignal::default()
                },
                (_, false) => GppSignal {
                    format: GppFormat::Usp,
                    error: Some("__uspapi getUSPData did not answer within 1 s".to_string()),
                    ..GppSignal::default()
                },
            };
            out.push(obs(time, state.clone(), "__uspapi getUSPData", data));
        }
        if let Some(c) = self.usp_cookie.as_deref().filter(|c| !c.is_empty()) {
            out.push(SignalObs {
                time,
                page: page.to_string(),
                state: state.clone(),
                source: SignalSource::Cookie {
                    name: USP_COOKIE.to_string(),
                    domain: self.cookie_domain.clone().unwrap_or_default(),
                },
                data: SignalData::Gpp(Box::new(GppSignal::from_usp_string(c, hasher))),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests;
