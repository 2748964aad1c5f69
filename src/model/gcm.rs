//! Google Consent Mode v2: what the `gcs`, `gcd`, `dma`, `npa`, `gcu` parameters of one
//! Google request say (decoded by `crate::signals::gcm`, never here).

use serde::{Deserialize, Serialize};

/// A consent type of Consent Mode v2 that the `gcd` parameter encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentType {
    AdStorage,
    AnalyticsStorage,
    AdUserData,
    AdPersonalization,
}

impl ConsentType {
    /// The four types in the order `gcd` lists them.
    pub const ALL: [ConsentType; 4] = [
        ConsentType::AdStorage,
        ConsentType::AnalyticsStorage,
        ConsentType::AdUserData,
        ConsentType::AdPersonalization,
    ];

    /// The name `gtag('consent', …)` uses (`ad_storage`, …).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A storage type (`ad_storage`, `analytics_storage`): whether the tag may read or
    /// write cookies.
    pub fn is_storage(self) -> bool {
        matches!(self, ConsentType::AdStorage | ConsentType::AnalyticsStorage)
    }
}

/// Granted or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Grant {
    Granted,
    Denied,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One type's state as a `gcd` letter says it: the default (`gtag('consent',
/// 'default', …)`) and the update (`gtag('consent', 'update', …)`), each possibly unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeState {
    pub consent_type: ConsentType,
    /// The letter it was read from.
    pub letter: char,
    pub default: Option<Grant>,
    pub update: Option<Grant>,
}

impl TypeState {
    /// The state in force: the update when there was one, else the default.
    pub fn effective(&self) -> Option<Grant> {
        self.update.or(self.default)
    }

    /// `ad_storage denied (default)`, `analytics_storage granted (default denied, updated)`.
    pub fn describe(&self) -> String {
        let name = self.consent_type.as_str();
        match (self.default, self.update) {
            (None, None) => format!("{name} not set"),
            (Some(d), None) => format!("{name} {} (default)", d.as_str()),
            (None, Some(u)) => format!("{name} {} (update, no default)", u.as_str()),
            (Some(d), Some(u)) if d == u => {
                format!("{name} {} (default and update)", u.as_str())
            }
            (Some(d), Some(u)) => {
                format!("{name} {} (default {}, updated)", u.as_str(), d.as_str())
            }
        }
    }
}

/// The `gcd` letters: (letter, default, update).
///
/// Source: Markus Baersch, "Consent Mode V2 For Google Tags", simoahava.com (2024), the
/// table of `gcd` letters; the same table is in Commanders Act's and Didomi's guides.
pub const LETTERS: [(char, Option<Grant>, Option<Grant>); 9] = [
    ('l', None, None),
    ('p', Some(Grant::Denied), None),
    ('q', Some(Grant::Denied), Some(Grant::Denied)),
    ('t', Some(Grant::Granted), None),
    ('r', Some(Grant::Denied), Some(Grant::Granted)),
    ('m', None, Some(Grant::Denied)),
    ('n', None, Some(Grant::Granted)),
    ('u', Some(Grant::Granted), Some(Grant::Denied)),
    ('v', Some(Grant::Granted), Some(Grant::Granted)),
];

/// A decoded `gcd`: the four types, and what followed them (kept, not interpreted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gcd {
    pub types: Vec<TypeState>,
    pub trailer: String,
}

/// A decoded `gcs` (`G1xy`): the current storage states (`None`: `-`, not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gcs {
    pub ad_storage: Option<Grant>,
    pub analytics_storage: Option<Grant>,
}

/// The raw Consent Mode parameters of a request, as sent (absent ones are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawParams {
    pub gcs: Option<String>,
    pub gcd: Option<String>,
    pub dma: Option<String>,
    pub dma_cps: Option<String>,
    pub npa: Option<String>,
    pub gcu: Option<String>,
    pub gcut: Option<String>,
}

/// The Consent Mode state one Google request carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentModeSignal {
    /// The raw parameters (boxed: a signal stays small beside the other kinds).
    pub raw: Box<RawParams>,
    /// `gcs` decoded, when it could be.
    pub gcs_decoded: Option<Gcs>,
    /// `gcd` decoded, when it could be.
    pub gcd_decoded: Option<Gcd>,
    /// Why a parameter that was sent could not be decoded (with its raw text).
    pub undecodable: Vec<String>,
}

impl ConsentModeSignal {
    /// Did the request carry a Consent Mode state at all (a decodable `gcs` or `gcd`)?
    pub fn has_state(&self) -> bool {
        self.gcs_decoded.is_some() || self.gcd_decoded.is_some()
    }

    /// The `gcd` state of one type, when `gcd` was decoded.
    pub fn gcd_state(&self, t: ConsentType) -> Option<&TypeState> {
        self.gcd_decoded
            .as_ref()
            .and_then(|g| g.types.iter().find(|s| s.consent_type == t))
    }

