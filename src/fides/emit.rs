//! A small YAML writer for the export: block mappings and sequences, every string
//! double-quoted with JSON's escapes (valid YAML 1.2 double-quoted scalars), keys plain.
//! The export's shapes are few and fixed, so no YAML library is needed to write them.

/// A value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Y>),
    /// Keys are plain identifiers (`[a-z_]+`), in the order given.
    Map(Vec<(&'static str, Y)>),
}

impl Y {
    pub fn str(s: impl Into<String>) -> Y {
        Y::Str(s.into())
    }

    /// A list of strings.
    pub fn strs<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Y {
        Y::List(items.into_iter().map(|s| Y::str(s.as_ref())).collect())
    }

    fn inline(&self) -> Option<String> {
        match self {
            Y::Str(s) => Some(quote(s)),
            Y::Int(n) => Some(n.to_string()),
            Y::Bool(b) => Some(b.to_string()),
            Y::List(l) if l.is_empty() => Some("[]".into()),
            Y::Map(m) if m.is_empty() => Some("{}".into()),
            Y::List(_) | Y::Map(_) => None,
        }
    }
}

/// A string as a double-quoted YAML scalar.
pub fn quote(s: &str) -> String {
    // JSON's string escapes are a subset of YAML's double-quoted ones; serialising a
    // `str` cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The mapping `entries` as a YAML document.
pub fn document(entries: &[(&'static str, Y)]) -> String {
    let mut out = String::new();
    map(&mut out, 0, entries);
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn map(out: &mut String, indent: usize, entries: &[(&'static str, Y)]) {
    for (i, (k, v)) in entries.iter().enumerate() {
        // The first entry of a list item follows its `- `.
        if i > 0 || indent == 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        entry(out, indent, k, v);
    }
}

fn entry(out: &mut String, indent: usize, k: &str, v: &Y) {
    out.push_str(k);
    out.push(':');
    match v.inline() {
        Some(s) => {
            out.push(' ');
            out.push_str(&s);
            out.push('\n');
        }
        None => {
            out.push('\n');
            match v {
                Y::Map(m) => map(out, indent + 2, m),
                Y::List(l) => list(out, indent + 2, l),
                _ => {}
            }
        }
    }
}

fn list(out: &mut String, indent: usize, items: &[Y]) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item.inline() {
            Some(s) => {
                out.push_str(&s);
                out.push('\n');
            }
            None => match item {
                Y::Map(m) => map(out, indent + 2, m),
                Y::List(l) => {
                    out.push('\n');
                    list(out, indent + 2, l);
                }
                _ => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fides::yaml;

    #[test]
    fn writes_what_the_parser_reads_back() {
        let doc = document(&[(
            "system",
            Y::List(vec![Y::Map(vec![
                ("fides_key", Y::str("a")),
                ("name", Y::str("Quote \" and\nnewline: # not a comment")),
                ("n", Y::Int(-3)),
                ("b", Y::Bool(true)),
                ("empty", Y::List(vec![])),
                ("none", Y::Map(vec![])),
                ("tags", Y::strs(["x", "y"])),
                (
                    "meta",
                    Y::Map(vec![(
                        "inner",
                        Y::List(vec![Y::Map(vec![("k", Y::str("v")), ("j", Y::Int(1))])]),
                    )]),
                ),
                ("nested", Y::List(vec![Y::List(vec![Y::str("deep")])])),
            ])]),
        )]);
        let docs = yaml::parse(&doc).unwrap_or_else(|e| panic!("{e:?}\n{doc}"));
        let sys = &docs[0].get("system").unwrap().as_seq().unwrap()[0];
        assert_eq!(sys.get("fides_key").unwrap().as_str(), Some("a"));
        assert_eq!(
            sys.get("name").unwrap().as_str(),
            Some("Quote \" and\nnewline: # not a comment")
        );
        assert_eq!(sys.get("n").unwrap().as_int(), Some(-3));
        assert_eq!(sys.get("b").unwrap().as_bool(), Some(true));
        assert_eq!(sys.get("empty").unwrap().as_seq().unwrap().len(), 0);
        assert_eq!(sys.get("none").unwrap().as_map().unwrap().len(), 0);
        assert_eq!(
            sys.get("tags").unwrap().as_seq().unwrap()[1].as_str(),
            Some("y")
        );
        let inner = &sys
            .get("meta")
            .unwrap()
            .get("inner")
            .unwrap()
            .as_seq()
            .unwrap()[0];
        assert_eq!(inner.get("k").unwrap().as_str(), Some("v"));
        assert_eq!(inner.get("j").unwrap().as_int(), Some(1));
        let nested = sys.get("nested").unwrap().as_seq().unwrap()[0]
            .as_seq()
            .unwrap();
        assert_eq!(nested[0].as_str(), Some("deep"));
    }
}
