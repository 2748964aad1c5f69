//! A partial consent's `grant` checked against the declared map, once the scenario file
//! meets it: each purpose must be a consent-based purpose of the map (not strictly
//! necessary), and the grant is resolved into the CMP's terms (the purposes' TCF numbers,
//! the CMP services of the vendors it allows), which the engine and the derived consent
//! state read ([`crate::model::purpose`]).

use crate::diag::{Diagnostic, Level};
use crate::model::{Grant, LegalBasis};
use crate::policy::Policy;
use crate::scenario::{Action, Place, Scenario, Step, StepGrant};

fn at(place: &Place, level: Level, message: String, hint: String) -> Diagnostic {
    Diagnostic {
        level,
        file: place.file.clone(),
        line: place.line,
        col: place.col,
        message,
        hint: Some(hint),
    }
}

/// Resolve every `grant` of `scenarios` against `policy`; the problems, each at the
/// purpose's `file:line:col`.
pub fn resolve_grants(scenarios: &mut [Scenario], policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in scenarios {
        for step in &mut s.steps {
            resolve_step(step, policy, &mut out);
        }
    }
    out
}

fn resolve_step(step: &mut Step, policy: &Policy, out: &mut Vec<Diagnostic>) {
    if let Action::Autoconsent(a) = &mut step.action {
        for f in &mut a.fallback {
            resolve_step(f, policy, out);
        }
    }
    if let Some(g) = &mut step.grant {
        out.extend(resolve(g, policy));
    }
}

/// Check and resolve one grant: problems of each purpose, and its TCF purposes and CMP
/// services filled in.
pub fn resolve(g: &mut StepGrant, policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let consent_ids = || {
        policy
            .purposes
            .iter()
            .filter(|p| p.basis == LegalBasis::Consent && !p.strictly_necessary)
            .map(|p| p.id.as_str())
    };
    for (id, place) in g.grant.purposes.iter().zip(&g.written) {
        match policy.purpose(id) {
            None => out.push(at(
                place,
                Level::Error,
                format!("unknown purpose `{id}` in `grant`"),
                crate::toml_check::suggest(
                    id,
                    consent_ids(),
                    "consent-based purposes of the declared map",
                ),
            )),
            Some(p) if p.strictly_necessary => out.push(at(
                place,
                Level::Error,
                format!("purpose `{id}` is strictly necessary: there is no consent to grant"),
                format!(
                    "grant consent-based purposes only ({})",
                    consent_ids().collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(p) if p.basis != LegalBasis::Consent => out.push(at(
                place,
                Level::Error,
                format!(
                    "purpose `{id}` is on {}, not consent: there is no consent to grant",
                    p.basis
                ),
                "a partial consent grants consent-based purposes; an objection is object_li"
                    .to_string(),
            )),
            Some(_) => {}
        }
    }
    let granted = |id: &str| g.grant.purposes.iter().any(|p| p == id);
    let mut tcf: Vec<u8> = g
        .grant
        .purposes
        .iter()
        .filter_map(|id| policy.purpose(id).and_then(|p| p.tcf_purpose))
        .collect();
    tcf.sort_unstable();
    tcf.dedup();
    // The CMP services of every vendor one of whose purposes is granted: the vendors the
    // grant allows (a vendor is allowed when one of its purposes allows it).
    let mut services: Vec<String> = policy
        .vendors
        .iter()
        .filter(|v| v.purposes.iter().any(|p| granted(p)))
        .flat_map(|v| v.cmp_services.iter().cloned())
        .collect();
    services.sort();
    services.dedup();
    g.grant = Grant {
        purposes: g.grant.purposes.clone(),
        tcf_purposes: tcf,
        services,
    };
    out
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::load_audit_file_with_env;

    const POLICY: &str = r#"
[[purpose]]
id = "necessary"
basis = "legal_obligation"
strictly_necessary = true

[[purpose]]
id = "analytics"
basis = "consent"
tcf_purpose = 8

[[purpose]]
id = "advertising"
basis = "consent"

[[purpose]]
id = "measurement"
basis = "legitimate_interest"

[[vendor]]
id = "ga"
domains = ["google-analytics.com"]
purposes = ["analytics"]
cmp_services = ["google-analytics"]

[[vendor]]
id = "hotjar"
domains = ["hotjar.com"]
purposes = ["analytics", "advertising"]
cmp_services = ["hotjar", "marketing"]

[[vendor]]
id = "meta"
domains = ["facebook.net"]
purposes = ["advertising"]
cmp_services = ["facebook-pixel"]

[[vendor]]
id = "matomo"
domains = ["matomo.cloud"]
purposes = ["measurement"]

[[vendor]]
id = "shop"
domains = ["shop.test"]
purposes = ["necessary"]
"#;

    fn load(scenario: &str) -> Result<crate::scenario::AuditSpec, Vec<String>> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("p.toml"), POLICY).expect("policy");
        let file = dir.path().join("s.toml");
        std::fs::write(&file, scenario).expect("scenario");
        load_audit_file_with_env(&file, &|_| None).map_err(|d| {
            d.0.iter()
                .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
                .collect()
        })
    }

    const HEAD: &str =
        "[site]\nname = \"x\"\nbase_url = \"https://www.shop.test/\"\npolicy = \"p.toml\"\n";

    #[test]
    fn a_grant_resolves_into_tcf_purposes_and_cmp_services() {
        let spec = load(&format!(
            "{HEAD}[cmp]\nprofile = \"klaro\"\ngrant = [\"analytics\"]\n[run]\nscenarios = [\"accept_some\"]\n"
        ))
        .expect("valid");
        let step = &spec.scenarios[0].steps[0];
        let g = &step.grant.as_ref().expect("a grant").grant;
        assert_eq!(g.purposes, ["analytics"]);
        assert_eq!(g.tcf_purposes, [8]);
        // Every vendor one of whose purposes is granted: hotjar too (analytics).
        assert_eq!(g.services, ["google-analytics", "hotjar", "marketing"]);
    }

    #[test]
    fn accept_some_runs_by_default_only_with_a_grant() {
        let ids = |spec: crate::scenario::AuditSpec| -> Vec<String> {
            spec.scenarios.into_iter().map(|s| s.id).collect()
        };
        let with = load(&format!(
            "{HEAD}[cmp]\nprofile = \"klaro\"\ngrant = [\"analytics\"]\n"
        ))
        .expect("valid");
        assert_eq!(
            ids(with),
            ["no_action", "object_li", "accept_some"],
            "the built-ins [cmp] can run, then accept_some"
        );
        let without = load(&format!("{HEAD}[cmp]\nprofile = \"klaro\"\n")).expect("valid");
        assert_eq!(ids(without), ["no_action", "object_li"]);
    }

    #[test]
    fn every_bad_purpose_is_reported_at_its_place() {
        let err = load(&format!(
            "{HEAD}[cmp]\nprofile = \"klaro\"\ngrant = [\"analytcs\", \"measurement\"]\n\n[[scenario]]\nid = \"a\"\nsteps = [{{ cmp_flow = \"accept_some\", grant = [\"necessary\", \"advertising\"] }}]\n[run]\nscenarios = [\"accept_some\", \"a\"]\n"
        ))
        .expect_err("invalid");
        assert_eq!(
            err,
            [
                "7:10: unknown purpose `analytcs` in `grant`",
                "7:22: purpose `measurement` is on legitimate_interest, not consent: there is no consent to grant",
                "11:47: purpose `necessary` is strictly necessary: there is no consent to grant",
            ]
        );
    }
}
