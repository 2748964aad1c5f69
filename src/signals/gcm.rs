//! Google Consent Mode v2: the `gcs`, `gcd`, `dma`, `npa` and `gcu` parameters of
//! Google requests, decoded (docs/signals.md#google-consent-mode).
//!
//! - `gcs` (`G1xy`): the current `ad_storage` (x) and `analytics_storage` (y) state,
//!   `1` granted, `0` denied, `-` not set.
//! - `gcd` (`11p1p1p1p5`, `13p3p3p2p5l1`, ...): digits and letters alternate; the first
//!   four letters are `ad_storage`, `analytics_storage`, `ad_user_data` and
//!   `ad_personalization`, each letter saying both the default and the update state
//!   ([`Letter`], the table of Markus Baersch's write-up on simoahava.com). What follows
//!   the fourth letter is kept as it came, not interpreted.
//! - `dma`, `dma_cps`, `npa`, `gcu`, `gcut`: kept raw (`npa=1`: non-personalised ads).
//!
//! Pure: nothing here panics on a malformed parameter; what cannot be decoded is said
//! so, with the raw text. Values are bounded ([`MAX_PARAM_LEN`]) and decoded inside
//! [`super::contain::contained`].

use super::contain::{contained, too_long};
use crate::model::RequestObs;

pub use crate::model::gcm::*;

impl ConsentModeSignal {
    /// Decode the Consent Mode parameters of a URL; `None` when it carries none.
    pub fn from_url(url: &str) -> Option<ConsentModeSignal> {
        let parsed = url::Url::parse(url).ok()?;
        let mut s = ConsentModeSignal::default();
        let r = &mut s.raw;
        for (k, v) in parsed.query_pairs() {
            let slot = match k.as_ref() {
                "gcs" => &mut r.gcs,
                "gcd" => &mut r.gcd,
                "dma" => &mut r.dma,
                "dma_cps" => &mut r.dma_cps,
                "npa" => &mut r.npa,
                "gcu" => &mut r.gcu,
                "gcut" => &mut r.gcut,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(clip(&v));
            }
        }
        if r.gcs.is_none()
            && r.gcd.is_none()
            && r.dma.is_none()
            && r.npa.is_none()
            && r.gcu.is_none()
        {
            return None;
        }
        // Hand-written decoders, contained all the same (the module's promise: no page
        // brings the audit down).
        if let Some(raw) = &s.raw.gcs {
            match contained("gcs decoder", || decode_gcs(raw)).and_then(|r| r) {
                Ok(g) => s.gcs_decoded = Some(g),
                Err(e) => s.undecodable.push(format!("gcs `{raw}`: {e}")),
            }
        }
        if let Some(raw) = &s.raw.gcd {
            match contained("gcd decoder", || decode_gcd(raw)).and_then(|r| r) {
                Ok(g) => s.gcd_decoded = Some(g),
                Err(e) => s.undecodable.push(format!("gcd `{raw}`: {e}")),
            }
        }
        Some(s)
    }
}

/// Longest raw parameter kept (the rest is cut, marked with `…`).
const RAW_MAX: usize = 64;

fn clip(s: &str) -> String {
    if s.chars().count() <= RAW_MAX {
        return s.to_string();
    }
    let mut out: String = s.chars().take(RAW_MAX).collect();
    out.push('…');
    out
}

/// Longest `gcs` or `gcd` value decoded, in bytes (longer: undecodable, "too long").
/// Why 256: `gcs` is 4 characters (`G1xy`) and today's `gcd` 12 (`13p3p3p2p5l1`); 256
/// leaves room for many more consent types while keeping a decode a few hundred steps.
/// ([`ConsentModeSignal::from_url`] keeps at most [`RAW_MAX`] characters of a value.)
pub const MAX_PARAM_LEN: usize = 256;

