//! IAB TCF v2 TC strings: decoded with `iab_gpp` (a maintained decoder that matches the
//! IAB reference library on our golden vectors, tests/tcf_golden.rs), never by hand.
//!
//! A TC string is kept only as a keyed hash ([`crate::model::hash_value`]) next to what
//! it decoded to: two strings can be compared (is a vendor's string the CMP's current
//! one?) without storing consent records in clear.

use super::contain::{contained, too_long};
use super::{SignalObs, SignalSource};
use crate::model::{hash_value, RequestObs};
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::str::FromStr;

pub use crate::model::tcf::*;

impl TcfSignal {
    /// Decodes `tc_string` (trimmed; an empty one is "no string").
    pub fn from_string(tc_string: &str) -> TcfSignal {
        let s = tc_string.trim();
        let mut sig = TcfSignal {
            string_hash: if s.is_empty() {
                String::new()
            } else {
                hash_value(s)
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

/// The checks every TC string passes before a library sees it: at most
/// [`MAX_TC_STRING_LEN`] bytes, dot-separated non-empty segments (at most 4: core,
/// disclosed vendors, allowed vendors, publisher TC) of base64url text. Returns the
/// decoded bytes of each segment.
fn check_tc_string(s: &str) -> Result<Vec<Vec<u8>>, String> {
    if s.len() > MAX_TC_STRING_LEN {
        return Err(too_long(s.len(), MAX_TC_STRING_LEN));
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return Err(format!(
            "{} segments (a TC string has at most 4: core, disclosed vendors, allowed \
             vendors, publisher TC)",
            parts.len()
        ));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(format!("segment {} is empty", i + 1));
        }
        match base64url(part) {
            Ok(bytes) => out.push(bytes),
            Err(at) => {
                let c = part.get(at..).and_then(|t| t.chars().next()).unwrap_or('?');
                return Err(format!(
                    "segment {} has {c:?} at offset {at}, not base64url",
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Base64url without padding, decoded (trailing bits of the last character dropped), or
/// the byte offset of the first character outside the alphabet.
fn base64url(s: &str) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut nbits) = (0u32, 0u32);
    for (i, b) in s.bytes().enumerate() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return Err(i),
        };
        acc = (acc << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((acc >> nbits) & 0xff) as u8);
            acc &= (1 << nbits) - 1;
        }
    }
    Ok(out)
}

/// Bits of a segment, read most significant first; `None` past the end.
struct Bits<'a>(&'a [u8]);

impl Bits<'_> {
    fn len(&self) -> usize {
        self.0.len() * 8
    }
    fn get(&self, start: usize, n: usize) -> Option<u64> {
        if start.checked_add(n)? > self.len() {
            return None;
        }
        let mut v = 0u64;
        for i in start..start + n {
            let byte = self.0.get(i / 8)?;
            v = (v << 1) | u64::from((byte >> (7 - i % 8)) & 1);
        }
        Some(v)
    }
}

/// Would `lib_tcstring` 0.5.0 index past the end of this string's bytes (a panic), or
/// expand more than [`MAX_RANGE_IDS`] vendor ids? It reads some fields without a bounds
/// check (its `parse_from_bytes` indexes `val[..]` directly); this walks the same fields
/// in the same order, with the checks:
///
/// - an optional segment's type (bits 0-2) and, for disclosed / allowed vendors (types 1
///   and 2), `MaxVendorId` and `IsRangeEncoding` (bits 3-19): a segment under 20 bits
///   (base64 of 1-3 characters) panics `tcf_2.rs` `parse_vendor_segment_from_bytes`;
/// - the publisher TC segment (type 3) reads `NumCustomPurposes` (bits 51-56) first: a
///   segment under 57 bits (base64 of up to 10 characters) panics
///   `parse_publisher_tc_from_bytes`;
/// - the core segment's vendor sections: `MaxVendorId` and `IsRangeEncoding` (17 bits)
///   read whenever a section starts before the end (`parse_range_sections_from_bytes`),
///   and each range entry's `IsARange` bit read without a check
///   (`parse_vendor_range_from_bytes`);
/// - a range ending at vendor 65535 overflows `end_vendor_id + 1` (a panic with overflow
///   checks, as in debug builds).
///
/// `Ok` means it is safe to run (it may still return its own error). `s` is the string,
/// `segments` its decoded segments ([`check_tc_string`]).
fn lib_tcstring_preflight(s: &str, segments: &[Vec<u8>]) -> Result<(), Unsafe> {
    // Its first check: a string that does not start with `C` (version 2) is an error.
    if !s.starts_with('C') {
        return Ok(());
    }
    let mut budget = MAX_RANGE_IDS;
    let Some((core, optional)) = segments.split_first() else {
        return Ok(());
    };
    let bits = Bits(core);
    // Its own check: a core under 213 bits is an error it returns before anything else.
    if bits.len() < 213 {
        return Ok(());
    }
    let mut start = 213;
    for section in 0..3 {
        if start >= bits.len() {
            break;
        }
        if section < 2 {
            let (Some(max_vendor), Some(is_range)) = (bits.get(start, 16), bits.get(start + 16, 1))
            else {
                return Err(Unsafe::ForLib(format!(
                    "the core segment ends inside a vendor section header (bit {start} of {})",
                    bits.len()
                )));
            };
            if is_range == 0 {
                start += 17 + max_vendor as usize;
                if start > bits.len() {
                    // A bitfield past the end: its checked read, an error.
                    return Ok(());
                }
            } else {
                match vendor_ranges(&bits, start + 17, &mut budget)? {
                    Some(end) => start = end,
                    None => return Ok(()),
                }
            }
        } else {
            // Publisher restrictions: each header is checked, each vendor range is not.
            let Some(count) = bits.get(start, 12) else {
                return Ok(());
            };
            let mut at = start + 12;
            for _ in 0..count {
                if at + 8 > bits.len() {
                    return Ok(());
                }
                match vendor_ranges(&bits, at + 8, &mut budget)? {
                    Some(end) => at = end,
                    None => return Ok(()),
                }
            }
            break;
        }
    }
    for (i, seg) in optional.iter().enumerate() {
        let bits = Bits(seg);
        let n = i + 2;
        match bits.get(0, 3) {
            Some(1 | 2) => {
                let Some(is_range) = bits.get(19, 1) else {
                    return Err(Unsafe::ForLib(format!(
                        "segment {n} (disclosed or allowed vendors) is {} bits, under the 20 \
                         its header needs",
                        bits.len()
                    )));
                };
                let max_vendor = bits.get(3, 16).unwrap_or_default() as usize;
                // A bitfield or a range past the end: its checked read, an error.
                if is_range == 0 && 20 + max_vendor > bits.len()
                    || is_range == 1 && vendor_ranges(&bits, 20, &mut budget)?.is_none()
                {
                    return Ok(());
                }
            }
            Some(3) => {
                let Some(custom) = bits.get(51, 6) else {
                    return Err(Unsafe::ForLib(format!(
                        "segment {n} (publisher TC) is {} bits, under the 57 its header needs",
                        bits.len()
                    )));
                };
                if 57 + 2 * custom as usize > bits.len() {
                    return Ok(());
                }
            }
            // Another type: an error it returns.
            Some(_) => return Ok(()),
            None => {
                return Err(Unsafe::ForLib(format!("segment {n} is under 3 bits")));
            }
        }
    }
    Ok(())
}

/// A `NumEntries` + entries vendor range starting at `start`, as `lib_tcstring` reads it:
/// `Ok(Some(end bit))`, `Ok(None)` where it returns its own error (a checked read past
/// the end), `Err` where it would panic or expand more than the budget.
fn vendor_ranges(bits: &Bits, start: usize, budget: &mut usize) -> Result<Option<usize>, Unsafe> {
    let Some(entries) = bits.get(start, 12) else {
        return Ok(None);
    };
    let mut at = start + 12;
    for _ in 0..entries {
        let Some(is_range) = bits.get(at, 1) else {
            return Err(Unsafe::ForLib(format!(
                "a vendor range entry starts at the end of a segment (bit {at} of {})",
                bits.len()
            )));
        };
        if is_range == 1 {
            let (Some(first), Some(last)) = (bits.get(at + 1, 16), bits.get(at + 17, 16)) else {
                return Ok(None);
            };
            if last == 65_535 {
                return Err(Unsafe::ForLib(
                    "a vendor range ends at vendor 65535".to_string(),
                ));
            }
            let n = (last + 1).saturating_sub(first) as usize;
            *budget = budget.checked_sub(n).ok_or_else(range_ids_exceeded)?;
            at += 33;
        } else {
            if at + 17 > bits.len() {
                return Ok(None);
            }
            *budget = budget.checked_sub(1).ok_or_else(range_ids_exceeded)?;
            at += 17;
        }
    }
    Ok(Some(at))
}

/// How many vendor ids `iab_gpp` 0.1.2 expands while reading a core segment's publisher
/// restrictions. It reads them as GPP ranges (`Key`, `Type`, a 16-bit `MaxId`, an
/// `IsIntRange` bit, then `NumEntries` + entries or a bitfield), not as TCF's, so its
/// reading differs from `lib_tcstring`'s ([`lib_tcstring_preflight`] counts that one);
/// each entry may expand up to 65,536 ids. The vendor sections before them are read
/// alike by both and counted there. Stops where `iab_gpp` would hit the end.
fn iab_gpp_restriction_ids(core: &[u8]) -> usize {
    let bits = Bits(core);
    let mut at = 213;
    for _ in 0..2 {
        let (Some(max_vendor), Some(is_range)) = (bits.get(at, 16), bits.get(at + 16, 1)) else {
            return 0;
        };
        at += 17;
        if is_range == 0 {
            at += max_vendor as usize;
        } else {
            let Some(entries) = bits.get(at, 12) else {
                return 0;
            };
            at += 12;
            for _ in 0..entries {
                at += if bits.get(at, 1) == Some(1) { 33 } else { 17 };
            }
        }
    }
    let mut ids = 0usize;
    let Some(count) = bits.get(at, 12) else {
        return 0;
    };
    at += 12;
    for _ in 0..count {
        let (Some(max_id), Some(is_int_range)) = (bits.get(at + 8, 16), bits.get(at + 24, 1))
        else {
            return ids;
        };
        at += 25;
        if is_int_range == 0 {
            at += max_id as usize;
            continue;
        }
        let Some(entries) = bits.get(at, 12) else {
            return ids;
        };
        at += 12;
        for _ in 0..entries {
            match bits.get(at, 1) {
                Some(1) => {
                    let (Some(first), Some(last)) = (bits.get(at + 1, 16), bits.get(at + 17, 16))
                    else {
                        return ids;
                    };
                    ids += (last + 1).saturating_sub(first) as usize;
                    at += 33;
                }
                Some(_) => {
                    ids += 1;
                    at += 17;
                }
                None => return ids,
            }
        }
    }
    ids
}

fn range_ids_exceeded() -> Unsafe {
    Unsafe::ForBoth(format!(
        "its vendor ranges name more than {MAX_RANGE_IDS} vendor ids"
    ))
}

/// What [`lib_tcstring_preflight`] found.
enum Unsafe {
    /// `lib_tcstring` would panic: run `iab_gpp` only (its reads are all checked).
    ForLib(String),
    /// Neither may run: the ranges expand past [`MAX_RANGE_IDS`].
    ForBoth(String),
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
/// (`${GDPR_CONSENT_755}`), carry no TCF signal.
pub fn from_request(r: &RequestObs) -> Option<SignalObs> {
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
    let mut data = TcfSignal::from_string(&tc);
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
    /// The signals the probe read: the page API's answer and the CMP's cookie.
    pub fn signals(
        &self,
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
            let mut data = TcfSignal::from_string(s);
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
                (Some(s), _) if !s.is_empty() => TcfSignal::from_string(s),
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
                data: super::SignalData::Tcf(Box::new(TcfSignal::from_string(c))),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConsentState, TargetKind};

    // Made by @iabtcf/core 1.5.6 (fixtures/gen/tcf-golden.mjs, "partial"); the full golden
    // set is checked in tests/tcf_golden.rs against `make fixtures`' output.
    const PARTIAL: &str = "CQujIwAQujIwAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK.cCAAAEAAAAAA";

    #[test]
    fn decodes_bits_and_segments() {
        let d = decode(PARTIAL).unwrap();
        assert_eq!(d.cmp_id, 300);
        assert_eq!(d.cmp_version, 7);
        assert_eq!(d.purpose_consents, BTreeSet::from([1, 8]));
        assert_eq!(d.purpose_legitimate_interests, BTreeSet::from([7, 9]));
        assert_eq!(d.vendor_consents, BTreeSet::from([20]));
        assert_eq!(d.segments, vec!["core", "publisher_tc"]);
        assert_eq!(
            d.publisher.as_ref().unwrap().consents,
            BTreeSet::from([1, 8])
        );
        assert!(d.forbidden_li().is_empty());
        // iab_gpp 0.1.2 cannot read publisher restrictions: lib_tcstring's reading is kept.
        assert_eq!(d.publisher_restrictions.len(), 1);
        assert_eq!(d.publisher_restrictions[0].restriction, "not_allowed");
        assert_eq!(d.publisher_restrictions[0].vendors, BTreeSet::from([10]));
        assert!(d.decoder.starts_with("lib_tcstring"), "{}", d.decoder);
        assert!(d.bits().contains("consent purposes 1,8"));
    }

    #[test]
    fn probe_events_between_probes_are_kept_in_their_own_phase() {
        use crate::model::ConsentAction;
        let now = Utc::now();
        let earlier = now - chrono::Duration::seconds(2);
        let before = ConsentState::initial();
        let after = before.after(ConsentAction::RejectAll);
        let probe: PageProbe = serde_json::from_value(serde_json::json!({
            "api": true, "answered": true, "success": true, "tcString": PARTIAL,
            "eventStatus": "useractioncomplete",
            "events": [
                {"tcString": "CQujIwAQujIwAEsAHBENDIFgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA",
                 "eventStatus": "cmpuishown", "at": earlier.timestamp_millis() as f64},
                {"tcString": PARTIAL, "eventStatus": "useractioncomplete",
                 "at": now.timestamp_millis() as f64}
            ]
        }))
        .unwrap();
        let cut = now - chrono::Duration::seconds(1);
        let sigs = probe.signals(now, "https://p.test/", &after, |t| {
            if t < cut {
                before.clone()
            } else {
                after.clone()
            }
        });
        // The interim event (before the action), then the answer; the event equal to the
        // answer is not repeated.
        assert_eq!(sigs.len(), 2, "{sigs:#?}");
        assert_eq!(sigs[0].state.phase(), "before-choice");
        assert!(
            matches!(&sigs[0].source, SignalSource::PageApi { api } if api.contains("addEventListener"))
        );
        assert_eq!(sigs[1].state.phase(), "after-reject_all");
    }

    /// Core segment of [`PARTIAL`], then an optional segment of 1-4 base64 characters
    /// whose first three bits say disclosed vendors (`I`: 001), allowed vendors (`Q`: 010)
    /// or publisher TC (`Y`: 011), with whether the decode of commit ea0edd5 panicked on
    /// it (measured: `index out of bounds` in `lib_tcstring` 0.5.0's `parse_from_bytes`,
    /// exit 101). `I`/`Q` of 2-3 characters and `Y` of 2-4 did; 1 character is a base64
    /// error, and `I`/`Q` of 4 characters is an ordinary, empty vendor segment.
    fn hostile_strings() -> Vec<(String, bool)> {
        let core = PARTIAL.split('.').next().unwrap_or_default();
        let mut out = Vec::new();
        for kind in ['I', 'Q', 'Y'] {
            for len in 1..=4 {
                let panicked = len >= 2 && (len <= 3 || kind == 'Y');
                out.push((format!("{core}.{kind}{}", "A".repeat(len - 1)), panicked));
            }
        }
        out
    }

    /// Decoded or undecodable with the reason, never dropped; a string that used to panic
    /// `lib_tcstring` says it was not run on it.
    fn assert_recorded(sig: &TcfSignal, s: &str, panicked: bool) {
        assert_eq!(sig.string_len, s.len(), "{s}");
        assert_eq!(sig.string_hash, hash_value(s), "{s}");
        let said = match (&sig.decoded, &sig.error) {
            (Some(d), _) => d.decoder.clone(),
            (None, Some(e)) => {
                assert!(e.starts_with("undecodable TC string"), "{s}: {e}");
                e.clone()
            }
            (None, None) => panic!("{s}: neither decoded nor an error"),
        };
        if panicked {
            assert!(
                said.contains("lib_tcstring 0.5.0 not run: segment 2"),
                "{s}: {said}"
            );
        }
    }

    #[test]
    fn short_optional_segments_do_not_panic_the_decoder() {
        for (s, panicked) in hostile_strings() {
            assert_recorded(&TcfSignal::from_string(&s), &s, panicked);
        }
        // Lengths 2-4 of the publisher TC segment: `lib_tcstring` is not run, for a reason.
        let core = PARTIAL.split('.').next().unwrap_or_default();
        let e = match decode(&format!("{core}.YAA")) {
            Ok(d) => d.decoder,
            Err(e) => e,
        };
        assert!(
            e.contains("lib_tcstring 0.5.0 not run: segment 2 (publisher TC) is 16 bits"),
            "{e}"
        );
    }

    #[test]
    fn hostile_request_parameter_is_a_signal_not_a_panic() {
        for (s, panicked) in hostile_strings() {
            let sig = from_request(&request(&format!(
                "https://ads.test/p?gdpr=1&gdpr_consent={s}"
            )))
            .expect("a TCF signal");
            let super::super::SignalData::Tcf(t) = sig.data else {
                panic!("not TCF")
            };
            assert_eq!(t.gdpr_applies, Some(true));
            assert_recorded(&t, &s, panicked);
        }
    }

    #[test]
    fn hostile_page_api_answer_cookie_and_events_are_signals_not_a_panic() {
        let now = Utc::now();
        for (s, panicked) in hostile_strings() {
            let probe: PageProbe = serde_json::from_value(serde_json::json!({
                "api": true, "answered": true, "success": true, "tcString": s,
                "eventStatus": "tcloaded", "cookie": s, "cookieDomain": "p.test",
                "events": [{"tcString": format!("{s}A"), "eventStatus": "cmpuishown",
                            "at": now.timestamp_millis() as f64}]
            }))
            .expect("probe JSON");
            let state = ConsentState::initial();
            let sigs = probe.signals(now, "https://p.test/", &state, |_| state.clone());
            assert_eq!(sigs.len(), 3, "{s}: {sigs:#?}");
            for sig in &sigs {
                let super::super::SignalData::Tcf(t) = &sig.data else {
                    panic!("not TCF")
                };
                match &sig.source {
                    // The announcement carries one more character (`…A`).
                    SignalSource::PageApi { api } if api.contains("addEventListener") => {
                        assert_recorded(t, &format!("{s}A"), false)
                    }
                    _ => assert_recorded(t, &s, panicked),
                }
            }
        }
    }

    #[test]
    fn hostile_cmp_record_is_unreadable_not_a_panic() {
        use crate::cmp::{interpret_readback, Readback};
        for (s, panicked) in hostile_strings() {
            let res = serde_json::json!({"tcf": {"present": true, "record": {
                "source": "__tcfapi getTCData", "tcString": s, "eventStatus": "useractioncomplete"}}});
            match interpret_readback(&res, None) {
                Readback::Recorded { record } => assert_eq!(record.reader, "tcf"),
                Readback::Unreadable { reader, error } => {
                    assert_eq!(reader, "tcf");
                    assert!(error.starts_with("undecodable TC string"), "{s}: {error}");
                    assert!(
                        !panicked || error.contains("lib_tcstring 0.5.0 not run"),
                        "{error}"
                    );
                }
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    /// Base64url of bits (`"0110..."`), padded with zero bits to a whole character.
    fn encode_bits(bits: &str) -> String {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        bits.as_bytes()
            .chunks(6)
            .map(|c| {
                let v = c
                    .iter()
                    .chain(std::iter::repeat(&b'0'))
                    .take(6)
                    .fold(0usize, |v, b| (v << 1) | usize::from(*b == b'1'));
                B64[v] as char
            })
            .collect()
    }

    fn field(v: u64, width: usize) -> String {
        format!("{v:0width$b}")
    }

    #[test]
    fn limits_and_checks_come_before_the_libraries() {
        let core = PARTIAL.split('.').next().unwrap_or_default();
        let long = format!("{core}.{}", "A".repeat(MAX_TC_STRING_LEN));
        let e = decode(&long).unwrap_err();
        assert_eq!(
            e,
            format!(
                "undecodable TC string: too long ({} bytes, the limit is 8192)",
                long.len()
            )
        );
        let sig = TcfSignal::from_string(&long);
        assert_eq!((sig.string_len, sig.error), (long.len(), Some(e)));
        assert!(decode(&format!("{core}....."))
            .unwrap_err()
            .contains("6 segments"));
        assert!(decode(&format!("{core}..YAAA"))
            .unwrap_err()
            .contains("segment 2 is empty"));
        let e = decode(&format!("{core}.YA+A")).unwrap_err();
        assert!(
            e.contains("segment 2 has '+' at offset 2, not base64url"),
            "{e}"
        );
        // At the limit is decoded as usual (here: a string too long to mean anything).
        let at_limit = format!("{core}.{}", "Y".repeat(MAX_TC_STRING_LEN - core.len() - 1));
        assert!(!decode(&at_limit).is_err_and(|e| e.contains("too long")));

        // Vendor ranges that would expand to millions of ids: neither library runs.
        let mut bits = "000010".to_string(); // version 2: `C`
        bits.push_str(&"0".repeat(207));
        bits.push_str(&field(65_534, 16)); // MaxVendorId
        bits.push('1'); // IsRangeEncoding
        bits.push_str(&field(5, 12)); // NumEntries
        for _ in 0..5 {
            bits.push('1');
            bits.push_str(&field(1, 16));
            bits.push_str(&field(65_534, 16));
        }
        let e = decode(&encode_bits(&bits)).unwrap_err();
        assert!(e.contains("more than 262144 vendor ids"), "{e}");

        // The same through `iab_gpp`'s reading of publisher restrictions (lib_tcstring
        // reads no range there): `iab_gpp` is not run, and says so.
        let mut bits = "000010".to_string();
        bits.push_str(&"0".repeat(207));
        bits.push_str(&"0".repeat(34)); // two empty vendor bitfields
        bits.push_str(&field(1, 12)); // one restriction
        bits.push_str(&field(1, 6)); // purpose 1
        bits.push_str("00"); // not allowed
        bits.push_str(&field(0, 16)); // iab_gpp: MaxId; lib_tcstring: NumEntries 0, ...
        bits.push('1'); // iab_gpp: IsIntRange
        bits.push_str(&field(5, 12));
        for _ in 0..5 {
            bits.push('1');
            bits.push_str(&field(1, 16));
            bits.push_str(&field(65_534, 16));
        }
        bits.push_str(&"0".repeat(16)); // padding, so the last entry is whole bytes
        let s = encode_bits(&bits);
        assert_eq!(iab_gpp_restriction_ids(&base64url(&s).unwrap()), 5 * 65_534);
        match decode(&s) {
            Ok(d) => assert!(
                d.decoder.contains("iab_gpp 0.1.2 not run: its reading"),
                "{}",
                d.decoder
            ),
            Err(e) => assert!(e.contains("iab_gpp 0.1.2 not run: its reading"), "{e}"),
        }
    }

    /// The preflight against `lib_tcstring` itself, on mutated strings: wherever it says
    /// "safe", the library does not panic (sound); and it refuses no more than it must
    /// (every refusal is a real panic, except where the library's stricter base64 decoder
    /// returns an error first).
    #[test]
    fn preflight_is_exactly_the_panics_of_lib_tcstring() {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let seeds = [
            PARTIAL,
            "CQujIwAQujIwAEsAHBENDIFsAP_gAEPgAAYgAeABAEAQBAEAQAeAAAIAgAAA.YAAAAAAAAAAA",
            "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA",
            "COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.YAAAAAAAAAAAAAAAAAA",
        ];
        let mut x: u64 = 0x5eed_2500_0000_0001;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut safe, mut refused, mut refused_and_panicked) = (0, 0, 0);
        for i in 0..20_000 {
            let mut s = seeds[i % seeds.len()].as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % (s.len() + 1);
                match next() % 3 {
                    0 => s.truncate(at.max(1)),
                    1 if at < s.len() => s[at] = B64[(next() as usize) % 64],
                    _ => s.insert(
                        at,
                        if next() % 4 == 0 {
                            b'.'
                        } else {
                            B64[(next() as usize) % 64]
                        },
                    ),
                }
            }
            let s = String::from_utf8_lossy(&s).into_owned();
            let Ok(segments) = check_tc_string(&s) else {
                continue;
            };
            let ran = contained(LIB_TCSTRING, || decode_lib_tcstring(&s));
            match lib_tcstring_preflight(&s, &segments) {
                Ok(()) => {
                    safe += 1;
                    assert!(ran.is_ok(), "{s}: said safe, but {ran:?}");
                }
                Err(Unsafe::ForLib(why)) => {
                    refused += 1;
                    if ran.is_err() {
                        refused_and_panicked += 1;
                    } else {
                        assert!(
                            matches!(&ran, Ok(Err(e)) if e.contains("Base64")),
                            "{s}: refused ({why}) but {ran:?}"
                        );
                    }
                }
                Err(Unsafe::ForBoth(_)) => {}
            }
        }
        println!(
            "preflight: {safe} safe (none panicked), {refused} refused, \
             {refused_and_panicked} of them panics when run"
        );
        assert!(
            safe > 1000 && refused_and_panicked > 100,
            "{safe} safe, {refused} refused"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for s in ["", "x", "CPX", "!!!!", "CQujIwAQ", "${GDPR}"] {
            let sig = TcfSignal::from_string(s);
            assert!(sig.decoded.is_none(), "{s}");
            assert!(sig.error.is_some(), "{s}");
        }
    }

    fn request(url: &str) -> RequestObs {
        RequestObs {
            url: url.to_string(),
            method: "GET".into(),
            resource_type: "Image".into(),
            initiator: None,
            frame_id: None,
            target: TargetKind::Page,
            status: Some(200),
            error: None,
            cancelled: false,
            time: Utc::now(),
            page: "https://www.tcf-shop.test/".into(),
            state: ConsentState::initial(),
        }
    }

    #[test]
    fn request_parameter_is_decoded_and_macros_skipped() {
        let req = request;
        let s = from_request(&req(&format!(
            "https://ads.test/p?gdpr=1&gdpr_consent={PARTIAL}"
        )))
        .unwrap();
        let super::super::SignalData::Tcf(t) = s.data else {
            panic!("not TCF")
        };
        assert_eq!(t.gdpr_applies, Some(true));
        assert_eq!(t.decoded.unwrap().vendor_consents, BTreeSet::from([20]));
        assert!(
            from_request(&req("https://ads.test/p?gdpr_consent=${GDPR_CONSENT_755}")).is_none()
        );
        assert!(from_request(&req("https://ads.test/p?x=1")).is_none());
    }
}
