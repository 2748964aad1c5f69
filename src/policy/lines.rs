//! Where each declaration of the policy file is written (1-based lines), derived once
//! as the file is loaded ([`super::load`]), so a report can anchor a finding at the
//! vendor or cookie rule it is about (SARIF's locations, docs/reports.md; the matching
//! of a finding to its rule is `crate::outcome::DeclaredAt`).

/// The line of each declaration, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredLines {
    /// (vendor id, line of its `id`).
    pub vendors: Vec<(String, usize)>,
    /// (name pattern, owning vendor, line of its `name`) of each `[[cookie]]`.
    pub cookies: Vec<(String, String, usize)>,
    /// (purpose id, line of its `id`).
    pub purposes: Vec<(String, usize)>,
}
