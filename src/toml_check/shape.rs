//! The shape of an input file kind, as data: its tables, their keys, each key's type,
//! whether it is required, and one line of meaning. [`json_schema`] lays a shape out as
//! a JSON Schema (draft-07), the form editors read (Taplo / Even Better TOML).
//!
//! The loaders stay the authority: they check every value by hand, cross-references
//! and all, with `file:line:col`. A shape is what an editor can know before that:
//! which keys exist, their types, enums and ranges. The loaders' key lists and the
//! shapes are held equal by tests (`src/schema/tests.rs`), so neither can grow a key
//! the other lacks.

use serde_json::{json, Map, Value};

/// The type of a value.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Any string.
    Str,
    /// A string matching a regular expression (ECMA-262, as JSON Schema uses).
    Text(&'static str),
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A duration (`"700ms"`, `"13months"`: the grammar of `duration.rs`).
    Duration,
    /// A TOML date or date-time, or a string holding one.
    Date,
    Bool,
    /// An integer within these bounds (inclusive).
    Int(i64, i64),
    /// An array of values of this type.
    List(&'static Ty),
    /// A non-empty array of values of this type.
    NonEmpty(&'static Ty),
    /// A non-empty array of distinct values of this type.
    Set(&'static Ty),
    /// An array of exactly this many values of this type.
    Tuple(&'static Ty, u32),
    /// A table of this shape.
    Table(&'static Shape),
    /// An array of tables of this shape (`[[name]]` or a list of inline tables).
    Tables(&'static Shape),
    /// Any one of these.
    AnyOf(&'static [Ty]),
}

/// One key of a table.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// One sentence; docs/ has the rest.
    pub doc: &'static str,
}

impl Field {
    pub const fn opt(key: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            key,
            ty,
            required: false,
            doc,
        }
    }
    pub const fn req(key: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            key,
            ty,
            required: true,
            doc,
        }
    }
}

/// A table: its keys, and rules over them that a schema can say.
#[derive(Debug)]
pub struct Shape {
    /// How messages and docs name it (`[site]`, `[[vendor]]`, `step`).
    pub name: &'static str,
    pub doc: &'static str,
    /// Its keys, in groups (a group shared by two shapes is written once: the keys of
    /// `[site]` are also those of a fleet's inline `[[site]]`).
    pub parts: &'static [&'static [Field]],
    /// Exactly one of these keys must be present (a step's action); empty: no rule.
    pub exactly_one_of: &'static [&'static str],
}

impl Shape {
    /// The keys, in declaration order.
    pub fn fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.parts.iter().flat_map(|p| p.iter())
    }
    pub fn keys(&self) -> Vec<&'static str> {
        self.fields().map(|f| f.key).collect()
    }
    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields().find(|f| f.key == key)
    }
}

/// A file kind: its top-level shape, where it is documented, and whether its strings
/// may hold `${VAR}` (then a string that holds one is accepted wherever a string
/// with a pattern or an enum is expected: the loader checks the value it becomes).
#[derive(Debug)]
pub struct FileKind {
    /// `scenario`, `policy`, ...: the schema's file name is `<id>.schema.json`.
    pub id: &'static str,
    pub title: &'static str,
    pub docs: &'static str,
    pub root: &'static Shape,
    pub interpolated: bool,
}

/// The duration grammar of `duration.rs` (humantime's units), as a pattern. Held equal
/// to `parse_duration` by a test over valid and invalid samples.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]+)?\s*(nsec|ns|usec|us|µs|msec|ms|seconds|second|sec|s|minutes|minute|min|m|hours|hour|hr|h|days|day|d|weeks|week|w|months|month|M|years|year|y)\s*)+$";

/// A string with an interpolation in it (`${VAR}`).
const INTERPOLATED: &str = r"\$\{";

/// The JSON Schema (draft-07) of a file kind.
pub fn json_schema(kind: &FileKind) -> Value {
    let mut root = table(kind.root, kind);
    if let Value::Object(m) = &mut root {
        let mut head = Map::new();
        head.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
        head.insert("title".into(), json!(kind.title));
        head.insert(
            "description".into(),
            json!(format!("{} Reference: {}", kind.root.doc, kind.docs)),
        );
        for (k, v) in std::mem::take(m) {
            if k != "description" {
                head.insert(k, v);
            }
        }
        *m = head;
    }
    root
}

fn table(shape: &Shape, kind: &FileKind) -> Value {
    let mut props = Map::new();
    for f in shape.fields() {
        let mut v = ty(&f.ty, kind);
        if let Value::Object(m) = &mut v {
            m.insert("description".into(), json!(f.doc));
        }
        props.insert(f.key.into(), v);
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("description".into(), json!(shape.doc));
    out.insert("properties".into(), Value::Object(props));
    out.insert("additionalProperties".into(), json!(false));
    let required: Vec<&str> = shape
        .fields()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect();
    if !required.is_empty() {
        out.insert("required".into(), json!(required));
    }
    if !shape.exactly_one_of.is_empty() {
        let one: Vec<Value> = shape
            .exactly_one_of
            .iter()
            .map(|k| json!({ "required": [k] }))
            .collect();
        out.insert("oneOf".into(), Value::Array(one));
    }
    Value::Object(out)
}

/// A string schema that also takes `${VAR}` when the file kind interpolates.
fn string_or_var(mut schema: Value, kind: &FileKind) -> Value {
    if !kind.interpolated {
        return schema;
    }
    let desc = schema.as_object_mut().and_then(|m| m.remove("description"));
    let mut out = json!({ "anyOf": [schema, { "type": "string", "pattern": INTERPOLATED }] });
    if let (Some(d), Value::Object(m)) = (desc, &mut out) {
        m.insert("description".into(), d);
    }
    out
}

fn ty(t: &Ty, kind: &FileKind) -> Value {
    match t {
        Ty::Str => json!({ "type": "string" }),
        Ty::Text(p) => string_or_var(json!({ "type": "string", "pattern": p }), kind),
        Ty::Enum(values) => string_or_var(json!({ "type": "string", "enum": values }), kind),
        Ty::Duration => string_or_var(
            json!({ "type": "string", "pattern": DURATION_PATTERN }),
            kind,
        ),
        // toml's datetime becomes a string in the JSON an editor validates; the loader
        // reads its forms (a date, an RFC 3339 time).
        Ty::Date => json!({ "type": "string", "minLength": 10 }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Int(min, max) => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Ty::List(item) => json!({ "type": "array", "items": ty(item, kind) }),
        Ty::NonEmpty(item) => json!({ "type": "array", "items": ty(item, kind), "minItems": 1 }),
        Ty::Set(item) => json!({
            "type": "array", "items": ty(item, kind), "minItems": 1, "uniqueItems": true
        }),
        Ty::Tuple(item, n) => json!({
            "type": "array", "items": ty(item, kind), "minItems": n, "maxItems": n
        }),
        Ty::Table(shape) => table(shape, kind),
        Ty::Tables(shape) => json!({ "type": "array", "items": table(shape, kind) }),
        Ty::AnyOf(options) => {
            json!({ "anyOf": options.iter().map(|o| ty(o, kind)).collect::<Vec<_>>() })
        }
    }
}
