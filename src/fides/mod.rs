//! The declared map as fideslang, the Fides privacy taxonomy (Ethyca, Apache-2.0), for
//! teams that keep their map there: [`export`] writes a policy as a fideslang document,
//! [`import`] reads one back (docs/fideslang.md).
//!
//! The mapping follows fideslang as read at commit [`FIDESLANG_COMMIT`] (fideslang
//! 3.1.x): one `System` per vendor, one privacy declaration per purpose, data uses from
//! fideslang's GVL mapping of TCF purposes ([`taxonomy`]). What fideslang cannot say
//! (domains, hosts, pages, strictly necessary, purpose ids, CMP services, Consent Mode,
//! per-cookie retention) travels under each system's `meta.consentry`.

pub mod emit;
pub mod export;
pub mod import;
pub mod taxonomy;
pub mod yaml;

pub use export::{export, Exported};
pub use import::{import_file, import_str, Entry, Imported};

/// The fideslang commit the mapping was written against (github.com/ethyca/fideslang).
pub const FIDESLANG_COMMIT: &str = "40394c46599745a6b8f14d069889fddfa2651409";
