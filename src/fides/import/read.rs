//! Reading the YAML tree: typed values, and every problem as a diagnostic at its
//! `file:line:col` (the importer carries on, so all are reported at once).

use super::Importer;
use crate::diag::{Diagnostic, Level};
use crate::fides::yaml::{self, Node, Pos};
use crate::policy::DomainPattern;

impl Importer {
    pub(super) fn push(&mut self, level: Level, at: Pos, message: String, hint: &str) {
        let d = Diagnostic {
            level,
            file: self.file.clone(),
            line: at.line.max(1),
            col: at.col.max(1),
            message,
            hint: (!hint.is_empty()).then(|| hint.to_string()),
        };
        self.diags.push(d);
    }

    pub(super) fn error(&mut self, at: Pos, message: impl Into<String>, hint: &str) {
        self.push(Level::Error, at, message.into(), hint);
    }

    pub(super) fn warning(&mut self, at: Pos, message: impl Into<String>, hint: &str) {
        self.push(Level::Warning, at, message.into(), hint);
    }

    pub(super) fn string(&mut self, n: &Node, what: &str) -> Option<String> {
        match n.as_str() {
            Some(s) if matches!(n.value, yaml::Value::Scalar { .. }) => Some(s.to_string()),
            _ => {
                self.error(
                    n.pos,
                    format!("{what} must be a string, not {}", n.kind()),
                    "",
                );
                None
            }
        }
    }

    pub(super) fn opt_string(&mut self, m: &Node, key: &str, what: &str) -> Option<String> {
        let n = m.get(key)?;
        if n.is_null() {
            return None;
        }
        self.string(n, &format!("`{key}` of {what}"))
    }

    pub(super) fn req_string(&mut self, m: &Node, key: &str, what: &str) -> Option<String> {
        match m.get(key) {
            Some(n) if !n.is_null() => self.string(n, &format!("`{key}` of {what}")),
            _ => {
                self.error(m.pos, format!("{what} has no `{key}`"), "");
                None
            }
        }
    }

    pub(super) fn opt_bool(&mut self, m: &Node, key: &str, what: &str) -> Option<bool> {
        let n = m.get(key).filter(|n| !n.is_null())?;
        let b = n.as_bool();
        if b.is_none() {
            self.error(
                n.pos,
                format!("`{key}` of {what} must be true or false, not {}", n.kind()),
                "",
            );
        }
        b
    }

    pub(super) fn opt_int(&mut self, m: &Node, key: &str, what: &str) -> Option<i64> {
        let n = m.get(key).filter(|n| !n.is_null())?;
        let i = n.as_int();
        if i.is_none() {
            self.error(
                n.pos,
                format!("`{key}` of {what} must be a whole number, not {}", n.kind()),
                "",
            );
        }
        i
    }

    /// A list (absent or null: empty).
    pub(super) fn list<'n>(&mut self, m: &'n Node, key: &str, what: &str) -> &'n [Node] {
        match m.get(key) {
            None => &[],
            Some(n) if n.is_null() => &[],
            Some(n) => match n.as_seq() {
                Some(items) => items,
                None => {
                    self.error(
                        n.pos,
                        format!("`{key}` of {what} must be a list, not {}", n.kind()),
                        "",
                    );
                    &[]
                }
            },
        }
    }

    pub(super) fn strings(&mut self, m: &Node, key: &str, what: &str) -> Vec<(String, Pos)> {
        let items = self.list(m, key, what);
        items
            .iter()
            .filter_map(|n| {
                self.string(n, &format!("an item of `{key}` of {what}"))
                    .map(|s| (s, n.pos))
            })
            .collect()
    }

    pub(super) fn mapping<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n Node> {
        if n.as_map().is_some() {
            Some(n)
        } else {
            self.error(
                n.pos,
                format!("{what} must be a mapping, not {}", n.kind()),
                "",
            );
            None
        }
    }

    pub(super) fn domain(&mut self, s: &str, at: Pos, what: &str) -> Option<DomainPattern> {
        match DomainPattern::parse_checked(s) {
            Ok(p) if !p.is_public_suffix() => Some(p),
            Ok(p) => {
                self.error(
                    at,
                    format!("`{}` is a public suffix, not a {what}", p.suffix),
                    "",
                );
                None
            }
            Err(why) => {
                self.error(at, format!("invalid {what} `{s}`: {why}"), "");
                None
            }
        }
    }

    /// A key of `m` that is not one of `known` but close to one is most likely a typo
    /// (fideslang, and so the import, would ignore it): a warning naming the key meant.
    /// Other keys are left alone (a Fides server's export carries keys of its own).
    pub(super) fn typos(&mut self, m: &Node, known: &[&str], what: &str) {
        for (k, _) in m.as_map().unwrap_or_default() {
            let Some(key) = k.as_str() else { continue };
            if known.contains(&key) {
                continue;
            }
            if let Some(meant) = crate::toml_check::did_you_mean(key, known.iter().copied()) {
                self.warning(
                    k.pos,
                    format!("unknown key `{key}` in {what}: ignored"),
                    &format!("did you mean `{meant}`?"),
                );
            }
        }
    }
}
