//! `[cmp]`: the consent banner's selectors and what each consent action records in
//! this CMP (`[cmp.records]`).

use crate::model::{ConsentAction, ConsentEffect};
use crate::scenario::profile::CmpProfile;
use crate::toml_check::{Checker, Span, Table, Val};
use scraper::error::SelectorErrorKind;
use toml::Spanned;

pub(crate) const CMP_KEYS: &[&str] = &[
    "auto",
    "banner",
    "accept_all",
    "reject_all",
    "object_li",
    "withdraw",
    "profile",
    "records",
    "heuristic",
    "banner_words",
    "grant",
];
pub(crate) const CONSENT_ACTIONS: [&str; 3] = ["accept_all", "reject_all", "object_li"];

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
    /// `withdraw = [...]`: the clicks that withdraw a consent given earlier (reopen the
    /// preference centre, refuse), for `accept_then_withdraw`.
    pub(super) withdraw: Option<(Span, Vec<Spanned<String>>)>,
    /// `profile = "name"`: the CMP profile used for object_li / withdraw.
    pub(super) profile: Option<(Span, CmpProfile)>,
    /// Every known profile (bundled, and `cmp/` beside the scenario file), for
    /// detection at run time with `auto = true`.
    pub(super) profiles: Vec<CmpProfile>,
    /// The heuristic's vocabulary (`heuristic = true`, the default, with `auto = true`):
    /// the bundled words, extended by `banner_words`.
    pub(super) heuristic: Option<crate::cmp::heuristic::BannerWords>,
    /// `grant = ["analytics"]`: what the built-in `accept_some` grants (where written).
    pub(super) grant: Option<(Span, crate::scenario::StepGrant)>,
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

pub(super) fn check_cmp(ck: &mut Checker<'_>, t: &Table<'_, '_>, file: &std::path::Path) -> Cmp {
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
    let withdraw = t.get("withdraw").and_then(|v| {
        let what = "`withdraw` in [cmp]";
        let list = ck.strings(v, what)?;
        if list.is_empty() {
            ck.error(
                &v.span(),
                format!("{what} is empty"),
                "list the selectors that reopen the preference centre and withdraw, in order, or leave the key out",
            );
            return None;
        }
        let sels = list
            .into_iter()
            .filter(|s| selector(ck, s).is_some())
            .collect();
        Some((t.key_span("withdraw").unwrap_or_else(|| v.span()), sels))
    });
    let (profiles, diags) = super::profile::load_profiles(file);
    ck.extend(diags);
    let profile = ck.opt_string(t, "profile").and_then(|name| {
        match profiles.iter().find(|p| &p.name == name.get_ref()) {
            Some(p) => Some((name.span(), p.clone())),
            None => {
                let dir = super::profile::user_dir(file);
                ck.error(
                    &name.span(),
                    format!("unknown CMP profile `{}`", name.get_ref()),
                    format!(
                        "{} (add {}/{}.toml)",
                        crate::toml_check::suggest(
                            name.get_ref(),
                            profiles.iter().map(|p| p.name.as_str()),
                            "known profiles"
                        ),
                        dir.display(),
                        name.get_ref()
                    ),
                );
                None
            }
        }
    });
    let heuristic = check_heuristic(ck, t, file, auto);
    let grant = t.get("grant").and_then(|v| {
        let g = super::steps::grant_list(ck, v)?;
        Some((t.key_span("grant").unwrap_or_else(|| v.span()), g))
    });
    Cmp {
        grant,
        span: t.span.clone(),
        heuristic,
        banner,
        auto,
        auto_span: t.key_span("auto").unwrap_or_else(|| t.span.clone()),
        clicks,
        records,
        withdraw,
        profile,
        profiles,
    }
}

/// `heuristic` (default `true`) and `banner_words` (a vocabulary file, relative to the
/// scenario file): the heuristic's words, when `auto = true` lets it run.
fn check_heuristic(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    file: &std::path::Path,
    auto: bool,
) -> Option<crate::cmp::heuristic::BannerWords> {
    use crate::cmp::heuristic::BannerWords;
    let on = t
        .get("heuristic")
        .and_then(|v| ck.boolean(v, "`heuristic` in [cmp]"))
        .unwrap_or(true);
    let extra = ck.opt_string(t, "banner_words");
    if let (Some(path), false) = (&extra, on && auto) {
        ck.warning(
            &path.span(),
            "`banner_words` is not used: the heuristic runs only with `auto = true` and `heuristic` on",
            "set `auto = true` in [cmp], or leave `banner_words` out",
        );
    }
    if !(on && auto) {
        return None;
    }
    let words = match &extra {
        Some(path) => {
            let base = file.parent().unwrap_or(std::path::Path::new("."));
            let full = base.join(path.get_ref());
            if !full.is_file() {
                ck.error(
                    &path.span(),
                    format!("banner words file {} not found", full.display()),
                    "give a path relative to the scenario file, to a TOML file in the format of data/banner-words.toml",
                );
                return None;
            }
            BannerWords::with_file(&full)
        }
        None => BannerWords::bundled(),
    };
    match words {
        Ok(w) => Some(w),
        Err(diags) => {
            ck.extend(diags);
            None
        }
    }
}

