//! Which scenarios run (`[run]`, or the default order), and the built-ins.

use super::cmp::Cmp;
use super::steps::Custom;
use crate::observe::ConsentAction;
use crate::scenario::{Action, AutoConsent, Scenario, Step, BUILTIN_SCENARIOS, OPT_IN_BUILTINS};
use crate::toml_check::{suggest, Checker, Ids, Span, Table};
use std::collections::HashMap;
use toml::Spanned;

/// `[run] scenarios = [...]`: exactly these, in this order.
pub(super) fn run_list(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    customs: &[Custom],
    cmp: Option<&Cmp>,
) -> Vec<Scenario> {
    let Some(v) = t.get("scenarios") else {
        ck.missing(
            t,
            "scenarios",
            "[\"no_action\", \"accept_all\", \"reject_all\"]",
        );
        return Vec::new();
    };
    let entries = ck.strings(v, "`scenarios` in [run]").unwrap_or_default();
    if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
        ck.error(
            &v.span(),
            "[run] lists no scenarios",
            "list the scenario ids to run, or remove [run] to run them all",
        );
    }
    let by_id: HashMap<&str, &Custom> = customs
        .iter()
        .map(|c| (c.id.get_ref().as_str(), c))
        .collect();
    let mut listed = Ids::listed("scenario in [run]");
    let mut out = Vec::new();
    for entry in &entries {
        if !listed.insert(ck, entry) {
            continue;
        }
        let id = entry.get_ref().as_str();
        if let Some(custom) = by_id.get(id) {
            out.extend(custom.scenario.clone());
        } else if BUILTIN_SCENARIOS.contains(&id) || OPT_IN_BUILTINS.contains(&id) {
            out.extend(builtin(ck, id, cmp, &entry.span()));
        } else {
            let known = BUILTIN_SCENARIOS
                .iter()
                .chain(OPT_IN_BUILTINS.iter())
                .copied()
                .chain(customs.iter().map(|c| c.id.get_ref().as_str()));
            ck.error(
                &entry.span(),
                format!("unknown scenario `{id}` in [run]"),
                suggest(id, known, "built-in and defined scenarios"),
            );
        }
    }
    for c in customs {
        if !listed.contains(c.id.get_ref()) {
            ck.warning(
                &c.id.span(),
                format!(
                    "scenario `{}` is not listed in [run], so it will not run",
                    c.id.get_ref()
                ),
                "add its id to `scenarios` in [run]",
            );
        }
    }
    out
}

/// No [run]: the built-ins (those [cmp] configures), then the custom scenarios in file
/// order. A custom scenario with a built-in's id takes the built-in's place.
pub(super) fn default_list(
    ck: &mut Checker<'_>,
    customs: &[Custom],
    cmp: Option<&Cmp>,
) -> Vec<Scenario> {
    let custom = |id: &str| customs.iter().find(|c| c.id.get_ref() == id);
    let mut out = Vec::new();
    for id in BUILTIN_SCENARIOS {
        if let Some(c) = custom(id) {
            out.extend(c.scenario.clone());
            continue;
        }
        let configured = match (ConsentAction::parse(id), cmp) {
            (None, _) => Some(None),
            (Some(action), Some(cmp)) if cmp.auto_for(action) => Some(Some(
                cmp.clicks(action)
                    .map(|(span, _)| span.clone())
                    .unwrap_or_else(|| cmp.span.clone()),
            )),
            (Some(action), Some(cmp)) => {
                let at = cmp.clicks(action).map(|(span, _)| span.clone());
                if at.is_none() && cmp.auto {
                    ck.warning(
                        &cmp.auto_span,
                        format!("autoconsent performs accept_all and reject_all only: the built-in scenario `{id}` will not run"),
                        format!("add {id} = [\"...\"] to [cmp] (the clicks of the CMP's second layer), or list the scenarios to run in [run]"),
                    );
                } else if at.is_none() {
                    ck.warning(
                        &cmp.span,
                        format!("[cmp] has no `{id}` selectors: the built-in scenario `{id}` will not run"),
                        format!("add {id} = [\"...\"] to [cmp], or list the scenarios to run in [run]"),
                    );
                }
                at.map(Some)
            }
            (Some(_), None) => None,
        };
        if let Some(at) = configured {
            out.extend(builtin(ck, id, cmp, &at.unwrap_or(0..0)));
        }
    }
    for c in customs {
        if !BUILTIN_SCENARIOS.contains(&c.id.get_ref().as_str()) {
            out.extend(c.scenario.clone());
        }
    }
    out
}

