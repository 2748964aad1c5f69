//! What a declared vendor or cookie may do in one phase's effective consent state
//! ([`PhaseConsent`]: per TCF purpose, per CMP service, and overall). Used by
//! `crate::attribution`, once per record.

use super::{CookieRule, LegalBasis, Permission, Policy, Purpose, Vendor};
use crate::model::purpose::{PhaseConsent, Standing};
use crate::model::ConsentChoice;

/// How protective a consent value is, to name the strictest one of several purposes.
fn rank(c: ConsentChoice) -> u8 {
    match c {
        ConsentChoice::Granted => 0,
        ConsentChoice::Undecided => 1,
        ConsentChoice::Denied => 2,
    }
}

fn choice_word(c: ConsentChoice) -> &'static str {
    match c {
        ConsentChoice::Granted => "granted",
        ConsentChoice::Undecided => "not given yet",
        ConsentChoice::Denied => "refused",
    }
}

/// A purpose's standing for `vendor`, and what it is named after in evidence: its TCF
/// purpose's when the record spoke about it, made stricter by the vendor's CMP services.
/// Also whether it was judged per TCF purpose or CMP service (not by the overall standing).
fn standing(phase: &PhaseConsent, p: &Purpose, vendor: &Vendor) -> (Standing, String, bool) {
    let (mut s, tcf) = phase.declared_purpose(&p.id, p.tcf_purpose);
    let mut scope = match tcf {
        Some(n) => format!("purpose \"{}\" (TCF purpose {n})", p.id),
        None => format!("purpose \"{}\"", p.id),
    };
    // Under a partial consent every purpose is judged on its own: the evidence says which.
    let mut specific = tcf.is_some() || phase.grant.is_some();
    if let Some((svc, name)) = phase.services(&vendor.cmp_services) {
        s = s.stricter(svc);
        scope.push_str(&format!(", CMP service \"{name}\""));
        specific = true;
    }
    (s, scope, specific)
}

/// Why one purpose did not allow, when that is worth saying: it was judged per TCF purpose
/// or CMP service, or the visitor's action and the CMP's record disagreed.
fn why(scope: &str, specific: bool, consent: bool, s: &Standing) -> Option<String> {
    let (disputed, from, what) = if consent {
        (
            s.consent_disputed,
            s.consent_from,
            format!("consent {}", choice_word(s.consent)),
        )
    } else {
        (
            s.li_disputed,
            s.li_from,
            "legitimate interest objected".to_string(),
        )
    };
    if !specific && !disputed {
        return None;
    }
    let dispute = if disputed {
        " (the visitor's action and the CMP's record disagree; the more protective decides)"
    } else {
        ""
    };
    Some(format!("{scope}: {what}, by {from}{dispute}"))
}

impl Policy {
    /// May `vendor` process data in the phase `phase`?
    ///
    /// A vendor may serve several purposes and one request cannot tell which; the vendor
    /// is allowed when at least one of its declared purposes allows it (documented in
    /// docs/findings.md). Contract, legal obligation and strictly necessary purposes
    /// always allow; legitimate interest allows until the visitor objects; consent
    /// allows only once granted. Each purpose is judged by its own standing in the phase
    /// ([`PhaseConsent::purpose`]: its TCF purpose's, else the overall one), made stricter
    /// by what the CMP's record holds for the vendor's `cmp_services`.
    pub fn permission(&self, vendor: &Vendor, phase: &PhaseConsent) -> Permission {
        let mut consent_purposes = Vec::new();
        let mut li_purposes = Vec::new();
        let mut choice: Option<ConsentChoice> = None;
        let mut reasons = Vec::new();
        for pid in &vendor.purposes {
            let Some(p) = self.purpose(pid) else { continue };
            if p.strictly_necessary
                || matches!(p.basis, LegalBasis::Contract | LegalBasis::LegalObligation)
            {
                return Permission::Allowed {
                    purpose: p.id.clone(),
                };
            }
            let (s, scope, specific) = standing(phase, p, vendor);
            let consent = p.basis == LegalBasis::Consent;
            let allowed = if consent {
                s.consent == ConsentChoice::Granted
            } else {
                !s.li_objected
            };
            if allowed {
                return Permission::Allowed {
                    purpose: p.id.clone(),
                };
            }
            reasons.extend(why(&scope, specific, consent, &s));
            if consent {
                choice = Some(match choice {
                    Some(c) if rank(c) >= rank(s.consent) => c,
                    _ => s.consent,
                });
                consent_purposes.push(p.id.clone());
            } else {
                li_purposes.push(p.id.clone());
            }
        }
        match choice {
            Some(choice) => Permission::NeedsConsent {
                purposes: consent_purposes,
                choice,
                why: reasons,
            },
            None => Permission::Objected {
                purposes: li_purposes,
                why: reasons,
            },
        }
    }

    /// What a cookie under `rule` may do in the phase `phase`: the cookie's own
    /// `strictly_necessary` / `basis` when declared (judged by the phase's overall
    /// standing), else its vendor's permission.
    pub fn cookie_permission(&self, rule: &CookieRule, phase: &PhaseConsent) -> Permission {
        let own = || format!("cookie \"{}\" (its own basis)", rule.name);
        if rule.strictly_necessary == Some(true) {
            return Permission::Allowed { purpose: own() };
        }
        let s = phase.overall;
        let why = |consent: bool| {
            why(&own(), false, consent, &s)
                .into_iter()
                .collect::<Vec<_>>()
        };
        match rule.basis {
            Some(LegalBasis::Contract | LegalBasis::LegalObligation) => {
                Permission::Allowed { purpose: own() }
            }
            Some(LegalBasis::LegitimateInterest) if !s.li_objected => {
                Permission::Allowed { purpose: own() }
            }
            Some(LegalBasis::LegitimateInterest) => Permission::Objected {
                purposes: vec![own()],
                why: why(false),
            },
            Some(LegalBasis::Consent) if s.consent == ConsentChoice::Granted => {
                Permission::Allowed { purpose: own() }
            }
            Some(LegalBasis::Consent) => Permission::NeedsConsent {
                purposes: vec![own()],
                choice: s.consent,
                why: why(true),
            },
            None => match self.vendor(&rule.vendor) {
                Some(v) => self.permission(v, phase),
                None => Permission::Objected {
                    purposes: Vec::new(),
                    why: Vec::new(),
                },
            },
        }
    }
}
