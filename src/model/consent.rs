//! The consent vocabulary: the visitor's choice, the consent actions a scenario performs,
//! what a CMP recorded them as (effects), and the consent state in force at any moment
//! (whose phase label every record and finding carries).

use serde::{Deserialize, Serialize};

/// The visitor's consent decision for consent-based purposes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentChoice {
    /// No choice made yet (banner not answered).
    Undecided,
    Granted,
    Denied,
}

/// A consent action performed by a scenario step.
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
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentAction {
    AcceptAll,
    RejectAll,
    ObjectLi,
    /// Grant consent to some purposes only (the CMP's second layer, "Accept selected"):
    /// which ones is the step's [`Grant`], carried with the action's record
    /// ([`super::cmp::CmpAction::grant`]). As a summary it refuses consent: every
    /// purpose outside the grant is refused ([`super::purpose`] judges per purpose).
    AcceptSome,
}

impl ConsentAction {
    /// The stable name (`accept_all`), as in scenario files, phases and the store.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// What a consent action records in the CMP. CMPs differ: one CMP's "Reject all" also
/// objects to legitimate interest, another's objection flow also refuses consent. The
/// scenario file declares, per action, what its CMP records ([`ConsentAction::default_effects`]
/// when it says nothing); the CMP issue reads the CMP's own record back instead.
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
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentEffect {
    /// Consent granted for every consent-based purpose.
    GrantConsent,
    /// Consent refused for every consent-based purpose.
    RefuseConsent,
    /// Objection to every legitimate-interest purpose.
    ObjectLi,
}

impl ConsentEffect {
    pub const ALL: [ConsentEffect; 3] = [
        ConsentEffect::GrantConsent,
        ConsentEffect::RefuseConsent,
        ConsentEffect::ObjectLi,
    ];
    /// The stable name (`grant_consent`), as in scenario files and the store.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

impl ConsentAction {
    /// What the action records when the scenario file does not say otherwise.
    pub fn default_effects(self) -> &'static [ConsentEffect] {
        match self {
            ConsentAction::AcceptAll => &[ConsentEffect::GrantConsent],
            ConsentAction::RejectAll => &[ConsentEffect::RefuseConsent],
            ConsentAction::ObjectLi => &[ConsentEffect::ObjectLi],
            // The summary of a partial grant is its protective side: what it does not
            // grant is refused. The granted purposes are the action's `Grant`.
            ConsentAction::AcceptSome => &[ConsentEffect::RefuseConsent],
        }
    }
}

/// What a partial consent (`accept_some`) grants, in the declared map's terms and in the
/// CMP's: the purposes the scenario file names (validated against the declared map), their
/// TCF purpose numbers, and the CMP services or categories (`cmp_services`) of the vendors
/// the grant allows. Resolved once, when the scenario file meets its declared map; a CMP
/// profile's `[accept_some]` flow receives it as JSON (`{{grant}}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Grant {
    /// Declared purpose ids granted (consent-based), in file order.
    pub purposes: Vec<String>,
    /// Their TCF purpose numbers (sorted, each once).
    #[serde(default)]
    pub tcf_purposes: Vec<u8>,
    /// CMP services or categories of the vendors the grant allows (sorted, each once).
    #[serde(default)]
    pub services: Vec<String>,
}

impl Grant {
    /// `analytics, statistics`: the granted purposes, for messages.
    pub fn describe(&self) -> String {
        self.purposes.join(", ")
    }
}

/// The consent state in force when something was observed: the phase of the visit.
///
/// It starts as [`ConsentState::initial`] and changes only when a step marked with a
/// consent action is performed (the engine settles the network before such a step, so
/// requests are not attributed to the wrong side of the click).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    pub consent: ConsentChoice,
    /// The visitor objected to processing based on legitimate interest.
    pub li_objected: bool,
    /// The consent actions performed so far, in order.
    pub actions: Vec<ConsentAction>,
}

impl ConsentState {
    pub fn initial() -> Self {
        ConsentState {
            consent: ConsentChoice::Undecided,
            li_objected: false,
            actions: Vec::new(),
        }
    }

    /// The state after performing `action` with its default effects.
    pub fn after(&self, action: ConsentAction) -> Self {
        self.apply(action, action.default_effects())
    }

