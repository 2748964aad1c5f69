//! IAB TCF v2 TC strings: decoded with `iab_gpp` (never a hand-written decoder).

use crate::observe::RequestObs;
use serde::{Deserialize, Serialize};

/// A decoded TC string, or why it could not be decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcfSignal {}

impl TcfSignal {
    pub fn summary(&self) -> String {
        "TCF".to_string()
    }
}

/// The TC string a vendor request carries (`gdpr_consent`), decoded.
pub fn from_request(_r: &RequestObs) -> Option<super::SignalObs> {
    None
}
