//! Ids of one kind: duplicates and dangling references are errors.

use super::{suggest, Checker, Span};
use std::collections::HashMap;
use toml::Spanned;

/// Ids seen so far of one kind, in first-seen order, with a hash index so a file
/// with tens of thousands of ids is checked in linear time.
pub struct Ids {
    kind: &'static str,
    /// How the first occurrence came to be: "defined", "listed".
    verb: &'static str,
    order: Vec<String>,
    first: HashMap<String, Span>,
}

impl Ids {
    /// Ids that are defined (a duplicate is a second definition).
    pub fn new(kind: &'static str) -> Self {
        Ids {
            kind,
            verb: "defined",
            order: Vec::new(),
            first: HashMap::new(),
        }
    }

    /// Ids that are listed (a duplicate is listed twice).
    pub fn listed(kind: &'static str) -> Self {
        Ids {
            verb: "listed",
            ..Ids::new(kind)
        }
    }

    /// The span of the first occurrence of `id`.
    pub fn get(&self, id: &str) -> Option<&Span> {
        self.first.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.first.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The ids in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        self.order.iter().map(String::as_str)
    }

    /// Record `id`; a duplicate is an error at the second, naming the first's line.
    /// Returns whether it was new.
    pub fn insert(&mut self, ck: &mut Checker<'_>, id: &Spanned<String>) -> bool {
        if let Some(first) = self.first.get(id.get_ref()) {
            let line = ck.line(first);
            ck.error(
                &id.span(),
                format!(
                    "duplicate {} `{}` (first {} at line {line})",
                    self.kind,
                    id.get_ref(),
                    self.verb
                ),
                format!(
                    "each {} must be unique; rename or remove one of them",
                    self.kind
                ),
            );
            return false;
        }
        self.first.insert(id.get_ref().clone(), id.span());
        self.order.push(id.get_ref().clone());
        true
    }

    /// A reference to an id of this kind must exist.
    pub fn check_ref(&self, ck: &mut Checker<'_>, r: &Spanned<String>) -> bool {
        if self.contains(r.get_ref()) {
            return true;
        }
        let plural = format!("defined {}s", self.kind);
        ck.error(
            &r.span(),
            format!("unknown {} `{}`", self.kind, r.get_ref()),
            suggest(r.get_ref(), self.iter(), &plural),
        );
        false
    }
}
