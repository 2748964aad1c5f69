//! `[[scenario]]` tables and their steps.

use super::browser::MAX_TIMEOUT;
use super::cmp::{effects, effects_or_default, selector, Cmp};
use super::site::{non_empty, resolve_url};
use crate::model::{ConsentAction, Grant};
use crate::scenario::{Action, Place, Scenario, Step, StepGrant};
use crate::toml_check::{Checker, Ids, Table, Val};
use std::path::PathBuf;
use toml::Spanned;
use url::Url;

pub(crate) const ACTION_KEYS: &[&str] = &[
    "navigate",
    "click",
    "click_all",
    "wait_for",
    "wait_idle",
    "script",
    "screenshot",
    "cmp_flow",
];
pub(crate) const STEP_KEYS: &[&str] = &[
    "navigate",
    "click",
    "click_all",
    "wait_for",
    "wait_idle",
    "script",
    "screenshot",
    "cmp_flow",
    "consent",
    "records",
    "timeout",
    "grant",
];

/// The consent actions a step may perform (`[cmp.records]` knows the first three).
const STEP_CONSENT_ACTIONS: [&str; 4] = ["accept_all", "reject_all", "object_li", "accept_some"];

/// A custom scenario: its id, and the scenario when its steps are valid.
pub(super) struct Custom {
    pub(super) id: Spanned<String>,
    pub(super) scenario: Option<Scenario>,
}

pub(super) fn check_scenario(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    base: Option<&Url>,
    cmp: Option<&Cmp>,
    ids: &mut Ids,
) -> Option<Custom> {
    let id = ck.req_id(t, "id", "accept_then_object");
    let description = ck.opt_string(t, "description").map(Spanned::into_inner);
    let gpc = ck.opt_bool(t, "gpc").unwrap_or(false);
    let steps = match t.get("steps") {
        None => {
            ck.missing(
                t,
                "steps",
                "[{ click = \"#accept\", consent = \"accept_all\" }]",
            );
            None
        }
        Some(v) => ck.array(v, "`steps` in [[scenario]]").and_then(|items| {
            if items.is_empty() {
                ck.warning(
                    &v.span(),
                    "scenario has no steps",
                    "without steps it behaves like the built-in no_action",
                );
            }
            let steps: Vec<Option<Step>> = items
                .iter()
                .map(|s| check_step(ck, s, base, cmp, false))
                .collect();
            steps.into_iter().collect::<Option<Vec<Step>>>()
        }),
    };
    let id = id?;
    if !ids.insert(ck, &id) {
        return None;
    }
    let scenario = steps.map(|steps| Scenario {
        id: id.get_ref().clone(),
        description: description.unwrap_or_default(),
        builtin: false,
        steps,
        gpc,
    });
    Some(Custom { id, scenario })
}

/// One step. `in_profile`: a CMP profile's step, whose `accept_some` takes its grant
/// from the scenario's step that runs the flow (no `grant` of its own).
pub(super) fn check_step(
    ck: &mut Checker<'_>,
    v: &Val<'_>,
    base: Option<&Url>,
    cmp: Option<&Cmp>,
    in_profile: bool,
) -> Option<Step> {
    let t = ck.table(v, "step", STEP_KEYS)?;
    let actions: Vec<_> = t
        .entries()
        .into_iter()
        .filter(|(k, _, _)| ACTION_KEYS.contains(k))
        .collect();
    match &actions[..] {
        [] if t.unknown_keys == 0 => ck.error(
            &t.span,
            "step has no action",
            format!("give exactly one of: {}", ACTION_KEYS.join(", ")),
        ),
        [_, (_, second, _), ..] => {
            let names: Vec<String> = actions.iter().map(|(k, _, _)| format!("`{k}`")).collect();
            ck.error(
                second,
                format!("step has {} actions: {}", actions.len(), names.join(", ")),
                "a step does exactly one thing: split it into one step per action",
            );
        }
        _ => {}
    }
    let mut parsed: Vec<Option<Action>> = actions
        .iter()
        .map(|(key, _, value)| check_action(ck, key, value, base, cmp))
        .collect();
    let consent = ck.opt_string(&t, "consent").map(|c| {
        ck.one_of(&c, "consent action", &STEP_CONSENT_ACTIONS)
            .and_then(ConsentAction::parse)
    });
    let grant = t.get("grant").map(|g| grant_list(ck, g));
    let records = t.get("records").map(|r| {
        if consent.is_none() {
            ck.error(
                &r.span(),
                "`records` is only allowed on a step with `consent`",
                "add consent = \"accept_all\", \"reject_all\" or \"object_li\", or remove `records`",
            );
        }
        effects(ck, r, "`records` in step")
    });
    let timeout = t
        .get("timeout")
        .map(|_| ck.opt_duration(&t, "timeout", MAX_TIMEOUT));
    if parsed.len() != 1 {
        return None;
    }
    // consent, records and timeout: absent is fine, present but invalid fails the step.
    let action = parsed.pop()??;
    let consent = consent.map_or(Some(None), |c| c.map(Some))?;
    let records = match (consent, records) {
        (Some(_), Some(declared)) => declared?,
        (Some(c), None) => effects_or_default(c, cmp),
        (None, Some(_)) => return None,
        (None, None) => Vec::new(),
    };
    let grants = match (&action, consent) {
        (Action::Profile(p), _) => p.flow == crate::scenario::FlowKind::AcceptSome,
        (_, Some(c)) => c == ConsentAction::AcceptSome && !in_profile,
        _ => false,
    };
    let grant = match (grant, grants) {
        (Some(g), true) => Some(g?),
        (None, false) => None,
        (Some(_), false) => {
            if let Some(k) = t.key_span("grant") {
                ck.error(
                    &k,
                    if in_profile {
                        "a CMP profile's step cannot carry `grant`".to_string()
                    } else {
                        "`grant` is only allowed on a step with consent = \"accept_some\" or cmp_flow = \"accept_some\"".to_string()
                    },
                    if in_profile {
                        "the scenario's cmp_flow = \"accept_some\" step says what is granted; its scripts receive it as {{grant}}"
                    } else {
                        "add consent = \"accept_some\", or remove `grant`"
                    },
                );
            }
            return None;
        }
        (None, true) => {
            ck.error(
                &t.span,
                "an accept_some step needs `grant`: the declared purposes it grants",
                "add grant = [\"analytics\"] (purpose ids of the declared map)",
            );
            return None;
        }
    };
    if matches!(action, Action::Profile(_)) && consent.is_some() {
        if let Some(c) = t.key_span("consent") {
            ck.error(
                &c,
                "a `cmp_flow` step cannot carry `consent`",
                "the profile's flow marks its own consent step; remove `consent`",
            );
        }
        return None;
    }
    let waits_for_banner = match &action {
        Action::WaitFor(sel) => cmp.is_some_and(|c| c.is_banner(sel)),
        _ => false,
    };
    Some(Step {
        action,
        consent,
        records,
        timeout: timeout.map_or(Some(None), |d| d.map(Some))?,
        location: ck.location(&v.span()),
        waits_for_banner,
        grant,
    })
}

