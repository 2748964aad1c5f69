//! Which scenarios run (`[run]`, or the default order), and the built-ins.

use super::cmp::Cmp;
use super::steps::Custom;
use crate::model::ConsentAction;
use crate::scenario::profile::{FlowKind, ProfileStep};
use crate::scenario::{
    Action, AutoConsent, Scenario, Step, BUILTIN_SCENARIOS, OPT_IN_BUILTINS, PARTIAL_BUILTIN,
};
use crate::toml_check::{suggest, Checker, Ids, Span, Table};
use std::collections::HashMap;
use toml::Spanned;
use url::Url;

/// `[run] scenarios = [...]`: exactly these, in this order.
pub(super) fn run_list(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    customs: &[Custom],
    cmp: Option<&Cmp>,
    first: Option<&Url>,
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
        } else if BUILTIN_SCENARIOS.contains(&id)
            || OPT_IN_BUILTINS.contains(&id)
            || id == PARTIAL_BUILTIN
        {
            out.extend(builtin(ck, id, cmp, first, &entry.span()));
        } else {
            let known = BUILTIN_SCENARIOS
                .iter()
                .chain(OPT_IN_BUILTINS.iter())
                .chain(std::iter::once(&PARTIAL_BUILTIN))
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
    first: Option<&Url>,
) -> Vec<Scenario> {
    let custom = |id: &str| customs.iter().find(|c| c.id.get_ref() == id);
    let mut out = Vec::new();
    for id in BUILTIN_SCENARIOS {
        if let Some(c) = custom(id) {
            out.extend(c.scenario.clone());
            continue;
        }
        let at = match (id, cmp) {
            ("no_action", _) => Some(0..0),
            (_, None) => None,
            (_, Some(cmp)) => match configured(id, cmp) {
                Ok(at) => Some(at),
                Err(why) => {
                    ck.warning(
                        &cmp.span,
                        format!("the built-in scenario `{id}` will not run: {why}"),
                        format!("{}, or list the scenarios to run in [run]", hint(id)),
                    );
                    None
                }
            },
        };
        if let Some(at) = at {
            out.extend(builtin(ck, id, cmp, first, &at));
        }
    }
    // accept_some runs by default when [cmp] says what it grants (no warning without).
    if let Some(c) = custom(PARTIAL_BUILTIN) {
        out.extend(c.scenario.clone());
    } else if let Some((at, _)) = cmp.and_then(|c| c.grant.as_ref()) {
        let at = at.clone();
        out.extend(builtin(ck, PARTIAL_BUILTIN, cmp, first, &at));
    }
    for c in customs {
        let id = c.id.get_ref().as_str();
        if !BUILTIN_SCENARIOS.contains(&id) && id != PARTIAL_BUILTIN {
            out.extend(c.scenario.clone());
        }
    }
    out
}

/// Can [cmp] run the built-in `id`? `Ok` with where it is configured, else why not.
fn configured(id: &str, cmp: &Cmp) -> Result<Span, String> {
    let action_at = |action: ConsentAction| -> Result<Span, String> {
        if cmp.auto_for(action) {
            return Ok(cmp.auto_span.clone());
        }
        cmp.clicks(action)
            .map(|(span, _)| span.clone())
            .ok_or_else(|| format!("[cmp] has no `{}` selectors", action.as_str()))
    };
    let flow_at = |kind: FlowKind| -> Result<Span, String> {
        let key = match kind {
            FlowKind::ObjectLi => cmp.clicks(ConsentAction::ObjectLi).map(|(s, _)| s.clone()),
            FlowKind::Withdraw => cmp.withdraw.as_ref().map(|(s, _)| s.clone()),
            FlowKind::AcceptSome => None,
        };
        if let Some(at) = key {
            return Ok(at);
        }
        if let Some((at, p)) = &cmp.profile {
            return p.flow_steps(kind).map(|_| at.clone());
        }
        if cmp.auto {
            return Ok(cmp.auto_span.clone());
        }
        Err(format!(
            "[cmp] has no `{}` selectors, no `profile` and no `auto = true`",
            kind.as_str()
        ))
    };
    match id {
        "accept_all" => action_at(ConsentAction::AcceptAll),
        "reject_all" | "reject_then_reload" => action_at(ConsentAction::RejectAll),
        "object_li" => flow_at(FlowKind::ObjectLi),
        "accept_then_withdraw" => {
            action_at(ConsentAction::AcceptAll)?;
            flow_at(FlowKind::Withdraw)
        }
        "accept_some" => {
            cmp.grant
                .as_ref()
                .ok_or("[cmp] has no `grant` (the declared purposes it grants)")?;
            flow_at(FlowKind::AcceptSome)
        }
        _ => Ok(cmp.span.clone()),
    }
}

