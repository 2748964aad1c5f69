//! Drift: a site's findings, inventory and declarations across its runs, and the
//! quarterly Legitimate Interest Assessment (LIA) review pack built from them.
//!
//! Pure: the store answers a window of history ([`crate::store::History::site_history`]);
//! [`pack::build`] turns it (and the acknowledgements) into a [`DriftReport`], which the
//! reporters render. docs/drift.md documents every status, count and JSON field.

pub mod coverage;
pub mod inventory;
pub mod lifecycle;
pub mod model;
pub mod pack;

pub use coverage::{Coverage, Coverages};
pub use lifecycle::{lifecycles, Lifecycle, Status, Step};
pub use model::*;
