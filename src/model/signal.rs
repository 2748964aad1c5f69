//! A consent signal as observed: when, on which page, in which consent phase, from which
//! source, and what it decoded to. The decoders live in `crate::signals`; the decoded data
//! types live beside this file (`tcf`, `gcm`, `gpc`, `gpp`).

use super::consent::ConsentState;
use super::gcm::ConsentModeSignal;
use super::gpc::GpcSignal;
use super::gpp::GppSignal;
use super::tcf::TcfSignal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a signal was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SignalSource {
    /// The page's own API (`__tcfapi('getTCData')`, `dataLayer`, `navigator.globalPrivacyControl`).
    PageApi { api: String },
    /// A cookie's value (decoded when read; the value itself is never stored).
    Cookie { name: String, domain: String },
    /// Parameters of a request a vendor was sent.
    Request { url: String },
    /// A well-known resource of the site (`/.well-known/gpc.json`).
    WellKnown { url: String },
    /// What the visit itself sent (e.g. `Sec-GPC: 1`).
    Visit,
}

impl SignalSource {
    /// Short human form for evidence and reports.
    pub fn describe(&self) -> String {
        match self {
            SignalSource::PageApi { api } => api.clone(),
            SignalSource::Cookie { name, domain } => format!("cookie {name}@{domain}"),
            SignalSource::Request { url } => format!("request {url}"),
            SignalSource::WellKnown { url } => url.clone(),
            SignalSource::Visit => "the visit".to_string(),
        }
    }
}

/// What a signal decoded to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum SignalData {
    Tcf(Box<TcfSignal>),
    ConsentMode(ConsentModeSignal),
    Gpc(GpcSignal),
    /// A GPP string or a US Privacy string.
    Gpp(Box<GppSignal>),
}

impl SignalData {
    /// Stable name of the kind (`tcf`, `consent_mode`, `gpc`, `gpp`), as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            SignalData::Tcf(_) => "tcf",
            SignalData::ConsentMode(_) => "consent_mode",
            SignalData::Gpc(_) => "gpc",
            SignalData::Gpp(_) => "gpp",
        }
    }

    /// One line for the per-scenario signal view.
    pub fn summary(&self) -> String {
        match self {
            SignalData::Tcf(t) => t.summary(),
            SignalData::ConsentMode(g) => g.summary(),
            SignalData::Gpc(g) => g.summary(),
            SignalData::Gpp(g) => g.summary(),
        }
    }
}

/// One consent signal, as observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalObs {
    pub time: DateTime<Utc>,
    /// The top-level page the visit was on.
    pub page: String,
    /// The consent phase in force (as for requests).
    pub state: ConsentState,
    pub source: SignalSource,
    pub data: SignalData,
}
