//! What one consent action was and did: how it was performed (autoconsent, selectors,
//! a CMP profile), what the CMP recorded afterwards, and whether its banner came back.
//! The readers that produce these live in `crate::cmp`.

use super::consent::{ConsentAction, ConsentEffect, Grant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// autoconsent's name for a consent action: `optIn` / `optOut`.
pub fn autoconsent_verb(action: ConsentAction) -> &'static str {
    match action {
        ConsentAction::AcceptAll => "optIn",
        ConsentAction::RejectAll | ConsentAction::ObjectLi | ConsentAction::AcceptSome => "optOut",
    }
}

/// Consent to consent-based purposes or services, as the CMP recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedConsent {
    /// Every consent-based item granted.
    Granted,
    /// Every consent-based item refused.
    Refused,
    /// Some granted, some refused.
    Partial,
    /// The record lists no consent-based item.
    Unknown,
}

/// On what footing a CMP's record holds an item: the CMP's own categories, not the
/// declared map's [`super::consent::LegalBasis`] (a CMP has `necessary` items, always on,
/// which the map declares as a purpose's `strictly_necessary` flag; it has no `contract`
/// or `legal_obligation`). The same names in JSON, the store and the reports
/// (`consent`, `legitimate_interest`, `necessary`); a stored record with another name does
/// not decode (a corrupt-database error, like any other stored enumeration).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RecordBasis {
    /// Allowed only with the visitor's consent.
    Consent,
    /// On until the visitor objects (Klaro's `optOut: true` services, TCF LI purposes).
    LegitimateInterest,
    /// Always on (Klaro's `required`, vanilla-cookieconsent's read-only categories).
    Necessary,
}

/// One item of a CMP record: a service or category and whether it is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordItem {
    pub name: String,
    pub allowed: bool,
    pub basis: RecordBasis,
    /// The TCF purpose (1-11) the item is, in a TC string's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcf_purpose: Option<u8>,
}

/// What the CMP recorded, interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmpRecord {
    /// The reader's name (`klaro`).
    pub reader: String,
    /// Where it was read (`cookie klaro`, `cookie cc_cookie`, `localStorage klaro`).
    pub source: String,
    pub consent: RecordedConsent,
    /// Legitimate-interest items switched off (`Some(true)`), all left on (`Some(false)`),
    /// or none in the record (`None`).
    pub li_objected: Option<bool>,
    pub items: Vec<RecordItem>,
}

impl CmpRecord {
    /// The consent effects this record means: granted / refused consent when every
    /// consent-based item agrees, an objection when a legitimate-interest item is off.
    pub fn effects(&self) -> Vec<ConsentEffect> {
        let mut out = Vec::new();
        match self.consent {
            RecordedConsent::Granted => out.push(ConsentEffect::GrantConsent),
            RecordedConsent::Refused => out.push(ConsentEffect::RefuseConsent),
            RecordedConsent::Partial | RecordedConsent::Unknown => {}
        }
        if self.li_objected == Some(true) {
            out.push(ConsentEffect::ObjectLi);
        }
        out
    }

    /// One line: `klaro (cookie klaro): google-analytics=off, hotjar=off (LI), ...`.
    pub fn summary(&self) -> String {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|i| {
                let li = if i.basis == RecordBasis::LegitimateInterest {
                    " (LI)"
                } else {
                    ""
                };
                format!("{}={}{li}", i.name, if i.allowed { "on" } else { "off" })
            })
            .collect();
        format!("{} ({}): {}", self.reader, self.source, items.join(", "))
    }

    /// Build a record from its items: consent and LI summarised.
    pub fn from_items(reader: &str, source: String, items: Vec<RecordItem>) -> CmpRecord {
        let consent: Vec<bool> = items
            .iter()
            .filter(|i| i.basis == RecordBasis::Consent)
            .map(|i| i.allowed)
            .collect();
        let li: Vec<bool> = items
            .iter()
            .filter(|i| i.basis == RecordBasis::LegitimateInterest)
            .map(|i| i.allowed)
            .collect();
        let consent = if consent.is_empty() {
            RecordedConsent::Unknown
        } else if consent.iter().all(|a| *a) {
            RecordedConsent::Granted
        } else if consent.iter().all(|a| !*a) {
            RecordedConsent::Refused
        } else {
            RecordedConsent::Partial
        };
        let li_objected = (!li.is_empty()).then(|| li.iter().any(|a| !*a));
        CmpRecord {
            reader: reader.to_string(),
            source,
            consent,
            li_objected,
            items,
        }
    }
}

