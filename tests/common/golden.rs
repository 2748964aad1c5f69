//! Golden vectors written by `make fixtures` from the IAB's reference libraries
//! (fixtures/gen/*-golden.mjs): the TCF and GPP decoders' tests read them the same way.

use serde_json::Value;
use std::collections::BTreeSet;

/// The vectors of `fixtures/build/<file>`, each with a `name`; every name of `wanted`
/// must be among them (a generator that silently wrote fewer would test less).
pub fn vectors(file: &str, wanted: &[&str]) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/build")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make fixtures`)", path.display()));
    let vectors: Vec<Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not golden JSON: {e}", path.display()));
    let names: Vec<&str> = vectors.iter().filter_map(|v| v["name"].as_str()).collect();
    for w in wanted {
        assert!(
            names.contains(w),
            "{}: no {w} vector in {names:?}",
            path.display()
        );
    }
    vectors
}

/// A JSON array of ids (purposes, vendors, special features) as a set.
pub fn ids(v: &Value) -> BTreeSet<u16> {
    v.as_array()
        .expect("an array of ids")
        .iter()
        .map(|x| x.as_u64().expect("an id") as u16)
        .collect()
}
