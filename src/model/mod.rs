//! The ground floor: the consent vocabulary and every record a visit produces, as plain
//! data. It imports nothing of consentry above it (only the leaf helpers `net`); the
//! decoders (`signals`), readers (`cmp`), capture, analysis, the store and the reporters
//! all build on it. `tests/architecture.rs` holds that direction.
//!
//! - [`consent`]: choices, actions, effects, the consent state and its phase label, the
//!   legal basis of a declared purpose;
//! - [`record`]: requests, cookies, storage writes, page errors, steps, settles, the
//!   visit observation and the run's status;
//! - [`signal`] with [`tcf`], [`gcm`], [`gpc`], [`gpp`]: consent signals as decoded data;
//! - [`cmp`]: consent actions as performed and as the CMP recorded them;
//! - [`purpose`]: the effective state per TCF purpose and per CMP service of a phase,
//!   from the action, the CMP's record and the declared records;
//! - [`screenshot`]: banner screenshots around consent actions;
//! - [`hash`]: the keyed hash page values are kept as;
//! - [`http`]: a request's headers and timing, bounded and redacted (the HAR of a visit).

pub mod clip;
pub mod cmp;
pub mod consent;
pub mod gcm;
pub mod gpc;
pub mod gpp;
pub mod hash;
pub mod http;
pub mod purpose;
pub mod record;
pub mod screenshot;
pub mod signal;
pub mod tcf;
pub mod vantage;

pub use cmp::CmpAction;
pub use consent::*;
pub use hash::*;
pub use record::*;
pub use screenshot::Screenshot;
pub use signal::{SignalData, SignalObs, SignalSource};