fn hint(id: &str) -> String {
    match id {
        "object_li" => "add object_li = [\"...\"] to [cmp] (the clicks of the CMP's second layer), or profile = \"NAME\" (a CMP profile, docs/scenarios.md#cmp-profiles)".to_string(),
        "accept_then_withdraw" => "add withdraw = [\"...\"] to [cmp] (reopen the preference centre, refuse), or profile = \"NAME\"".to_string(),
        "reject_then_reload" => "add reject_all = [\"...\"] to [cmp], or auto = true".to_string(),
        "accept_some" => "add grant = [\"PURPOSE\"] to [cmp] (the declared purposes it grants) and profile = \"NAME\" or auto = true (the CMP profile's [accept_some] flow)".to_string(),
        _ => format!("add {id} = [\"...\"] to [cmp], or auto = true"),
    }
}

/// Expand a built-in scenario from [cmp]; problems are reported at `at` (the [run]
/// entry, or the [cmp] key).
fn builtin(
    ck: &mut Checker<'_>,
    id: &str,
    cmp: Option<&Cmp>,
    first: Option<&Url>,
    at: &Span,
) -> Option<Scenario> {
    let scenario = |description: &str, steps| Scenario {
        id: id.to_string(),
        description: description.to_string(),
        builtin: true,
        steps,
        gpc: false,
        login: true,
    };
    match id {
        "gpc" => Some(Scenario {
            gpc: true,
            ..scenario(
                "Load the pages with Global Privacy Control on, without touching the consent banner.",
                Vec::new(),
            )
        }),
        "no_action" => Some(scenario(
            "Load the pages without touching the consent banner.",
            Vec::new(),
        )),
        "accept_all" | "reject_all" => {
            let action = ConsentAction::parse(id)?;
            let (steps, auto) = consent_steps(ck, id, action, cmp, at)?;
            let description = match (action, auto) {
                (ConsentAction::AcceptAll, true) => "Accept all through autoconsent (optIn).",
                (_, true) => "Reject all through autoconsent (optOut).",
                (ConsentAction::AcceptAll, false) => "Accept all through the consent banner.",
                _ => "Reject all through the consent banner.",
            };
            Some(scenario(description, steps))
        }
        "object_li" => {
            let steps = flow_steps(ck, id, FlowKind::ObjectLi, cmp, at)?;
            Some(scenario(
                "Object to legitimate interest through the consent banner, without granting or refusing consent.",
                steps,
            ))
        }
        "reject_then_reload" => {
            let (mut steps, _) = consent_steps(ck, id, ConsentAction::RejectAll, cmp, at)?;
            steps.push(reload(ck, first?, cmp, at));
            Some(scenario(
                "Reject all, then load the first page again in the same profile: the choice persists, consent vendors stay silent, the banner does not come back.",
                steps,
            ))
        }
        "accept_some" => {
            if cmp.is_some_and(|c| c.grant.is_none()) {
                ck.error(
                    at,
                    "the built-in scenario `accept_some` needs `grant` in [cmp]",
                    hint(id),
                );
                return None;
            }
            let steps = flow_steps(ck, id, FlowKind::AcceptSome, cmp, at)?;
            let what = cmp
                .and_then(|c| c.grant.as_ref())
                .map(|(_, g)| g.grant.describe())
                .unwrap_or_default();
            Some(scenario(
                &format!("Grant consent to {what} only, through the CMP's second layer (its profile's accept_some flow): only the vendors of the purposes granted may run."),
                steps,
            ))
        }
        "accept_then_withdraw" => {
            let (mut steps, _) = consent_steps(ck, id, ConsentAction::AcceptAll, cmp, at)?;
            let withdraw = flow_steps(ck, id, FlowKind::Withdraw, cmp, at)?;
            steps.push(Step::plain(Action::WaitIdle, ck.location(at)));
            steps.extend(withdraw);
            steps.push(reload(ck, first?, cmp, at));
            Some(scenario(
                "Accept all, then withdraw through the preference centre and load the first page again: consent vendors stop, their cookies are not set again.",
                steps,
            ))
        }
        _ => None,
    }
}

/// Load the first page again (`reject_then_reload`, `accept_then_withdraw`).
fn reload(ck: &mut Checker<'_>, first: &Url, cmp: Option<&Cmp>, at: &Span) -> Step {
    let at = cmp.map(|c| c.span.clone()).unwrap_or_else(|| at.clone());
    Step::plain(Action::Navigate(first.clone()), ck.location(&at))
}

