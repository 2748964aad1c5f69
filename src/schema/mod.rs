//! The JSON Schemas of consentry's input files, for editors (Taplo / Even Better TOML):
//! one [`FileKind`] per file kind, laid out by [`crate::toml_check::shape::json_schema`].
//! The files under `schemas/` are this module's output (`consentry schema --write
//! schemas`), held equal to it by a test; docs/editors.md says how to use them.
//!
//! What a schema says is what an editor can check while typing: the keys of every
//! table, each value's type, enums, ranges and the duration grammar. What it cannot
//! say (a vendor's purposes exist, a selector parses, a URL's port is one Chromium
//! accepts, only one step carries the consent mark) `consentry validate` says, with
//! `file:line:col`.

use crate::toml_check::shape::{json_schema, FileKind};
use serde_json::Value;

mod acks;
mod fleet;
mod policy;
mod profile;
mod scenario;
pub mod starter;
#[cfg(test)]
mod tests;

/// Every file kind, in the order docs list them.
pub const KINDS: [&FileKind; 5] = [
    &scenario::KIND,
    &policy::KIND,
    &acks::KIND,
    &fleet::KIND,
    &profile::KIND,
];

/// The kind named `id` (`scenario`, `policy`, `acks`, `fleet`, `profile`).
pub fn kind(id: &str) -> Option<&'static FileKind> {
    KINDS.iter().copied().find(|k| k.id == id)
}

/// The JSON Schema of a file kind.
pub fn schema(kind: &FileKind) -> Value {
    json_schema(kind)
}

/// The schema as written to `schemas/<id>.schema.json`: pretty, with a final newline.
pub fn schema_text(kind: &FileKind) -> String {
    let mut s = serde_json::to_string_pretty(&schema(kind)).unwrap_or_default();
    s.push('\n');
    s
}

/// Shared value patterns.
pub(crate) mod pattern {
    /// An id: letters, digits, `_`, `-`, `.`.
    pub const ID: &str = r"^[A-Za-z0-9_.-]+$";
    /// An environment variable's name.
    pub const VAR: &str = r"^[A-Za-z_][A-Za-z0-9_]*$";
    /// An absolute http(s) URL.
    pub const WEB_URL: &str = r"^[Hh][Tt][Tt][Pp][Ss]?://";
    /// Not blank.
    pub const NOT_BLANK: &str = r"\S";
}
