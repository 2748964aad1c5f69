//! consentry: a continuous consent-compliance auditor.
//!
//! Data flows one way, one named type at each hand-off (docs/architecture.md):
//! scenario files -> [`scenario`] ([`scenario::AuditSpec`]) -> [`engine`] (browser +
//! capture) -> [`model::VisitObservation`] -> request signals decoded ([`signals`]),
//! secrets redacted ([`secrets`]) -> [`attribution`] ([`attribution::AttributedVisit`]:
//! facts derived once) -> [`analysis`] (pure: findings) and [`inventory`] -> [`store`]
//! -> [`outcome::AuditReport`] -> [`report`] -> [`exit`] (exit code, decided in one place).
//!
//! [`model`] is the ground floor: it imports nothing above it. `tests/architecture.rs`
//! holds the direction (no circle between modules, no library import of `cli`).
//!
//! The command line (`src/cli/`, clap) is compiled into the binary only (`src/main.rs`);
//! nothing here knows about it. The demo site ([`demo`]) is compiled only with the `demo`
//! feature (Cargo.toml).

pub mod ack;
pub mod analysis;
pub mod attribution;
pub mod browser;
pub mod capture;
pub mod cmp;
pub mod crawl;
pub mod data;
#[cfg(feature = "demo")]
pub mod demo;
pub mod diag;
pub mod doctor;
pub mod draft;
pub mod drift;
pub mod engine;
pub mod evidence;
pub mod exit;
pub mod fides;
pub mod fleet;
pub mod inventory;
pub mod knowledge;
pub mod lookup;
pub mod model;
pub mod net;
pub mod notify;
pub mod outcome;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod screenshots;
pub mod secrets;
pub mod signals;
pub mod stderr;
pub mod store;
pub mod text;
pub mod tls;
pub mod toml_check;
pub mod validate;
