//! A YAML document as a tree whose every node knows its line and column, built from
//! saphyr-parser's events, so the importer can report every problem of a file at once
//! with `file:line:col` (a serde deserializer stops at the first).
//!
//! Aliases are expanded (a copy of the anchored node), within [`MAX_NODES`] nodes in
//! all, so a file of nested aliases cannot grow without bound.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// At most this many nodes in one file, aliases expanded.
pub const MAX_NODES: usize = 1_000_000;

/// 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar and whether it was plain (unquoted, so `true`, `12` and `null` are typed).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl Node {
    /// Is this `null`, `~` or an empty plain scalar?
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The scalar's text (a quoted or plain scalar), `None` for null or a collection.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// A plain `true` / `false` (YAML 1.2 core schema spellings).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A plain decimal integer.
    pub fn as_int(&self) -> Option<i64> {
        match &self.value {
            Value::Scalar { text, plain: true } => text.trim_start_matches('+').parse().ok(),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of the key `key` in a mapping (the first, if a file repeats it).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// What kind of node this is, for messages: `a string`, `a list`, `a mapping`, `null`.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "null",
            Value::Scalar { .. } if self.as_bool().is_some() => "a boolean",
            Value::Scalar { .. } if self.as_int().is_some() => "a number",
            Value::Scalar { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

enum Frame {
    Seq(Vec<Node>, Pos, usize),
    /// Entries, a key waiting for its value, position, anchor.
    Map(Vec<(Node, Node)>, Option<Node>, Pos, usize),
}

/// Every document of `src`, in order.
pub fn parse(src: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    for event in Parser::new_from_str(src) {
        let (event, span) = event.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            },
            message: e.info().to_string(),
        })?;
        let pos = Pos::of(&span);
        let done = match event {
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), pos, anchor));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Vec::new(), None, pos, anchor));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, at, anchor)) => Some((
                    Node {
                        value: Value::Seq(items),
                        pos: at,
                    },
                    anchor,
                )),
                _ => return Err(unbalanced(pos)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(entries, None, at, anchor)) => Some((
                    Node {
                        value: Value::Map(entries),
                        pos: at,
                    },
                    anchor,
                )),
                _ => return Err(unbalanced(pos)),
            },
            Event::Scalar(text, style, anchor, _) => Some((
                Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    pos,
                },
                anchor,
            )),
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(SyntaxError {
                        pos,
                        message: "an alias to an unknown anchor".into(),
                    });
                };
                nodes = nodes.saturating_add(count(node));
                let copy = Node {
                    value: node.value.clone(),
                    pos,
                };
                Some((copy, 0))
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => None,
        };
        let Some((node, anchor)) = done else { continue };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(SyntaxError {
                pos,
                message: format!("more than {MAX_NODES} nodes (aliases expanded)"),
            });
        }
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => docs.push(node),
            Some(Frame::Seq(items, ..)) => items.push(node),
            Some(Frame::Map(entries, key, ..)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
    Ok(docs)
}

fn unbalanced(pos: Pos) -> SyntaxError {
    SyntaxError {
        pos,
        message: "unbalanced collection".into(),
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 1,
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types() {
        let docs = parse("system:\n  - fides_key: a\n    uses_cookies: true\n    n: 12\n    q: \"12\"\n    z: ~\n").unwrap();
        assert_eq!(docs.len(), 1);
        let sys = docs[0].get("system").unwrap().as_seq().unwrap();
        let first = &sys[0];
        assert_eq!(first.pos, Pos { line: 2, col: 5 });
        let key = first.get("fides_key").unwrap();
        assert_eq!(key.as_str(), Some("a"));
        assert_eq!(key.pos, Pos { line: 2, col: 16 });
        assert_eq!(first.get("uses_cookies").unwrap().as_bool(), Some(true));
        assert_eq!(first.get("n").unwrap().as_int(), Some(12));
        assert_eq!(first.get("q").unwrap().as_int(), None);
        assert_eq!(first.get("q").unwrap().as_str(), Some("12"));
        assert!(first.get("z").unwrap().is_null());
        assert_eq!(first.get("z").unwrap().as_str(), None);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("system:\n  - a: [1, 2\n  - b\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
        assert!(!e.message.is_empty());
    }

    #[test]
    fn aliases_are_copied_within_a_bound() {
        let docs = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(docs[0].get("b").unwrap().as_seq().unwrap().len(), 2);
        // A billion laughs: each level doubles the size.
        let mut src = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            src.push_str(&format!(
                "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n",
                p = i - 1
            ));
        }
        let e = parse(&src).unwrap_err();
        assert!(e.message.contains("nodes"), "{e:?}");
    }
}
