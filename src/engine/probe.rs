//! What the page says after a load or a consent action: its consent signals (the TCF API
//! and TC-string cookie) and whether the CMP's banner is on screen again. Both return
//! what they saw; the driving loop records it (and the time it took, as capture time).

use super::driver::DriverState;
use super::locate;
use crate::browser::Session;
use crate::capture::Capture;
use crate::model::cmp::BannerSeen;
use crate::model::SignalObs;
use crate::signals::{gpp, tcf};
use chrono::Utc;
use std::time::Duration;

impl DriverState<'_> {
    /// On a page loaded after a consent action: is the CMP's banner on screen again?
    /// Seen through the banner's selector (`[cmp].banner`, the CMP profile's) or
    /// autoconsent finding its popup open in the new document. The loop adds it to the
    /// last action; `cmp-reprompt` judges it.
    pub(super) async fn banner_again(
        &self,
        session: &Session,
        capture: &Capture,
    ) -> Option<BannerSeen> {
        let mut how = None;
        if let Some(sel) = self.banner.clone() {
            if locate::visible(session, &sel).await == Some(true) {
                how = Some(format!("banner {sel:?} visible"));
            }
        }
        if how.is_none() && self.scenario.uses_autoconsent() {
            how = capture
                .autoconsent_since(self.page_mark)
                .iter()
                .find(|m| m.kind() == "popupFound")
                .map(|m| format!("autoconsent popupFound ({})", m.cmp().unwrap_or("a CMP")));
        }
        how.map(|how| BannerSeen {
            page: capture.page(),
            time: Utc::now(),
            how,
        })
    }

    /// Reads the consent signals the page itself exposes: the IAB TCF API and the CMP's
    /// TC-string cookie ([`crate::signals::tcf::PAGE_PROBE_JS`]), then the GPP API, the US
    /// Privacy API and its `usprivacy` cookie ([`crate::signals::gpp::GPP_PROBE_JS`]).
    /// Never fails the visit: a probe that cannot run gives the warning to record instead
    /// (`Err`); the other probe's signals are kept with it.
    ///
    /// The signals are stamped with the state in force now; `observation.rs` gives every
    /// page signal its phase from the visit's timeline of consent transitions at the end.
    pub(super) async fn probe_signals(
        &self,
        session: &Session,
        capture: &Capture,
    ) -> (Vec<SignalObs>, Vec<String>) {
        let page = capture.page();
        let mut signals = Vec::new();
        let mut warnings = Vec::new();
        // Each probe's signals stamped when its answer came, as the page stood then.
        let state_now = |_| self.state.clone();
        match read_probe::<tcf::PageProbe>(session, tcf::PAGE_PROBE_JS).await {
            Ok(p) => signals.extend(p.signals(
                capture.hasher(),
                Utc::now(),
                &page,
                &self.state,
                state_now,
            )),
            Err(e) => warnings.push(format!("consent signals of {page} {e}")),
        }
        match read_probe::<gpp::GppProbe>(session, gpp::GPP_PROBE_JS).await {
            Ok(p) => signals.extend(p.signals(
                capture.hasher(),
                Utc::now(),
                &page,
                &self.state,
                state_now,
            )),
            Err(e) => warnings.push(format!("GPP / US Privacy signals of {page} {e}")),
        }
        (signals, warnings)
    }
}

/// Runs one probe script and reads its answer as `P`, or says why it could not
/// (`could not be read: ...`, `gave an unexpected answer: ...`).
async fn read_probe<P: serde::de::DeserializeOwned>(
    session: &Session,
    js: &str,
) -> Result<P, String> {
    let text = run_probe(session, js).await?;
    serde_json::from_str(&text).map_err(|e| format!("gave an unexpected answer: {e}"))
}

/// Runs one probe script (execute-async, 3 s at most) and returns its JSON text, or why it
/// could not be read (`could not be read: ...`).
async fn run_probe(session: &Session, js: &str) -> Result<String, String> {
    let res = tokio::time::timeout(
        Duration::from_secs(3),
        session.client.execute_async(js, vec![]),
    )
    .await;
    match res {
        Ok(Ok(serde_json::Value::String(s))) => Ok(s),
        Ok(Ok(other)) => Ok(other.to_string()),
        Ok(Err(e)) => Err(format!("could not be read: {e}")),
        Err(_) => Err("could not be read within 3 s".to_string()),
    }
}