/// `G1xy`: `G1`, then `ad_storage` and `analytics_storage` (`1`, `0` or `-`); further
/// characters are ignored. At most [`MAX_PARAM_LEN`] bytes.
pub fn decode_gcs(raw: &str) -> Result<Gcs, String> {
    if raw.len() > MAX_PARAM_LEN {
        return Err(too_long(raw.len(), MAX_PARAM_LEN));
    }
    let Some(rest) = raw.strip_prefix("G1") else {
        return Err("does not start with `G1`".to_string());
    };
    let mut chars = rest.chars();
    let mut next = |name: &str| -> Result<Option<Grant>, String> {
        match chars.next() {
            Some('1') => Ok(Some(Grant::Granted)),
            Some('0') => Ok(Some(Grant::Denied)),
            Some('-') => Ok(None),
            Some(c) => Err(format!("{name} is `{c}`, not 0, 1 or -")),
            None => Err(format!("too short: no {name}")),
        }
    };
    let ad_storage = next("ad_storage")?;
    let analytics_storage = next("analytics_storage")?;
    Ok(Gcs {
        ad_storage,
        analytics_storage,
    })
}

/// `gcd`: a digit, then (digit, letter) pairs; the first four letters are the four
/// types ([`LETTERS`]), what follows them is the trailer. At most [`MAX_PARAM_LEN`] bytes.
pub fn decode_gcd(raw: &str) -> Result<Gcd, String> {
    if raw.len() > MAX_PARAM_LEN {
        return Err(too_long(raw.len(), MAX_PARAM_LEN));
    }
    let chars: Vec<char> = raw.chars().collect();
    if chars.first().is_none_or(|c| !c.is_ascii_digit()) {
        return Err("does not start with a digit".to_string());
    }
    let mut types = Vec::new();
    let mut i = 1;
    for t in ConsentType::ALL {
        // One or more separator digits, then the type's letter.
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(match chars.get(i) {
                Some(c) => format!("`{c}` where a digit should precede {}", t.as_str()),
                None => format!("too short: no {}", t.as_str()),
            });
        }
        let Some(&letter) = chars.get(i) else {
            return Err(format!("too short: no {}", t.as_str()));
        };
        let Some(&(_, default, update)) = LETTERS.iter().find(|(l, _, _)| *l == letter) else {
            return Err(format!(
                "unknown letter `{letter}` for {} (known: lpqtrmnuv)",
                t.as_str()
            ));
        };
        types.push(TypeState {
            consent_type: t,
            letter,
            default,
            update,
        });
        i += 1;
    }
    let trailer: String = chars.get(i..).unwrap_or_default().iter().collect();
    if !trailer.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("unexpected `{trailer}` after the four types"));
    }
    Ok(Gcd { types, trailer })
}

/// Registrable domains of Google's tag and measurement endpoints, whose requests are
/// read for Consent Mode parameters (docs/signals.md).
pub const GOOGLE_DOMAINS: [&str; 7] = [
    "google-analytics.com",
    "googletagmanager.com",
    "doubleclick.net",
    "googleadservices.com",
    "googlesyndication.com",
    "googletagservices.com",
    "google.com",
];

/// Paths on `google.com` that are tag endpoints (`/ccm/collect`, conversion pings).
const GOOGLE_COM_PATHS: [&str; 4] = ["/ccm/", "/pagead/", "/ads/", "/rmkt/"];

/// Is `url` a request to one of Google's tag endpoints ([`GOOGLE_DOMAINS`]), or a
/// server-side tagging endpoint (`/g/collect` on any host)?
pub fn is_google_tag_url(url: &str) -> bool {
    let Some(host) = crate::net::network_host(url) else {
        return false;
    };
    let path = crate::net::url_path(url).unwrap_or_default();
    let domain = crate::net::registrable_domain(&host).unwrap_or_else(|| host.clone());
    if domain == "google.com" {
        return path == "/g/collect" || GOOGLE_COM_PATHS.iter().any(|p| path.starts_with(p));
    }
    GOOGLE_DOMAINS.contains(&domain.as_str()) || path == "/g/collect"
}

