//! Google Consent Mode v2: the `gcs`, `gcd`, `dma`, `npa` and `gcu` parameters of
//! Google requests, decoded.

use crate::observe::RequestObs;
use serde::{Deserialize, Serialize};

/// The Consent Mode state one Google request carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentModeSignal {}

impl ConsentModeSignal {
    pub fn summary(&self) -> String {
        "Consent Mode".to_string()
    }
}

/// The Consent Mode state of a Google request, when it carries one.
pub fn from_request(_r: &RequestObs) -> Option<super::SignalObs> {
    None
}
