//! The effective consent state after some consent actions, per TCF purpose and per CMP
//! service or category: what a vendor is judged against.
//!
//! Three sources speak about a phase: the visitor's action (what was clicked, or which
//! profile flow ran: [`ConsentAction::default_effects`]), the CMP's record read back after
//! it (TCF purpose consent and legitimate-interest bits; Klaro's services; cookieconsent's
//! categories), and the scenario's declared `records` (the fallback when no record was
//! readable and decisive, already folded into the coarse [`ConsentState`]). Where the
//! action and the record disagree, each purpose or service takes the more protective of
//! the two: consent is granted only when both grant it, legitimate interest stands only
//! when neither objected. The disagreement itself stays a CMP finding (`cmp-choice-
//! opposite`, `tcf-li-after-objection`, `tcf-consent-after-reject`). The coarse
//! [`ConsentState`] stays the phase's summary for labels, reports and drift.
//!
//! Derived once per phase by [`PhaseConsent::derive`] (called by attribution); the
//! declared map's permission reads it ([`crate::model`] has no policy: the policy asks
//! [`PhaseConsent::purpose`] and [`PhaseConsent::services`]).

use super::cmp::{CmpAction, EffectsFrom, Readback, RecordBasis};
use super::consent::{ConsentAction, ConsentChoice, ConsentEffect, ConsentState, Grant};
use std::collections::BTreeMap;

/// TCF 2.2 permits legitimate interest for purposes 2 and 7-11 only: a TC string speaks
/// about the LI of these purposes, and of no other.
pub const TCF_LI_PURPOSES: [u8; 6] = [2, 7, 8, 9, 10, 11];

/// Which source decided an item's consent or legitimate interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr)]
pub enum Decider {
    /// The visitor's action (what the click or the profile flow means).
    #[strum(serialize = "the visitor's action")]
    Action,
    /// The CMP's record read back after the action.
    #[strum(serialize = "the CMP's record")]
    CmpRecord,
    /// The scenario's declared `records` (no readable, decisive record).
    #[strum(serialize = "the declared records")]
    Declared,
}

/// What one source says about an item: consent, legitimate interest, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Word {
    pub consent: Option<ConsentChoice>,
    pub li_objected: Option<bool>,
}

/// What the visitor's actions said anything about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Said {
    /// An accept or a reject was made.
    pub consent: bool,
    /// An objection was made.
    pub li: bool,
}

/// The effective state of one purpose, service or vendor in one phase, and who decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub consent: ConsentChoice,
    pub consent_from: Decider,
    pub li_objected: bool,
    pub li_from: Decider,
    /// The action and the record disagreed on consent (the more protective was taken).
    pub consent_disputed: bool,
    /// The action and the record disagreed on legitimate interest.
    pub li_disputed: bool,
}

/// How protective a consent value is: granted < undecided < refused.
fn rank(c: ConsentChoice) -> u8 {
    match c {
        ConsentChoice::Granted => 0,
        ConsentChoice::Undecided => 1,
        ConsentChoice::Denied => 2,
    }
}

impl Standing {
    /// Before any choice: undecided, legitimate interest standing, by no action.
    pub fn initial() -> Standing {
        Standing::of_action(ConsentChoice::Undecided, false)
    }

    fn of_action(consent: ConsentChoice, li_objected: bool) -> Standing {
        Standing {
            consent,
            consent_from: Decider::Action,
            li_objected,
            li_from: Decider::Action,
            consent_disputed: false,
            li_disputed: false,
        }
    }

    /// The more protective of the action's standing and another source's `word`.
    /// On a tie the action keeps the decision. `said` is what the actions said anything
    /// about (consent, legitimate interest): a source differing from an action that said
    /// nothing (a "Reject all" says nothing about legitimate interest) is no dispute.
    pub fn judged(self, word: Word, from: Decider, said: Said) -> Standing {
        let mut s = self;
        if let Some(c) = word.consent {
            if c != s.consent {
                s.consent_disputed |= said.consent;
                if rank(c) > rank(s.consent) {
                    s.consent = c;
                    s.consent_from = from;
                }
            }
        }
        if let Some(o) = word.li_objected {
            if o != s.li_objected {
                s.li_disputed |= said.li;
                if o {
                    s.li_objected = true;
                    s.li_from = from;
                }
            }
        }
        s
    }

    /// The more protective of two standings (a vendor mapped to several services, a
    /// purpose and its vendor's service).
    pub fn stricter(self, other: Standing) -> Standing {
        let mut s = self;
        if rank(other.consent) > rank(s.consent) {
            s.consent = other.consent;
            s.consent_from = other.consent_from;
        }
        if other.li_objected && !s.li_objected {
            s.li_objected = true;
            s.li_from = other.li_from;
        }
        s.consent_disputed |= other.consent_disputed;
        s.li_disputed |= other.li_disputed;
        s
    }
}

