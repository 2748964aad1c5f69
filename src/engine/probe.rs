//! What the page says after a load or a consent action: its consent signals (the TCF API
//! and TC-string cookie) and whether the CMP's banner is on screen again. Both return
//! what they saw; the driving loop records it (and the time it took, as capture time).

use super::driver::DriverState;
use super::locate;
use crate::browser::Session;
use crate::capture::Capture;
use crate::model::cmp::BannerSeen;
use crate::model::SignalObs;
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

    /// Reads the consent signals the page itself exposes (the IAB TCF API and the CMP's
    /// TC-string cookie, [`crate::signals::tcf::PAGE_PROBE_JS`]). Never fails the visit:
    /// a probe that cannot run gives the warning to record instead (`Err`).
    ///
    /// The signals are stamped with the state in force now; `observation.rs` gives every
    /// page signal its phase from the visit's timeline of consent transitions at the end.
    pub(super) async fn probe_signals(
        &self,
        session: &Session,
        capture: &Capture,
    ) -> Result<Vec<SignalObs>, String> {
        let page = capture.page();
        let js = crate::signals::tcf::PAGE_PROBE_JS;
        let res = tokio::time::timeout(
            Duration::from_secs(3),
            session.client.execute_async(js, vec![]),
        )
        .await;
        let text = match res {
            Ok(Ok(serde_json::Value::String(s))) => s,
            Ok(Ok(other)) => other.to_string(),
            Ok(Err(e)) => {
                return Err(format!("consent signals of {page} could not be read: {e}"));
            }
            Err(_) => {
                return Err(format!(
                    "consent signals of {page} could not be read within 3 s"
                ));
            }
        };
        match serde_json::from_str::<crate::signals::tcf::PageProbe>(&text) {
            Ok(probe) => {
                Ok(
                    probe.signals(capture.hasher(), Utc::now(), &page, &self.state, |_| {
                        self.state.clone()
                    }),
                )
            }
            Err(e) => Err(format!(
                "consent signals of {page}: unexpected probe answer: {e}"
            )),
        }
    }
}