    /// What `gcs` says of a storage type.
    fn gcs_state(&self, t: ConsentType) -> Option<Grant> {
        let g = self.gcs_decoded?;
        match t {
            ConsentType::AdStorage => g.ad_storage,
            ConsentType::AnalyticsStorage => g.analytics_storage,
            _ => None,
        }
    }

    /// Does any source (`gcs` or `gcd`) say `t` is granted?
    pub fn granted(&self, t: ConsentType) -> bool {
        self.gcs_state(t) == Some(Grant::Granted)
            || self.gcd_state(t).and_then(TypeState::effective) == Some(Grant::Granted)
    }

    /// Does every source that speaks of `t` say denied, and at least one speak of it?
    pub fn denied(&self, t: ConsentType) -> bool {
        let gcs = self.gcs_state(t);
        let gcd = self.gcd_state(t).and_then(TypeState::effective);
        (gcs.is_some() || gcd.is_some())
            && gcs != Some(Grant::Granted)
            && gcd != Some(Grant::Granted)
    }

    /// A cookieless ping's state: everything decodable, both storage types denied, and no
    /// type granted (`ad_user_data` / `ad_personalization` denied or not said).
    pub fn all_denied(&self) -> bool {
        self.undecodable.is_empty()
            && ConsentType::ALL
                .iter()
                .filter(|t| t.is_storage())
                .all(|t| self.denied(*t))
            && ConsentType::ALL.iter().all(|t| !self.granted(*t))
    }

    /// The types without a default: every `gcd` type whose letter has no default, or,
    /// with no Consent Mode state at all, all four.
    pub fn missing_defaults(&self) -> Vec<ConsentType> {
        match &self.gcd_decoded {
            Some(g) => g
                .types
                .iter()
                .filter(|s| s.default.is_none())
                .map(|s| s.consent_type)
                .collect(),
            None if self.gcs_decoded.is_some() => Vec::new(),
            None => ConsentType::ALL.to_vec(),
        }
    }

    /// The raw parameters and what they decode to, for evidence:
    /// `gcs=G100 gcd=11p1p1p1p5 (ad_storage denied (default), …)`.
    pub fn describe(&self) -> String {
        let mut raw = Vec::new();
        for (k, v) in [
            ("gcs", &self.raw.gcs),
            ("gcd", &self.raw.gcd),
            ("dma", &self.raw.dma),
            ("dma_cps", &self.raw.dma_cps),
            ("npa", &self.raw.npa),
            ("gcu", &self.raw.gcu),
            ("gcut", &self.raw.gcut),
        ] {
            if let Some(v) = v {
                raw.push(format!("{k}={v}"));
            }
        }
        let mut parts: Vec<String> = match (&self.gcd_decoded, self.gcs_decoded) {
            (Some(g), _) => g.types.iter().map(TypeState::describe).collect(),
            (None, Some(g)) => vec![
                gcs_phrase("ad_storage", g.ad_storage),
                gcs_phrase("analytics_storage", g.analytics_storage),
            ],
            (None, None) => Vec::new(),
        };
        if self.gcd_decoded.is_some() {
            if let Some(g) = self.gcs_decoded {
                // gcs is the current storage state; say so when it disagrees with gcd.
                for (t, v) in [
                    (ConsentType::AdStorage, g.ad_storage),
                    (ConsentType::AnalyticsStorage, g.analytics_storage),
                ] {
                    let gcd = self.gcd_state(t).and_then(TypeState::effective);
                    if v.is_some() && gcd.is_some() && v != gcd {
                        parts.push(format!("gcs says {}", gcs_phrase(t.as_str(), v)));
                    }
                }
            }
        }
        for u in &self.undecodable {
            parts.push(format!("undecodable {u}"));
        }
        if parts.is_empty() {
            parts.push("no consent state".to_string());
        }
        format!("{} ({})", raw.join(" "), parts.join(", "))
    }

    /// One line for the per-scenario signal view.
    pub fn summary(&self) -> String {
        format!("Consent Mode {}", self.describe())
    }
}

fn gcs_phrase(name: &str, g: Option<Grant>) -> String {
    match g {
        Some(g) => format!("{name} {}", g.as_str()),
        None => format!("{name} not set"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names `gtag('consent', …)` uses, the same from strum as from serde.
    #[test]
    fn names_are_gtags_and_serdes() {
        let names = [
            "ad_storage",
            "analytics_storage",
            "ad_user_data",
            "ad_personalization",
        ];
        for (t, n) in ConsentType::ALL.into_iter().zip(names) {
            assert_eq!(t.as_str(), n);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{n}\""));
        }
        for (g, n) in [(Grant::Granted, "granted"), (Grant::Denied, "denied")] {
            assert_eq!(g.as_str(), n);
            assert_eq!(serde_json::to_string(&g).unwrap(), format!("\"{n}\""));
        }
    }
}
