//! `[cmp]`: the consent banner's selectors and what each consent action records in
//! this CMP (`[cmp.records]`).

use crate::observe::{ConsentAction, ConsentEffect};
use crate::toml_check::{Checker, Span, Table, Val};
use scraper::error::SelectorErrorKind;
use toml::Spanned;

pub(super) const CMP_KEYS: &[&str] = &[
    "auto",
    "banner",
    "accept_all",
    "reject_all",
    "object_li",
    "records",
];
pub(super) const CONSENT_ACTIONS: [&str; 3] = ["accept_all", "reject_all", "object_li"];

/// Consent banner selectors for the built-in scenarios.
pub(super) struct Cmp {
    pub(super) span: Span,
    pub(super) banner: Option<Spanned<String>>,
    /// `auto = true`: accept_all / reject_all through autoconsent.
    pub(super) auto: bool,
    /// Where `auto` was written (the [cmp] table when absent).
    pub(super) auto_span: Span,
    /// Per consent action: the key's span and the selectors, clicked in order.
    clicks: Vec<(ConsentAction, Span, Vec<Spanned<String>>)>,
    /// Per consent action declared in `[cmp.records]`: what it records.
    records: Vec<(ConsentAction, Vec<ConsentEffect>)>,
}

impl Cmp {
    /// What `action` records in this CMP: `[cmp.records]`, else the defaults.
    pub(super) fn records(&self, action: ConsentAction) -> Vec<ConsentEffect> {
        self.records
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| action.default_effects().to_vec())
    }

    /// Does autoconsent perform `action` (`auto = true`; it knows accept and reject only)?
    pub(super) fn auto_for(&self, action: ConsentAction) -> bool {
        self.auto && matches!(action, ConsentAction::AcceptAll | ConsentAction::RejectAll)
    }

    /// Is `selector` the banner's selector?
    pub(super) fn is_banner(&self, selector: &str) -> bool {
        self.banner
            .as_ref()
            .is_some_and(|b| b.get_ref() == selector)
    }

    pub(super) fn clicks(&self, action: ConsentAction) -> Option<(&Span, &[Spanned<String>])> {
        self.clicks
            .iter()
            .find(|(a, _, _)| *a == action)
            .map(|(_, span, sels)| (span, &sels[..]))
    }
}

/// What a consent action records without `[cmp.records]` or `records`.
pub(super) fn effects_or_default(action: ConsentAction, cmp: Option<&Cmp>) -> Vec<ConsentEffect> {
    match cmp {
        Some(c) => c.records(action),
        None => action.default_effects().to_vec(),
    }
}

/// A list of consent effects (`records`): known names, not empty, not both granting
/// and refusing consent.
pub(super) fn effects(ck: &mut Checker<'_>, v: &Val<'_>, what: &str) -> Option<Vec<ConsentEffect>> {
    let names: Vec<&str> = ConsentEffect::ALL.iter().map(|e| e.as_str()).collect();
    let list = ck.strings(v, what)?;
    if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
        ck.error(
            &v.span(),
            format!("{what} is empty"),
            format!(
                "list what the action records in the CMP: {}",
                names.join(", ")
            ),
        );
        return None;
    }
    let mut out: Vec<ConsentEffect> = Vec::new();
    let mut ok = true;
    for s in &list {
        match ck
            .one_of(s, "consent effect", &names)
            .and_then(ConsentEffect::parse)
        {
            Some(e) if out.contains(&e) => {
                ck.error(
                    &s.span(),
                    format!("consent effect `{}` is listed twice", e.as_str()),
                    "list each effect once",
                );
                ok = false;
            }
            Some(e) => out.push(e),
            None => ok = false,
        }
    }
    if out.contains(&ConsentEffect::GrantConsent) && out.contains(&ConsentEffect::RefuseConsent) {
        ck.error(
            &v.span(),
            format!("{what} both grants and refuses consent"),
            "an action records either grant_consent or refuse_consent, not both",
        );
        ok = false;
    }
    (ok && list.len() == out.len()).then_some(out)
}

fn check_records(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
) -> Vec<(ConsentAction, Vec<ConsentEffect>)> {
    let rt_name = "[cmp.records]";
    let Some(rt) = t
        .get("records")
        .and_then(|v| ck.table(v, rt_name, &CONSENT_ACTIONS))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in CONSENT_ACTIONS {
        let (Some(action), Some(v)) = (ConsentAction::parse(key), rt.get(key)) else {
            continue;
        };
        if let Some(e) = effects(ck, v, &format!("`{key}` in {rt_name}")) {
            out.push((action, e));
        }
    }
    out
}

pub(super) fn check_cmp(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> Cmp {
    let banner = ck
        .opt_string(t, "banner")
        .and_then(|s| selector(ck, &s).map(|_| s));
    let auto = t
        .get("auto")
        .and_then(|v| ck.boolean(v, "`auto` in [cmp]"))
        .unwrap_or(false);
    let mut clicks = Vec::new();
    let records = check_records(ck, t);
    for key in CONSENT_ACTIONS {
        let (Some(action), Some(v)) = (ConsentAction::parse(key), t.get(key)) else {
            continue;
        };
        let what = format!("`{key}` in [cmp]");
        let Some(list) = ck.strings(v, &what) else {
            continue;
        };
        if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
            ck.error(
                &v.span(),
                format!("{what} is empty"),
                "list the selectors to click, in order, or leave the key out",
            );
        }
        let sels = list
            .into_iter()
            .filter(|s| selector(ck, s).is_some())
            .collect();
        clicks.push((action, t.key_span(key).unwrap_or_else(|| v.span()), sels));
    }
    Cmp {
        span: t.span.clone(),
        banner,
        auto,
        auto_span: t.key_span("auto").unwrap_or_else(|| t.span.clone()),
        clicks,
        records,
    }
}

/// A CSS selector, checked with the same parser family the browser uses.
pub(super) fn selector(ck: &mut Checker<'_>, s: &Spanned<String>) -> Option<String> {
    match scraper::Selector::parse(s.get_ref()) {
        Ok(_) => Some(s.get_ref().clone()),
        Err(e) => {
            ck.error(
                &s.span(),
                format!("invalid CSS selector {:?}: {}", s.get_ref(), selector_error(&e)),
                "selectors use CSS syntax, as for document.querySelector: #id, .class, button[type=submit], div > a",
            );
            None
        }
    }
}

/// scraper's error, in words ("unsupported pseudo class or element").
fn selector_error(e: &SelectorErrorKind) -> String {
    match e {
        SelectorErrorKind::EndOfLine => "unexpected end of selector".to_string(),
        SelectorErrorKind::UnexpectedSelectorParseError(inner) => {
            // The variant name, e.g. `UnsupportedPseudoClassOrElement(Ident("contains"))`.
            let debug = format!("{inner:?}");
            let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
            let mut words = String::new();
            for c in name.chars() {
                if c.is_uppercase() && !words.is_empty() {
                    words.push(' ');
                }
                words.extend(c.to_lowercase());
            }
            words
        }
        other => other.to_string().to_lowercase(),
    }
}
