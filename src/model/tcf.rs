//! IAB TCF v2: what a TC string says (decoded by `crate::signals::tcf`, never here).
//! A TC string is kept only as a keyed hash next to what it decoded to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The cookie IAB TCF v2 CMPs keep their TC string in (first party, by convention).
pub const TC_COOKIE: &str = "euconsent-v2";

/// A TC string seen somewhere, decoded (or why not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcfSignal {
    /// Keyed hash of the TC string as seen (empty string: no string).
    pub string_hash: String,
    /// Its length, so evidence can tell a truncated string from a different one.
    pub string_len: usize,
    /// `None` when the string could not be decoded (see `error`) or there was none.
    pub decoded: Option<TcfDecoded>,
    pub error: Option<String>,
    /// `gdprApplies` (page API) or the `gdpr` request parameter.
    pub gdpr_applies: Option<bool>,
    /// `eventStatus` of the page API's answer (`tcloaded`, `cmpuishown`, `useractioncomplete`).
    pub event_status: Option<String>,
    /// `cmpStatus` of the page API's answer (`loaded`, `error`, ...).
    pub cmp_status: Option<String>,
}

/// What a TC string says (TCF v2 core segment and the optional segments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcfDecoded {
    pub created: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
    pub cmp_id: u16,
    pub cmp_version: u16,
    pub consent_screen: u8,
    pub consent_language: String,
    pub vendor_list_version: u16,
    /// TCF policy version: 4 and above is TCF 2.2.
    pub policy_version: u8,
    pub is_service_specific: bool,
    pub use_non_standard_texts: bool,
    pub purpose_one_treatment: bool,
    pub publisher_country_code: String,
    pub special_feature_optins: BTreeSet<u16>,
    pub purpose_consents: BTreeSet<u16>,
    pub purpose_legitimate_interests: BTreeSet<u16>,
    pub vendor_consents: BTreeSet<u16>,
    pub vendor_legitimate_interests: BTreeSet<u16>,
    pub publisher_restrictions: Vec<PublisherRestriction>,
    /// The publisher purposes segment, when present.
    pub publisher: Option<PublisherSegment>,
    /// The disclosed-vendors segment, when present.
    pub disclosed_vendors: Option<BTreeSet<u16>>,
    /// Which segments the string has: `core`, `disclosed_vendors`, `allowed_vendors`,
    /// `publisher_tc`.
    pub segments: Vec<String>,
    /// Which decoder's reading this is (`crate::signals::tcf::decode`).
    #[serde(default)]
    pub decoder: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherRestriction {
    pub purpose: u8,
    /// `not_allowed`, `require_consent`, `require_legitimate_interest`, `undefined`.
    pub restriction: String,
    pub vendors: BTreeSet<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherSegment {
    pub consents: BTreeSet<u16>,
    pub legitimate_interests: BTreeSet<u16>,
    pub custom_consents: BTreeSet<u16>,
    pub custom_legitimate_interests: BTreeSet<u16>,
}

/// TCF 2.2 does not permit legitimate interest for purposes 1 and 3-6.
pub const LI_FORBIDDEN_PURPOSES: [u16; 5] = [1, 3, 4, 5, 6];

impl TcfDecoded {
    /// Consent granted for anything (a purpose, a vendor or a special feature).
    pub fn grants_consent(&self) -> bool {
        !self.purpose_consents.is_empty()
            || !self.vendor_consents.is_empty()
            || !self.special_feature_optins.is_empty()
    }

    /// Legitimate interest asserted for anything (a purpose or a vendor).
    pub fn asserts_li(&self) -> bool {
        !self.purpose_legitimate_interests.is_empty()
            || !self.vendor_legitimate_interests.is_empty()
    }

    /// Legitimate-interest bits for purposes TCF 2.2 forbids them for (policy version 4+).
    pub fn forbidden_li(&self) -> Vec<u16> {
        if self.policy_version < 4 {
            return Vec::new();
        }
        self.purpose_legitimate_interests
            .iter()
            .copied()
            .filter(|p| LI_FORBIDDEN_PURPOSES.contains(p))
            .collect()
    }

    /// The consent bits set here that `other` does not set (what this string grants
    /// beyond the other).
    pub fn consent_beyond(&self, other: &TcfDecoded) -> ConsentBits {
        ConsentBits {
            purposes: self
                .purpose_consents
                .difference(&other.purpose_consents)
                .copied()
                .collect(),
            vendors: self
                .vendor_consents
                .difference(&other.vendor_consents)
                .copied()
                .collect(),
            special_features: self
                .special_feature_optins
                .difference(&other.special_feature_optins)
                .copied()
                .collect(),
        }
    }

    /// The bits in compact form for evidence: `consent purposes 1,2; LI purposes 7; consent
    /// vendors 10,20; LI vendors 20; special features 1`.
    pub fn bits(&self) -> String {
        let mut parts = vec![
            format!("consent purposes {}", ids(&self.purpose_consents)),
            format!("LI purposes {}", ids(&self.purpose_legitimate_interests)),
            format!("consent vendors {}", ids(&self.vendor_consents)),
            format!("LI vendors {}", ids(&self.vendor_legitimate_interests)),
        ];
        if !self.special_feature_optins.is_empty() {
            parts.push(format!(
                "special features {}",
                ids(&self.special_feature_optins)
            ));
        }
        if !self.publisher_restrictions.is_empty() {
            let r: Vec<String> = self
                .publisher_restrictions
                .iter()
                .map(|r| format!("p{} {} {}", r.purpose, r.restriction, ids(&r.vendors)))
                .collect();
            parts.push(format!("restrictions {}", r.join(", ")));
        }
        parts.join("; ")
    }

    /// `CMP 300 v7, screen 1, GVL 200, policy 5`.
    pub fn header(&self) -> String {
        format!(
            "CMP {} v{}, screen {}, GVL {}, policy {}",
            self.cmp_id,
            self.cmp_version,
            self.consent_screen,
            self.vendor_list_version,
            self.policy_version
        )
    }
}

/// Consent bits, e.g. those one string grants beyond another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentBits {
    pub purposes: Vec<u16>,
    pub vendors: Vec<u16>,
    pub special_features: Vec<u16>,
}

impl ConsentBits {
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty() && self.vendors.is_empty() && self.special_features.is_empty()
    }
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.purposes.is_empty() {
            parts.push(format!("purposes {}", join(&self.purposes)));
        }
        if !self.vendors.is_empty() {
            parts.push(format!("vendors {}", join(&self.vendors)));
        }
        if !self.special_features.is_empty() {
            parts.push(format!("special features {}", join(&self.special_features)));
        }
        parts.join("; ")
    }
}

fn join(v: &[u16]) -> String {
    v.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

/// `1,2,3` or `none`.
pub fn ids(set: &BTreeSet<u16>) -> String {
    if set.is_empty() {
        "none".to_string()
    } else {
        set.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
    }
}

impl TcfSignal {
    pub fn summary(&self) -> String {
        match (&self.decoded, &self.error) {
            (Some(d), _) => format!("TCF {}: {}", d.header(), d.bits()),
            (None, Some(e)) => format!("TCF: {e}"),
            (None, None) => "TCF: nothing decoded".to_string(),
        }
    }
}