/// Is `url` a Google tag *library* (the script a page loads), as opposed to a hit?
pub fn is_tag_library(url: &str) -> bool {
    let path = crate::net::url_path(url).unwrap_or_default();
    let host = crate::net::network_host(url).unwrap_or_default();
    let domain = crate::net::registrable_domain(&host).unwrap_or(host);
    matches!(
        domain.as_str(),
        "googletagmanager.com" | "googletagservices.com" | "googlesyndication.com"
    ) && (path.starts_with("/gtag/")
        || path == "/gtm.js"
        || path.ends_with(".js")
        || path.starts_with("/tag/js/"))
}

/// The Consent Mode state of a Google request, when it carries one.
pub fn from_request(r: &RequestObs) -> Option<super::SignalObs> {
    if !is_google_tag_url(&r.url) {
        return None;
    }
    let signal = ConsentModeSignal::from_url(&r.url)?;
    Some(super::SignalObs {
        time: r.time,
        page: r.page.clone(),
        state: r.state.clone(),
        source: super::SignalSource::Request { url: r.url.clone() },
        data: super::SignalData::ConsentMode(signal),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(g: &Gcd) -> String {
        g.types.iter().map(|t| t.letter).collect()
    }

    #[test]
    fn documented_gcd_examples_decode() {
        // The examples of the write-up's table (docs/signals.md).
        let g = decode_gcd("11p1p1p1p5").unwrap();
        assert_eq!(letters(&g), "pppp");
        assert!(g
            .types
            .iter()
            .all(|t| t.default == Some(Grant::Denied) && t.update.is_none()));
        assert_eq!(g.trailer, "5");

        let g = decode_gcd("11l1p1l1l5").unwrap();
        assert_eq!(g.types[0].effective(), None);
        assert_eq!(g.types[1].consent_type, ConsentType::AnalyticsStorage);
        assert_eq!(g.types[1].effective(), Some(Grant::Denied));

        let g = decode_gcd("11p1q1p1p5").unwrap();
        assert_eq!(
            (g.types[1].default, g.types[1].update),
            (Some(Grant::Denied), Some(Grant::Denied))
        );
        let g = decode_gcd("11r1r1r1r5").unwrap();
        assert!(g
            .types
            .iter()
            .all(|t| t.default == Some(Grant::Denied) && t.effective() == Some(Grant::Granted)));
        let g = decode_gcd("11p1m1p1p5").unwrap();
        assert_eq!(
            (g.types[1].default, g.types[1].update),
            (None, Some(Grant::Denied))
        );
        let g = decode_gcd("11n1n1n1n5").unwrap();
        assert!(g
            .types
            .iter()
            .all(|t| t.default.is_none() && t.update == Some(Grant::Granted)));
        let g = decode_gcd("11u1u1u1u5").unwrap();
        assert!(g
            .types
            .iter()
            .all(|t| t.default == Some(Grant::Granted) && t.effective() == Some(Grant::Denied)));
        let g = decode_gcd("11v1v1v1v5").unwrap();
        assert!(g.types.iter().all(|t| t.update == Some(Grant::Granted)));
        let g = decode_gcd("11t1t1t1t5").unwrap();
        assert!(g
            .types
            .iter()
            .all(|t| t.default == Some(Grant::Granted) && t.update.is_none()));
    }

    #[test]
    fn current_gcd_form_with_other_separators_decodes() {
        // The form gtag sends today: other separator digits, a longer trailer.
        let g = decode_gcd("13p3p3p2p5l1").unwrap();
        assert_eq!(letters(&g), "pppp");
        assert_eq!(g.trailer, "5l1");
        let g = decode_gcd("13r3r3r2r5l1").unwrap();
        assert_eq!(g.types[3].consent_type, ConsentType::AdPersonalization);
        assert_eq!(g.types[3].effective(), Some(Grant::Granted));
    }

    #[test]
    fn malformed_gcd_is_undecodable_with_reason() {
        for (raw, why) in [
            ("", "does not start with a digit"),
            ("x1p1p1p1p5", "does not start with a digit"),
            ("11p1p1p", "too short: no ad_personalization"),
            ("11p1z1p1p5", "unknown letter `z` for analytics_storage"),
            (
                "11pp1p1p5",
                "`p` where a digit should precede analytics_storage",
            ),
            ("11p1p1p1p5!", "unexpected `5!`"),
            ("11p1p1p1", "too short: no ad_personalization"),
            ("1é", "`é` where a digit should precede ad_storage"),
        ] {
            let e = decode_gcd(raw).unwrap_err();
            assert!(e.contains(why), "{raw}: {e}");
        }
    }

    #[test]
    fn gcs_decodes_and_rejects() {
        assert_eq!(
            decode_gcs("G100").unwrap(),
            Gcs {
                ad_storage: Some(Grant::Denied),
                analytics_storage: Some(Grant::Denied)
            }
        );
        let g = decode_gcs("G101").unwrap();
        assert_eq!(g.ad_storage, Some(Grant::Denied));
        assert_eq!(g.analytics_storage, Some(Grant::Granted));
        assert_eq!(decode_gcs("G1--").unwrap().ad_storage, None);
        assert!(decode_gcs("G1").is_err());
        assert!(decode_gcs("G2").is_err());
        assert!(decode_gcs("G1x0").is_err());
        assert!(decode_gcs("").is_err());
    }

    #[test]
    fn url_parameters_are_read_and_described() {
        let s = ConsentModeSignal::from_url(
            "https://www.google-analytics.com/g/collect?v=2&tid=G-X&gcs=G100&gcd=13p3p3p2p5l1&dma=1&npa=1",
        )
        .unwrap();
        assert!(s.all_denied());
        assert!(s.missing_defaults().is_empty());
        assert_eq!(
            s.describe(),
            "gcs=G100 gcd=13p3p3p2p5l1 dma=1 npa=1 (ad_storage denied (default), \
             analytics_storage denied (default), ad_user_data denied (default), \
             ad_personalization denied (default))"
        );
        assert!(s.summary().starts_with("Consent Mode gcs=G100"));
        // Nothing of Consent Mode: no signal.
        assert!(
            ConsentModeSignal::from_url("https://www.google-analytics.com/g/collect?v=2").is_none()
        );
        assert!(ConsentModeSignal::from_url("not a url").is_none());
    }

    #[test]
    fn granted_and_undecodable_states() {
        let s = ConsentModeSignal::from_url("https://x.test/g/collect?gcs=G111&gcd=11r1r1r1r5")
            .unwrap();
        assert!(s.granted(ConsentType::AnalyticsStorage));
        assert!(!s.all_denied());
        assert!(s
            .describe()
            .contains("analytics_storage granted (default denied, updated)"));

        // gcs says denied, gcd says ad_user_data granted: not a cookieless ping.
        let s = ConsentModeSignal::from_url("https://x.test/g/collect?gcs=G100&gcd=11p1p1t1t5")
            .unwrap();
        assert!(s.granted(ConsentType::AdUserData));
        assert!(!s.all_denied());

        // A garbled gcd: undecodable, said with the raw text, never "denied".
        let s =
            ConsentModeSignal::from_url("https://x.test/g/collect?gcs=G100&gcd=zz%3Cb%3E").unwrap();
        assert_eq!(s.undecodable.len(), 1);
        assert!(
            s.describe().contains("undecodable gcd `zz<b>`"),
            "{}",
            s.describe()
        );
        assert!(!s.all_denied());

        // No default at all.
        let s = ConsentModeSignal::from_url("https://x.test/g/collect?gcd=11l1l1l1l5").unwrap();
        assert_eq!(s.missing_defaults().len(), 4);
        assert!(!s.all_denied());
        assert!(s.describe().contains("ad_storage not set"));
        let s = ConsentModeSignal::from_url("https://x.test/g/collect?npa=1").unwrap();
        assert!(!s.has_state());
        assert_eq!(s.missing_defaults().len(), 4);
    }

    #[test]
    fn long_parameters_are_clipped() {
        let long = "1".repeat(500);
        let s =
            ConsentModeSignal::from_url(&format!("https://x.test/g/collect?gcd={long}")).unwrap();
        assert!(s.raw.gcd.as_ref().unwrap().chars().count() <= RAW_MAX + 1);
        assert_eq!(s.undecodable.len(), 1);
    }

    #[test]
    fn values_over_the_limit_are_too_long() {
        let long = format!("G100{}", "0".repeat(MAX_PARAM_LEN));
        assert_eq!(
            decode_gcs(&long).unwrap_err(),
            format!("too long ({} bytes, the limit is 256)", long.len())
        );
        let long = format!("11p1p1p1p5{}", "5".repeat(MAX_PARAM_LEN));
        assert!(decode_gcd(&long).unwrap_err().starts_with("too long"));
        // At the limit: decoded as before.
        let at = format!("11p1p1p1p5{}", "5".repeat(MAX_PARAM_LEN - 10));
        assert_eq!(decode_gcd(&at).unwrap().trailer.len(), MAX_PARAM_LEN - 9);
        // Multi-byte characters count in bytes.
        assert!(decode_gcd(&"é".repeat(200))
            .unwrap_err()
            .starts_with("too long"));
    }

    #[test]
    fn gcs_and_gcd_disagreeing_is_said() {
        let s = ConsentModeSignal::from_url("https://x.test/g/collect?gcs=G110&gcd=11p1p1p1p5")
            .unwrap();
        assert!(s.granted(ConsentType::AdStorage));
        assert!(!s.denied(ConsentType::AdStorage));
        assert!(s.denied(ConsentType::AnalyticsStorage));
        assert!(
            s.describe().ends_with(", gcs says ad_storage granted)"),
            "{}",
            s.describe()
        );
    }

    #[test]
    fn arbitrary_parameters_never_panic() {
        // Deterministic pseudo-random strings over the characters that matter (and some
        // that do not), each decoded as gcs, gcd and inside a URL.
        let alphabet: Vec<char> = "0123456789lpqtrmnuvG-%&=é<>\\ ".chars().collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 16) as usize;
            let mut v = String::new();
            let mut y = x;
            for _ in 0..len {
                y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                v.push(alphabet[(y >> 33) as usize % alphabet.len()]);
            }
            let _ = decode_gcs(&v);
            let _ = decode_gcd(&v);
            if let Some(s) =
                ConsentModeSignal::from_url(&format!("https://x.test/g/collect?gcs={v}&gcd={v}"))
            {
                let _ = (s.describe(), s.all_denied(), s.missing_defaults());
            }
        }
    }

    #[test]
    fn google_tag_urls() {
        for u in [
            "https://www.google-analytics.com/g/collect?v=2",
            "https://region1.google-analytics.com/g/collect",
            "https://analytics.google.com/g/collect?v=2",
            "https://www.googletagmanager.com/gtag/js?id=G-1",
            "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/",
            "https://www.google.com/ccm/collect?en=page_view",
            "https://sgtm.shop.test/g/collect?v=2",
        ] {
            assert!(is_google_tag_url(u), "{u}");
        }
        for u in [
            "https://www.google.com/search?q=x",
            "https://www.shop.test/collect",
            "data:text/plain,x",
        ] {
            assert!(!is_google_tag_url(u), "{u}");
        }
        assert!(is_tag_library(
            "https://www.googletagmanager.com/gtag/js?id=G-1"
        ));
        assert!(is_tag_library(
            "https://www.googletagmanager.com/gtm.js?id=GTM-1"
        ));
        assert!(!is_tag_library(
            "https://www.google-analytics.com/g/collect"
        ));
    }
}