/// A CSS selector, checked with the same parser family the browser uses.
/// A selector path (`iframe#cmp >>> #host >>> button`, docs/scenarios.md#selectors):
/// each part is checked.
pub(super) fn selector(ck: &mut Checker<'_>, s: &Spanned<String>) -> Option<String> {
    let parts = crate::scenario::selector_parts(s.get_ref());
    let mut ok = true;
    for part in &parts {
        if part.is_empty() {
            ck.error(
                &s.span(),
                format!("selector path {:?} has an empty part", s.get_ref()),
                "join CSS selectors with >>>: the frame or shadow host first, then the element inside it, as in \"iframe#cmp >>> button.accept\"",
            );
            ok = false;
            continue;
        }
        if let Err(e) = scraper::Selector::parse(&without_state_pseudo_classes(part)) {
            let what = if parts.len() > 1 {
                format!(" (in the selector path {:?})", s.get_ref())
            } else {
                String::new()
            };
            ck.error(
                &s.span(),
                format!("invalid CSS selector {part:?}{what}: {}", selector_error(&e)),
                "selectors use CSS syntax, as for document.querySelector: #id, .class, button[type=submit], div > a",
            );
            ok = false;
        }
    }
    ok.then(|| s.get_ref().clone())
}

/// Pseudo-classes the browser's `querySelector` knows but a static parser cannot judge
/// (they depend on the live page: `:checked`, `:hover`, `:lang(en)`); scraper rejects
/// them, so for checking the syntax each becomes an attribute selector in its place.
const STATE_PSEUDO_CLASSES: &[&str] = &[
    "placeholder-shown",
    "focus-visible",
    "focus-within",
    "popover-open",
    "indeterminate",
    "read-write",
    "read-only",
    "out-of-range",
    "in-range",
    "user-invalid",
    "user-valid",
    "any-link",
    "autofill",
    "checked",
    "default",
    "defined",
    "disabled",
    "enabled",
    "focus",
    "fullscreen",
    "hover",
    "invalid",
    "link",
    "modal",
    "open",
    "optional",
    "paused",
    "playing",
    "required",
    "target",
    "valid",
    "visited",
    "active",
    "lang",
    "dir",
    "state",
];

fn without_state_pseudo_classes(sel: &str) -> String {
    let mut out = String::with_capacity(sel.len());
    let mut rest = sel;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // `::` starts a pseudo-element: left to the parser (querySelector cannot match one).
        if let Some(stripped) = after.strip_prefix(':') {
            out.push_str("::");
            rest = stripped;
            continue;
        }
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if STATE_PSEUDO_CLASSES.contains(&name.to_ascii_lowercase().as_str()) {
            out.push_str("[data-consentry-state]");
            let mut tail = &after[name_len..];
            // A functional one (`:lang(en)`): its argument goes with it.
            if tail.starts_with('(') {
                if let Some(close) = tail.find(')') {
                    tail = &tail[close + 1..];
                }
            }
            rest = tail;
        } else {
            out.push(':');
            rest = after;
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::without_state_pseudo_classes as w;

    #[test]
    fn live_state_pseudo_classes_pass_the_syntax_check() {
        assert_eq!(
            w("input:checked + label"),
            "input[data-consentry-state] + label"
        );
        assert_eq!(
            w("a:not(:hover):first-child"),
            "a:not([data-consentry-state]):first-child"
        );
        assert_eq!(w("p:lang(en) b"), "p[data-consentry-state] b");
        assert_eq!(w("li::before"), "li::before");
        for s in [
            "input:checked + label",
            "x:has(.y) input:not(:disabled)",
            "p:lang(en)",
        ] {
            assert!(scraper::Selector::parse(&w(s)).is_ok(), "{s}");
        }
        // Unknown pseudo-classes are still the parser's to reject.
        assert!(scraper::Selector::parse(&w("button:contains('x')")).is_err());
    }
}