    /// The state after performing `action`, which recorded `effects` in the CMP.
    pub fn apply(&self, action: ConsentAction, effects: &[ConsentEffect]) -> Self {
        let mut next = self.clone();
        for effect in effects {
            match effect {
                ConsentEffect::GrantConsent => next.consent = ConsentChoice::Granted,
                ConsentEffect::RefuseConsent => next.consent = ConsentChoice::Denied,
                ConsentEffect::ObjectLi => next.li_objected = true,
            }
        }
        next.actions.push(action);
        next
    }

    /// `before-choice` or `after-<last action>`: the phase label used in evidence.
    pub fn phase(&self) -> String {
        match self.actions.last() {
            None => "before-choice".to_string(),
            Some(a) => format!("after-{}", a.as_str()),
        }
    }
}

/// Legal basis of a purpose (GDPR art. 6), as the declared map names it: `consent`,
/// `legitimate_interest`, `contract`, `legal_obligation` (`FromStr`/`Display`, serde and
/// the store use the same names). The policy loader accepts exactly these; the inventory's
/// declarations and the drift pack carry the parsed value, decoded at the store edge, where
/// an unknown stored name is a corrupt-database error naming the column and the value
/// (as for every stored enumeration, docs/storage.md).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    LegitimateInterest,
    Contract,
    LegalObligation,
}

impl LegalBasis {
    /// The names written in files, in declaration order.
    pub const ALL: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names are a stored contract (phases, the store, scenario files).
    #[test]
    fn names_are_stable() {
        for (a, n) in [
            (ConsentAction::AcceptAll, "accept_all"),
            (ConsentAction::RejectAll, "reject_all"),
            (ConsentAction::ObjectLi, "object_li"),
            (ConsentAction::AcceptSome, "accept_some"),
        ] {
            assert_eq!(a.as_str(), n);
            assert_eq!(ConsentAction::parse(n), Some(a));
        }
        for (e, n) in
            ConsentEffect::ALL
                .into_iter()
                .zip(["grant_consent", "refuse_consent", "object_li"])
        {
            assert_eq!(e.as_str(), n);
            assert_eq!(ConsentEffect::parse(n), Some(e));
        }
        assert_eq!(ConsentAction::parse("Accept_All"), None);
        assert_eq!(ConsentEffect::parse(""), None);
    }

    /// A legal basis and a CMP record's item basis have one name each, the same in
    /// files, JSON and the store (strum and serde agree), as before they were enums.
    #[test]
    fn basis_names_are_stable_in_every_form() {
        use super::super::cmp::RecordBasis;
        for (b, n) in [
            (LegalBasis::Consent, "consent"),
            (LegalBasis::LegitimateInterest, "legitimate_interest"),
            (LegalBasis::Contract, "contract"),
            (LegalBasis::LegalObligation, "legal_obligation"),
        ] {
            assert_eq!((b.as_str(), b.to_string()), (n, n.to_string()));
            assert_eq!(LegalBasis::parse(n), Some(b));
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(json, format!("\"{n}\""));
            assert_eq!(serde_json::from_str::<LegalBasis>(&json).ok(), Some(b));
        }
        assert_eq!(LegalBasis::parse("necessary"), None);
        for (b, n) in [
            (RecordBasis::Consent, "consent"),
            (RecordBasis::LegitimateInterest, "legitimate_interest"),
            (RecordBasis::Necessary, "necessary"),
        ] {
            assert_eq!(b.to_string(), n);
            assert_eq!(n.parse::<RecordBasis>().ok(), Some(b));
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(json, format!("\"{n}\""));
            assert_eq!(serde_json::from_str::<RecordBasis>(&json).ok(), Some(b));
        }
        assert!(serde_json::from_str::<RecordBasis>("\"contract\"").is_err());
    }

    #[test]
    fn phases_follow_actions() {
        let s = ConsentState::initial();
        assert_eq!(s.phase(), "before-choice");
        let s = s
            .after(ConsentAction::AcceptAll)
            .after(ConsentAction::ObjectLi);
        assert_eq!(s.consent, ConsentChoice::Granted);
        assert!(s.li_objected);
        assert_eq!(s.phase(), "after-object_li");
    }
}