/// How a consent action was performed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "after")]
pub enum Method {
    /// autoconsent's `optIn` / `optOut` on the detected CMP.
    Autoconsent,
    /// The scenario's selectors (no autoconsent).
    Selectors,
    /// The scenario's selectors, after autoconsent could not do it (why).
    Fallback(String),
    /// The steps of a CMP profile's flow (the profile's name and file).
    Profile(String),
    /// consentry's heuristic (no autoconsent rule, no profile, no selectors): the dialog
    /// and buttons found by their words (docs/heuristic.md).
    Heuristic(HeuristicAction),
}

/// How the heuristic found the consent dialog and what it clicked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeuristicAction {
    /// The weakest confidence of the dialog and every button clicked, in percent.
    pub confidence: u8,
    /// The dialog: `div#cookie-bar (fixed, in iframe#cmp)`.
    pub dialog: String,
    /// The consent words found in its text.
    pub words: Vec<String>,
    /// What was clicked, in order (settings, toggles switched off, reject / save).
    pub clicks: Vec<HeuristicClick>,
    /// A reject was wanted and none was found, on the first layer or the second.
    #[serde(default)]
    pub reject_missing: bool,
}

/// One click of a heuristic action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeuristicClick {
    /// What the button was taken for: `accept`, `reject`, `settings`, `save`, `toggle off`.
    pub button: String,
    /// The element: `button#agree`.
    pub element: String,
    /// Its label.
    pub text: String,
    /// The phrase of the vocabulary its label matched, and that phrase's language.
    pub phrase: String,
    pub language: String,
    /// In percent.
    pub confidence: u8,
}

/// What reading the CMP's record back gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Readback {
    /// No reader applies: no known CMP is on the page.
    NoReader,
    /// A known CMP is on the page, and recorded nothing after the action.
    NotRecorded {
        reader: String,
    },
    /// The record could not be read or understood.
    Unreadable {
        reader: String,
        error: String,
    },
    Recorded {
        record: CmpRecord,
    },
}

/// One consent action of a visit: how it was performed and what the CMP recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CmpAction {
    pub action: ConsentAction,
    /// Index of the scenario step.
    pub step: usize,
    pub page: String,
    /// When the action was performed (its record read back).
    pub time: DateTime<Utc>,
    pub method: Method,
    /// Did the method report success (autoconsent's result; all selector steps done)?
    pub success: bool,
    /// The CMP autoconsent detected (`cmpDetected`), when it ran.
    #[serde(default)]
    pub detected: Option<String>,
    /// autoconsent saw its popup open (`popupFound`).
    #[serde(default)]
    pub popup_found: bool,
    /// Navigation start of the page to autoconsent's `popupFound`, in ms.
    #[serde(default)]
    pub detect_ms: Option<u64>,
    /// `optIn` / `optOut` sent to `autoconsentDone`, in ms.
    #[serde(default)]
    pub done_ms: Option<u64>,
    /// Wall time the engine spent in autoconsent for this action (waiting for detection,
    /// then the action), in ms: what autoconsent adds to the scenario.
    #[serde(default)]
    pub added_ms: Option<u64>,
    pub readback: Readback,
    /// What the scenario declared the action records (`records`, or the defaults).
    pub declared: Vec<ConsentEffect>,
    /// The effects applied to the following phase.
    pub applied: Vec<ConsentEffect>,
    /// Where `applied` came from.
    pub effects_from: EffectsFrom,
    /// Pages loaded after this action on which the CMP's banner was on screen again
    /// (the consent banner's selector visible, or autoconsent finding its popup open).
    #[serde(default)]
    pub banner_again: Vec<BannerSeen>,
    /// What a partial consent (`accept_some`) granted: the visitor's action, per purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