/// The effective state of one phase: per TCF purpose (when the phase's CMP record is a TC
/// string), per CMP service or category named in the record (Klaro, cookieconsent), per
/// declared purpose a partial consent granted, and `overall` for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseConsent {
    pub overall: Standing,
    pub tcf_purposes: BTreeMap<u8, Standing>,
    pub services: BTreeMap<String, Standing>,
    /// The partial consent in force (`accept_some`, not overridden by a later accept or
    /// reject): every purpose is then judged by its own standing, and evidence says so.
    pub grant: Option<Grant>,
    /// Declared purposes the partial consent granted: granted by the visitor's action
    /// (a purpose with a TCF number the record spoke about is in `tcf_purposes`).
    pub purposes: BTreeMap<String, Standing>,
}

impl PhaseConsent {
    /// Before any choice.
    pub fn initial() -> PhaseConsent {
        PhaseConsent {
            overall: Standing::initial(),
            tcf_purposes: BTreeMap::new(),
            services: BTreeMap::new(),
            grant: None,
            purposes: BTreeMap::new(),
        }
    }

    /// The phase whose coarse summary is `state`, `last` being the consent action that
    /// began it (its record read back, where its effects came from). `last` of another
    /// action than the state's last (a visit whose actions and records do not line up)
    /// is not used: the coarse state alone decides, as before per-purpose states.
    pub fn derive(state: &ConsentState, last: Option<&CmpAction>) -> PhaseConsent {
        let grant = match state.actions.last() {
            Some(ConsentAction::AcceptSome) => last.and_then(|a| a.grant.as_ref()),
            _ => None,
        };
        PhaseConsent::derive_granted(state, last, grant)
    }

    /// [`PhaseConsent::derive`] with the partial consent in force, `grant` (the grant of
    /// the state's last `accept_some`, when no accept or reject followed it): its
    /// purposes, TCF purposes and CMP services are granted by the visitor's action, the
    /// rest refused. An `accept_some` whose grant is unknown refuses everything.
    pub fn derive_granted(
        state: &ConsentState,
        last: Option<&CmpAction>,
        grant: Option<&Grant>,
    ) -> PhaseConsent {
        // The visitor's actions, by what each means.
        let mut consent = ConsentChoice::Undecided;
        let mut objected = false;
        let mut said = Said::default();
        for a in &state.actions {
            for e in a.default_effects() {
                match e {
                    ConsentEffect::GrantConsent => consent = ConsentChoice::Granted,
                    ConsentEffect::RefuseConsent => consent = ConsentChoice::Denied,
                    ConsentEffect::ObjectLi => objected = true,
                }
                said.consent |= *e != ConsentEffect::ObjectLi;
                said.li |= *e == ConsentEffect::ObjectLi;
            }
        }
        let action = Standing::of_action(consent, objected);
        // What the partial consent grants, by the visitor's action: each item's own
        // starting standing before the record speaks.
        let granted = Standing {
            consent: ConsentChoice::Granted,
            ..action
        };
        let grant = grant.filter(|_| {
            let last_consent = state
                .actions
                .iter()
                .rev()
                .find(|a| **a != ConsentAction::ObjectLi);
            last_consent == Some(&ConsentAction::AcceptSome)
        });
        let tcf_start = |p: u8| match grant {
            Some(g) if g.tcf_purposes.contains(&p) => granted,
            _ => action,
        };
        let service_start = |n: &str| match grant {
            Some(g) if g.services.iter().any(|s| s == n) => granted,
            _ => action,
        };
        let last = last.filter(|a| state.actions.last() == Some(&a.action));
        // The coarse state holds what the record (or the declared records) applied.
        let coarse_from = match last.map(|a| a.effects_from) {
            Some(EffectsFrom::CmpRecord) => Decider::CmpRecord,
            _ => Decider::Declared,
        };
        let coarse = Word {
            consent: Some(state.consent).filter(|c| *c != ConsentChoice::Undecided),
            li_objected: Some(state.li_objected),
        };
        let mut out = PhaseConsent {
            overall: if state.actions.is_empty() {
                action
            } else {
                action.judged(coarse, coarse_from, said)
            },
            tcf_purposes: BTreeMap::new(),
            services: BTreeMap::new(),
            grant: grant.cloned(),
            purposes: grant
                .map(|g| g.purposes.iter().map(|p| (p.clone(), granted)).collect())
                .unwrap_or_default(),
        };
        let Some(Readback::Recorded { record }) = last.map(|a| &a.readback) else {
            return out;
        };
        for item in &record.items {
            let word = match item.basis {
                RecordBasis::Necessary => continue,
                RecordBasis::Consent => Word {
                    consent: Some(if item.allowed {
                        ConsentChoice::Granted
                    } else {
                        ConsentChoice::Denied
                    }),
                    li_objected: None,
                },
                RecordBasis::LegitimateInterest => Word {
                    consent: None,
                    li_objected: Some(!item.allowed),
                },
            };
            match item.tcf_purpose {
                Some(p) => {
                    let s = out.tcf_purposes.entry(p).or_insert_with(|| tcf_start(p));
                    *s = s.judged(word, Decider::CmpRecord, said);
                }
                None => {
                    let s = out
                        .services
                        .entry(item.name.clone())
                        .or_insert_with(|| service_start(&item.name));
                    *s = s.judged(word, Decider::CmpRecord, said);
                }
            }
        }
        // A TC string lists the LI purposes it sets; an LI purpose it does not set was
        // cleared (objected) in the record.
        if record.items.iter().any(|i| i.tcf_purpose.is_some()) {
            for p in TCF_LI_PURPOSES {
                let set = record.items.iter().any(|i| {
                    i.tcf_purpose == Some(p)
                        && i.basis == RecordBasis::LegitimateInterest
                        && i.allowed
                });
                if !set {
                    let s = out.tcf_purposes.entry(p).or_insert_with(|| tcf_start(p));
                    *s = s.judged(
                        Word {
                            consent: None,
                            li_objected: Some(true),
                        },
                        Decider::CmpRecord,
                        said,
                    );
                }
            }
        }
        out
    }

