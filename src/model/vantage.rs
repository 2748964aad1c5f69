//! Where an audit looks from (docs/scenarios.md#vantage): the `[vantage]` of a scenario
//! file (or its fleet's default), as stored with every run and shown in every report.
//!
//! Plain data, never credentials: a proxy's user and password stay in the browser
//! options ([`crate::scenario::ProxyAuth`]) and are secrets of the site.

use serde::{Deserialize, Serialize};

/// The label of a run audited without `[vantage]` (and of runs stored before schema 22).
pub const DEFAULT_LABEL: &str = "default";

/// A vantage: its label and what it changes in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vantage {
    /// Letters, digits, `-` and `_` (`eu-de`); [`DEFAULT_LABEL`] without `[vantage]`.
    pub label: String,
    /// The proxy every request goes through, `http://host:port` or `socks5://host:port`
    /// (never with credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// The proxy is given a user and password (from the environment).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub proxy_auth: bool,
    /// BCP 47 language tag (`de-DE`): `Accept-Language` and `navigator.languages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// IANA time zone (`Europe/Berlin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl Default for Vantage {
    fn default() -> Self {
        Vantage {
            label: DEFAULT_LABEL.to_string(),
            proxy: None,
            proxy_auth: false,
            locale: None,
            timezone: None,
        }
    }
}

impl Vantage {
    /// A vantage stored with only its label (a run whose settings were not readable).
    pub fn labelled(label: &str) -> Vantage {
        Vantage {
            label: label.to_string(),
            ..Vantage::default()
        }
    }

    /// What it sets, in one line: `proxy http://p:3128 (with credentials), locale de-DE,
    /// timezone Europe/Berlin`; `direct` when it sets nothing.
    pub fn settings(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.proxy {
            parts.push(if self.proxy_auth {
                format!("proxy {p} (with credentials)")
            } else {
                format!("proxy {p}")
            });
        }
        if let Some(l) = &self.locale {
            parts.push(format!("locale {l}"));
        }
        if let Some(t) = &self.timezone {
            parts.push(format!("timezone {t}"));
        }
        if parts.is_empty() {
            "direct, the browser's own locale and timezone".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// `eu-de (proxy http://p:3128, locale de-DE, timezone Europe/Berlin)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.label, self.settings())
    }

    /// The `Accept-Language` value of its locale: `de-DE,de;q=0.9` (the tag, then its
    /// language alone when it has a region), as Chromium writes it from `--accept-lang`.
    pub fn accept_languages(&self) -> Option<String> {
        let l = self.locale.as_deref()?;
        match l.split_once('-') {
            Some((lang, _)) => Some(format!("{l},{lang}")),
            None => Some(l.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_direct_and_settings_never_hold_credentials() {
        let d = Vantage::default();
        assert_eq!(d.label, "default");
        assert_eq!(
            d.describe(),
            "default (direct, the browser's own locale and timezone)"
        );
        let v = Vantage {
            label: "eu-de".into(),
            proxy: Some("http://127.0.0.1:3128".into()),
            proxy_auth: true,
            locale: Some("de-DE".into()),
            timezone: Some("Europe/Berlin".into()),
        };
        assert_eq!(
            v.describe(),
            "eu-de (proxy http://127.0.0.1:3128 (with credentials), locale de-DE, timezone Europe/Berlin)"
        );
        assert_eq!(v.accept_languages().as_deref(), Some("de-DE,de"));
        let json = serde_json::to_string(&v).unwrap();
        let back: Vantage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"label":"default"}"#);
    }
}