/// Where a consent action's applied effects came from. Named in JSON, the store
/// (`visits.cmp_actions`) and the reports as `cmp-record`, `declared` and
/// `not performed` (strum and serde agree).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
)]
pub enum EffectsFrom {
    /// The CMP's record, read back after the action, decided the following phase.
    #[serde(rename = "cmp-record")]
    #[strum(serialize = "cmp-record")]
    CmpRecord,
    /// The scenario's declared `records` (or the action's defaults) did: no readable,
    /// decisive record.
    #[serde(rename = "declared")]
    #[strum(serialize = "declared")]
    Declared,
    /// The action was not performed (autoconsent failed with no fallback): nothing
    /// was applied.
    #[serde(rename = "not performed")]
    #[strum(serialize = "not performed")]
    NotPerformed,
}

/// The CMP's banner seen on a page loaded after a consent action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BannerSeen {
    pub page: String,
    pub time: DateTime<Utc>,
    /// How it was seen: `banner ".klaro .cookie-notice" visible`, `autoconsent popupFound (Klaro)`.
    pub how: String,
}

impl Method {
    /// `autoconsent optOut`, `selectors`, `selectors (fallback after autoconsent: ...)`.
    pub fn describe(&self, action: ConsentAction) -> String {
        match self {
            Method::Autoconsent => format!("autoconsent {}", autoconsent_verb(action)),
            Method::Selectors => "selectors".to_string(),
            Method::Fallback(why) => format!("selectors (fallback after autoconsent: {why})"),
            Method::Profile(name) => format!("CMP profile {name}"),
            Method::Heuristic(h) => {
                let clicks: Vec<String> = h
                    .clicks
                    .iter()
                    .map(|c| format!("{} {:?} ({})", c.button, c.text, c.element))
                    .collect();
                let mut s = format!(
                    "heuristic, confidence {}%: dialog {} (words: {})",
                    h.confidence,
                    h.dialog,
                    h.words.join(", ")
                );
                if !clicks.is_empty() {
                    s.push_str(&format!("; clicked {}", clicks.join(", then ")));
                }
                if h.reject_missing {
                    s.push_str("; no reject option found");
                }
                s
            }
        }
    }
}

impl CmpAction {
    /// One line for reports: `reject_all: autoconsent optOut on Klaro, ok, popup found
    /// 985 ms after navigation, done 42 ms after the action; record klaro (cookie klaro):
    /// ...; next phase: refuse_consent, object_li (from cmp-record)`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {}",
            self.action.as_str(),
            self.method.describe(self.action)
        );
        if let Some(g) = &self.grant {
            s.push_str(&format!(" (granting {})", g.describe()));
        }
        if let Some(cmp) = &self.detected {
            s.push_str(&format!(" on {cmp}"));
        }
        s.push_str(if self.success { ", ok" } else { ", failed" });
        if let Some(ms) = self.detect_ms {
            s.push_str(&format!(", popup found {ms} ms after navigation"));
        }
        if let Some(ms) = self.done_ms {
            s.push_str(&format!(", done {ms} ms after the action"));
        }
        match &self.readback {
            Readback::NoReader => s.push_str("; no CMP record reader applies"),
            Readback::NotRecorded { reader } => s.push_str(&format!("; {reader} recorded nothing")),
            Readback::Unreadable { reader, error } => {
                s.push_str(&format!("; {reader} record unreadable: {error}"))
            }
            Readback::Recorded { record } => s.push_str(&format!("; record {}", record.summary())),
        }
        let effects: Vec<&str> = self.applied.iter().map(|e| e.as_str()).collect();
        s.push_str(&format!(
            "; next phase: {} (from {})",
            effects.join(", "),
            self.effects_from
        ));
        if !self.banner_again.is_empty() {
            let pages: Vec<&str> = self.banner_again.iter().map(|b| b.page.as_str()).collect();
            s.push_str(&format!("; banner on screen again on {}", pages.join(", ")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `effects_from` keeps the names it had as a string, in JSON, the store and the
    /// reports' one-line description.
    #[test]
    fn effects_from_names_are_stable_in_every_form() {
        for (e, n) in [
            (EffectsFrom::CmpRecord, "cmp-record"),
            (EffectsFrom::Declared, "declared"),
            (EffectsFrom::NotPerformed, "not performed"),
        ] {
            assert_eq!(e.to_string(), n);
            assert_eq!(n.parse::<EffectsFrom>().ok(), Some(e));
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{n}\""));
            assert_eq!(serde_json::from_str::<EffectsFrom>(&json).ok(), Some(e));
        }
        assert!(serde_json::from_str::<EffectsFrom>("\"cmp_record\"").is_err());
    }
}