/// `grant = ["analytics", ...]`: the declared purposes a partial consent grants, each
/// once, not empty. Whether each is a consent-based purpose of the declared map is
/// checked when the file meets the map ([`super::grant`]).
pub(super) fn grant_list(ck: &mut Checker<'_>, v: &Val<'_>) -> Option<StepGrant> {
    let list = ck.strings(v, "`grant`")?;
    if list.is_empty() {
        ck.error(
            &v.span(),
            "`grant` is empty",
            "name the declared purposes granted, e.g. grant = [\"analytics\"]; to grant none, use reject_all",
        );
        return None;
    }
    let mut out = StepGrant {
        grant: Grant::default(),
        written: Vec::new(),
    };
    let mut ok = true;
    for p in &list {
        let id = p.get_ref();
        if id.trim().is_empty() {
            ck.error(
                &p.span(),
                "empty purpose id in `grant`",
                "write the purpose's `id` from the declared map",
            );
            ok = false;
        } else if out.grant.purposes.contains(id) {
            ck.error(
                &p.span(),
                format!("purpose `{id}` is listed twice in `grant`"),
                "list each purpose once",
            );
            ok = false;
        } else {
            let (file, line, col) = ck.place_of(&p.span());
            out.grant.purposes.push(id.clone());
            out.written.push(Place { file, line, col });
        }
    }
    ok.then_some(out)
}

fn check_action(
    ck: &mut Checker<'_>,
    key: &str,
    v: &Val<'_>,
    base: Option<&Url>,
    cmp: Option<&Cmp>,
) -> Option<Action> {
    let what = format!("`{key}` in step");
    if key == "wait_idle" {
        let yes = ck.boolean(v, &what)?;
        if !yes {
            ck.error(
                &v.span(),
                "`wait_idle` must be true",
                "write wait_idle = true, or remove the step",
            );
        }
        return yes.then_some(Action::WaitIdle);
    }
    let s = ck.string(v, &what)?;
    match key {
        "navigate" => resolve_url(ck, &s, base?).map(Action::Navigate),
        "click" => selector(ck, &s).map(Action::Click),
        "click_all" => selector(ck, &s).map(Action::ClickAll),
        "wait_for" => selector(ck, &s).map(Action::WaitFor),
        "script" => non_empty(ck, s, &what).map(|s| Action::Script(s.into_inner())),
        "cmp_flow" => cmp_flow(ck, &s, cmp),
        "screenshot" => {
            non_empty(ck, s, &what).map(|s| Action::Screenshot(PathBuf::from(s.into_inner())))
        }
        _ => None,
    }
}

/// `cmp_flow = "object_li" | "withdraw" | "accept_some"`: the named CMP profile's flow,
/// or with `auto = true` the detected CMP's (docs/scenarios.md#cmp-profiles).
fn cmp_flow(ck: &mut Checker<'_>, s: &Spanned<String>, cmp: Option<&Cmp>) -> Option<Action> {
    use crate::scenario::profile::{FlowKind, ProfileStep};
    let kind = match ck.one_of(s, "CMP flow", &["object_li", "withdraw", "accept_some"])? {
        "object_li" => FlowKind::ObjectLi,
        "accept_some" => FlowKind::AcceptSome,
        _ => FlowKind::Withdraw,
    };
    match cmp {
        Some(c) if c.profile.is_some() => {
            let (_, p) = c.profile.as_ref()?;
            match p.flow_steps(kind) {
                Ok(_) => Some(Action::Profile(ProfileStep {
                    flow: kind,
                    candidates: vec![p.clone()],
                    named: true,
                    detect_with_autoconsent: false,
                })),
                Err(why) => {
                    ck.error(
                        &s.span(),
                        why,
                        format!(
                            "remove the step, or add [{}] steps to the profile",
                            kind.as_str()
                        ),
                    );
                    None
                }
            }
        }
        Some(c) if c.auto => Some(Action::Profile(ProfileStep {
            flow: kind,
            candidates: c.profiles.clone(),
            named: false,
            detect_with_autoconsent: true,
        })),
        _ => {
            ck.error(
                &s.span(),
                "`cmp_flow` needs a CMP profile",
                "add profile = \"NAME\" (scenarios/cmp/NAME.toml) or auto = true to [cmp]",
            );
            None
        }
    }
}
