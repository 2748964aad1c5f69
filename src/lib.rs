//! consentry: a continuous consent-compliance auditor.
//!
//! Data flows one way:
//! scenario files -> [`scenario`] (validated model) -> [`engine`] (browser + capture)
//! -> [`observe`] (observations) -> [`analysis`] (pure: findings) -> [`store`]
//! -> [`report`] -> [`exit`] (exit code, decided in one place).
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
#[cfg(feature = "demo")]
pub mod demo;
pub mod diag;
pub mod drift;
pub mod engine;
pub mod exit;
pub mod inventory;
pub mod model;
pub mod net;
pub mod outcome;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod scenario;
pub mod screenshots;
pub mod secrets;
pub mod signals;
pub mod store;
pub mod text;
pub mod toml_check;
pub mod validate;
