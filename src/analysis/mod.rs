//! Pure analysis: observations + declared map -> findings. No I/O here.

pub mod finding;

pub use finding::{fingerprint, Code, Evidence, Finding, Severity, MAX_EVIDENCE};
