//! `[login]`: the steps that log a visitor in, run in every scenario that does not opt
//! out, before its own steps (docs/scenarios.md#login).

use super::steps::check_step;
use crate::scenario::{Login, Step};
use crate::toml_check::{Checker, Table};
use toml::de::DeValue;
use url::Url;

pub(crate) const LOGIN_KEYS: &[&str] = &["steps", "check"];

/// Step keys that make a step a consent action: not allowed in a login.
const CONSENT_KEYS: &[&str] = &["consent", "records", "grant", "cmp_flow"];

/// `[login]`: `steps` (required, not empty; the scenario vocabulary without consent
/// marks or CMP flows) and an optional `check` selector. `secrets`: the names `[site]
/// secrets` declares; a `${VAR}` of any other variable in the steps is a warning.
/// `None` when something is wrong (each problem reported).
pub(super) fn check_login(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    base: Option<&Url>,
    secrets: &[String],
) -> Option<Login> {
    let location = ck.location(&t.span);
    let check = ck
        .opt_string(t, "check")
        .map(|s| super::cmp::selector(ck, &s));
    let steps = match t.get("steps") {
        None => {
            ck.missing(
                t,
                "steps",
                "[{ navigate = \"/login\" }, { script = \"...\" }]",
            );
            None
        }
        Some(v) => ck.array(v, "`steps` in [login]").and_then(|items| {
            if items.is_empty() {
                ck.error(
                    &v.span(),
                    "[login] has no steps",
                    "give the steps that log in (navigate to the login page, fill in the form with a script, submit), or remove [login]",
                );
                return None;
            }
            let steps: Vec<Option<Step>> = items
                .iter()
                .map(|s| {
                    undeclared_credentials(ck, s, secrets);
                    if consent_keys(ck, s) {
                        return None;
                    }
                    check_step(ck, s, base, None, false)
                })
                .collect();
            steps.into_iter().collect::<Option<Vec<Step>>>()
        }),
    };
    let check = match check {
        Some(c) => Some(c?),
        None => None,
    };
    Some(Login {
        steps: steps?,
        check,
        location,
    })
}

/// Reports each key of a login step that makes it a consent action; true when there was
/// one.
fn consent_keys(ck: &mut Checker<'_>, v: &crate::toml_check::Val<'_>) -> bool {
    let Some(map) = v.get_ref().as_table() else {
        return false;
    };
    let mut found = false;
    for (k, _) in map.iter() {
        let key: &str = k.get_ref();
        if CONSENT_KEYS.contains(&key) {
            found = true;
            ck.error(
                &k.span(),
                format!("a [login] step cannot carry `{key}`: a login is not a consent action"),
                "remove it: the scenarios' own steps make the consent choices, after the login",
            );
        }
    }
    found
}

/// Warns, at the value, of each `${VAR}` in a login step's strings whose variable is not
/// a declared secret: its value (a password) would be written unredacted.
fn undeclared_credentials(
    ck: &mut Checker<'_>,
    v: &crate::toml_check::Val<'_>,
    secrets: &[String],
) {
    let Some(map) = v.get_ref().as_table() else {
        return;
    };
    for (_, value) in map.iter() {
        let DeValue::String(raw) = value.get_ref() else {
            continue;
        };
        for name in env_vars(raw) {
            if !secrets.iter().any(|s| s == name) {
                ck.warning(
                    &value.span(),
                    format!("`${{{name}}}` in [login] is not a declared secret: credentials should be declared secrets"),
                    format!("add \"{name}\" to `secrets` in [site], so its value is redacted everywhere it could be written"),
                );
            }
        }
    }
}

/// The variables a string's `${VAR}` and `${VAR:-default}` name, in order (`$${` is a
/// literal `${`, no variable).
pub(crate) fn env_vars(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = s[at..].find("${") {
        let start = at + found;
        at = start + 2;
        if s[..start].ends_with('$') {
            continue;
        }
        let Some(end) = s[at..].find('}') else {
            break;
        };
        let inner = &s[at..at + end];
        let name = inner.split_once(":-").map_or(inner, |(n, _)| n);
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
        at += end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::env_vars;

    #[test]
    fn variables_are_named_once_and_literals_skipped() {
        assert_eq!(
            env_vars("u=${USER}&p=${PASS:-x}&again=${USER}"),
            vec!["USER", "PASS"]
        );
        assert_eq!(env_vars("`$${notavar}` and ${REAL}"), vec!["REAL"]);
        assert!(env_vars("no variables, $ alone, ${unterminated").is_empty());
    }
}
