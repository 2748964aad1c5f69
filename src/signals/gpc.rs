//! Global Privacy Control: what the visit sent and what the site says about it.

use serde::{Deserialize, Serialize};

/// A GPC signal: sent by the visit, or the site's `/.well-known/gpc.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpcSignal {}

impl GpcSignal {
    pub fn summary(&self) -> String {
        "GPC".to_string()
    }
}