/// The steps of accept_all / reject_all: autoconsent (`auto = true`, the selectors its
/// fallback) or the banner and the selectors. `true` when autoconsent.
fn consent_steps(
    ck: &mut Checker<'_>,
    id: &str,
    action: ConsentAction,
    cmp: Option<&Cmp>,
    at: &Span,
) -> Option<(Vec<Step>, bool)> {
    let key = action.as_str();
    let clicks = cmp.and_then(|c| c.clicks(action)).map(|(_, sels)| sels);
    let banner = cmp.and_then(|c| c.banner.as_ref());
    if let Some(cmp) = cmp.filter(|c| c.auto_for(action)) {
        return Some((vec![auto_step(ck, cmp, action, clicks, banner)], true));
    }
    if clicks.is_none() {
        ck.error(
            at,
            format!("the built-in scenario `{id}` needs `{key}` selectors in [cmp]"),
            format!("add to [cmp]: {key} = [\"#button\"] (the selectors clicked, in order), or auto = true"),
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
    let mut steps = vec![Step {
        waits_for_banner: true,
        ..plain(ck, Action::WaitFor(banner.get_ref().clone()), banner)
    }];
    steps.extend(clicks_marked(ck, clicks, action, &records));
    Some((steps, false))
}

/// Clicks in order, the last one marked with `action`.
fn clicks_marked(
    ck: &mut Checker<'_>,
    clicks: &[Spanned<String>],
    action: ConsentAction,
    records: &[crate::model::ConsentEffect],
) -> Vec<Step> {
    clicks
        .iter()
        .enumerate()
        .map(|(i, sel)| {
            let last = i + 1 == clicks.len();
            Step {
                consent: last.then_some(action),
                records: if last { records.to_vec() } else { Vec::new() },
                ..plain(ck, Action::Click(sel.get_ref().clone()), sel)
            }
        })
        .collect()
}

fn plain(ck: &mut Checker<'_>, action: Action, sel: &Spanned<String>) -> Step {
    Step::plain(action, ck.location(&sel.span()))
}

/// The steps of a flow (object_li, withdraw), in order of precedence: the [cmp]
/// selectors, the named profile's flow, the detected CMP's profile at run time
/// (`auto = true`).
fn flow_steps(
    ck: &mut Checker<'_>,
    id: &str,
    kind: FlowKind,
    cmp: Option<&Cmp>,
    at: &Span,
) -> Option<Vec<Step>> {
    let action = kind.consent();
    let selectors = cmp.and_then(|c| match kind {
        FlowKind::ObjectLi => c.clicks(ConsentAction::ObjectLi).map(|(_, s)| s),
        FlowKind::Withdraw => c.withdraw.as_ref().map(|(_, s)| &s[..]),
        FlowKind::AcceptSome => None,
    });
    if let (Some(cmp), Some(sels)) = (cmp, selectors) {
        let records = cmp.records(action);
        let mut steps = Vec::new();
        if kind == FlowKind::ObjectLi {
            let Some(banner) = cmp.banner.as_ref() else {
                ck.error(
                    at,
                    format!("the built-in scenario `{id}` needs `banner` in [cmp]"),
                    "add to [cmp]: banner = \"#consent-banner\" (the banner's selector; the scenario waits for it)",
                );
                return None;
            };
            steps.push(Step {
                waits_for_banner: true,
                ..plain(ck, Action::WaitFor(banner.get_ref().clone()), banner)
            });
        }
        steps.extend(clicks_marked(ck, sels, action, &records));
        return Some(steps);
    }
    let Some(cmp) = cmp else {
        ck.error(
            at,
            format!("the built-in scenario `{id}` needs [cmp]"),
            hint(id),
        );
        return None;
    };
    let (candidates, named, location) = match &cmp.profile {
        Some((span, p)) => {
            if let Err(why) = p.flow_steps(kind) {
                ck.error(
                    at,
                    format!("the built-in scenario `{id}` cannot run: {why}"),
                    format!("remove it from [run], or: {}", hint(id)),
                );
                return None;
            }
            (vec![p.clone()], true, ck.location(span))
        }
        None if cmp.auto => (cmp.profiles.clone(), false, ck.location(&cmp.auto_span)),
        None => {
            ck.error(
                at,
                format!(
                    "the built-in scenario `{id}` needs `{}` selectors, a `profile` or `auto = true` in [cmp]",
                    kind.as_str()
                ),
                hint(id),
            );
            return None;
        }
    };
    let grant = match kind {
        FlowKind::AcceptSome => Some(cmp.grant.as_ref().map(|(_, g)| g.clone())?),
        _ => None,
    };
    Some(vec![Step {
        grant,
        ..Step::plain(
            Action::Profile(ProfileStep {
                flow: kind,
                candidates,
                named,
                detect_with_autoconsent: !named && cmp.auto,
            }),
            location,
        )
    }])
}

/// The one step of an `auto = true` accept / reject: autoconsent, with the [cmp] banner
/// and selectors (when given) as its fallback.
fn auto_step(
    ck: &mut Checker<'_>,
    cmp: &Cmp,
    action: ConsentAction,
    clicks: Option<&[Spanned<String>]>,
    banner: Option<&Spanned<String>>,
) -> Step {
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
        action: Action::Autoconsent(AutoConsent {
            action,
            fallback,
            heuristic: cmp.heuristic.clone(),
        }),
        consent: Some(action),
        records: cmp.records(action),
        timeout: None,
        location: ck.location(&cmp.auto_span),
        waits_for_banner: false,
        grant: None,
    }
}