    /// The standing of a purpose: its TCF purpose's when the record spoke about it, else
    /// the overall one.
    pub fn purpose(&self, tcf_purpose: Option<u8>) -> (Standing, Option<u8>) {
        match tcf_purpose.and_then(|n| self.tcf_purposes.get(&n).map(|s| (*s, n))) {
            Some((s, n)) => (s, Some(n)),
            None => (self.overall, None),
        }
    }

    /// The standing of the declared purpose `id` (TCF purpose `tcf_purpose`): its TCF
    /// purpose's when the record spoke about it, else what a partial consent in force
    /// says of it (granted when it names it), else the overall one.
    pub fn declared_purpose(&self, id: &str, tcf_purpose: Option<u8>) -> (Standing, Option<u8>) {
        match self.purpose(tcf_purpose) {
            (s, Some(n)) => (s, Some(n)),
            (overall, None) => (self.purposes.get(id).copied().unwrap_or(overall), None),
        }
    }

    /// The most protective standing of the named services or categories the record
    /// holds (`None`: the record names none of them), and the one that decided.
    pub fn services(&self, names: &[String]) -> Option<(Standing, &str)> {
        let mut found: Option<(Standing, &str)> = None;
        for n in names {
            let Some((key, s)) = self.services.get_key_value(n) else {
                continue;
            };
            found = Some(match found {
                None => (*s, key.as_str()),
                Some((f, fname)) => {
                    let strict = f.stricter(*s);
                    let name = if strict == f { fname } else { key.as_str() };
                    (strict, name)
                }
            });
        }
        found
    }
}

/// The consent actions of a visit that were performed (that began a phase), in order: the
/// n-th is the last action of a record whose state has n actions.
pub fn performed_actions(cmp: &[CmpAction]) -> Vec<&CmpAction> {
    cmp.iter()
        .filter(|a| a.effects_from != EffectsFrom::NotPerformed)
        .collect()
}

/// The effective state of the phase `state` summarises, `performed` being the visit's
/// performed consent actions in order ([`performed_actions`]).
pub fn phase_consent(state: &ConsentState, performed: &[&CmpAction]) -> PhaseConsent {
    let last = state
        .actions
        .len()
        .checked_sub(1)
        .and_then(|i| performed.get(i).copied());
    // The partial consent in force: the last consent action's, when it was accept_some
    // (an objection after it leaves it in force).
    let grant = state
        .actions
        .iter()
        .enumerate()
        .rev()
        .find(|(_, a)| **a != ConsentAction::ObjectLi)
        .filter(|(_, a)| **a == ConsentAction::AcceptSome)
        .and_then(|(i, _)| performed.get(i))
        .filter(|a| a.action == ConsentAction::AcceptSome)
        .and_then(|a| a.grant.as_ref());
    PhaseConsent::derive_granted(state, last, grant)
}

#[cfg(test)]
#[path = "purpose_tests.rs"]
mod tests;