/// Expand a built-in scenario from the [cmp] selectors; problems are reported at `at`
/// (the [run] entry, or the [cmp] key).
fn builtin(ck: &mut Checker<'_>, id: &str, cmp: Option<&Cmp>, at: &Span) -> Option<Scenario> {
    let scenario = |description: &str, steps| Scenario {
        id: id.to_string(),
        description: description.to_string(),
        builtin: true,
        steps,
        gpc: false,
    };
    if id == "gpc" {
        return Some(Scenario {
            gpc: true,
            ..scenario(
                "Load the pages with Global Privacy Control on, without touching the consent banner.",
                Vec::new(),
            )
        });
    }
    let Some(action) = ConsentAction::parse(id) else {
        return Some(scenario(
            "Load the pages without touching the consent banner.",
            Vec::new(),
        ));
    };
    let clicks = cmp.and_then(|c| c.clicks(action)).map(|(_, sels)| sels);
    let banner = cmp.and_then(|c| c.banner.as_ref());
    if let Some(cmp) = cmp.filter(|c| c.auto_for(action)) {
        return Some(scenario(
            auto_description(action),
            vec![auto_step(ck, cmp, action, clicks, banner)],
        ));
    }
    if clicks.is_none() {
        ck.error(
            at,
            format!("the built-in scenario `{id}` needs `{id}` selectors in [cmp]"),
            format!("add to [cmp]: {id} = [\"#button\"] (the selectors clicked, in order)"),
        );
    }
    if banner.is_none() {
        ck.error(
            at,
            format!("the built-in scenario `{id}` needs `banner` in [cmp]"),
            "add to [cmp]: banner = \"#consent-banner\" (the banner's selector; the scenario waits for it)",
        );
    }
    let (clicks, banner) = (clicks?, banner?);
    let records = cmp.map(|c| c.records(action)).unwrap_or_default();
    let step = |action, consent: Option<ConsentAction>, sel: &Spanned<String>| Step {
        action,
        consent,
        records: if consent.is_some() {
            records.clone()
        } else {
            Vec::new()
        },
        timeout: None,
        location: ck.location(&sel.span()),
        waits_for_banner: false,
    };
    let mut steps = vec![Step {
        waits_for_banner: true,
        ..step(Action::WaitFor(banner.get_ref().clone()), None, banner)
    }];
    for (i, sel) in clicks.iter().enumerate() {
        let consent = (i + 1 == clicks.len()).then_some(action);
        steps.push(step(Action::Click(sel.get_ref().clone()), consent, sel));
    }
    let description = match action {
        ConsentAction::AcceptAll => "Accept all through the consent banner.",
        ConsentAction::RejectAll => "Reject all through the consent banner.",
        ConsentAction::ObjectLi => "Object to legitimate interest through the consent banner.",
    };
    Some(scenario(description, steps))
}

fn auto_description(action: ConsentAction) -> &'static str {
    match action {
        ConsentAction::AcceptAll => "Accept all through autoconsent (optIn).",
        _ => "Reject all through autoconsent (optOut).",
    }
}

/// The one step of an `auto = true` built-in: autoconsent, with the [cmp] banner and
/// selectors (when given) as its fallback.
fn auto_step(
    ck: &mut Checker<'_>,
    cmp: &Cmp,
    action: ConsentAction,
    clicks: Option<&[Spanned<String>]>,
    banner: Option<&Spanned<String>>,
) -> Step {
    let plain = |ck: &mut Checker<'_>, a, sel: &Spanned<String>| Step {
        action: a,
        consent: None,
        records: Vec::new(),
        timeout: None,
        location: ck.location(&sel.span()),
        waits_for_banner: false,
    };
    let mut fallback = Vec::new();
    if let Some(sels) = clicks.filter(|s| !s.is_empty()) {
        if let Some(b) = banner {
            fallback.push(Step {
                waits_for_banner: true,
                ..plain(ck, Action::WaitFor(b.get_ref().clone()), b)
            });
        }
        for sel in sels {
            fallback.push(plain(ck, Action::Click(sel.get_ref().clone()), sel));
        }
    }
    Step {
        action: Action::Autoconsent(AutoConsent { action, fallback }),
        consent: Some(action),
        records: cmp.records(action),
        timeout: None,
        location: ck.location(&cmp.auto_span),
        waits_for_banner: false,
    }
}
