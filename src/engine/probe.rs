//! What the page says after a load or a consent action: its consent signals (the TCF API
//! and TC-string cookie) and whether the CMP's banner is on screen again.

use super::*;

impl Visit<'_> {
    /// On a page loaded after a consent action: is the CMP's banner on screen again?
    /// Seen through the banner's selector (`[cmp].banner`, the CMP profile's) or
    /// autoconsent finding its popup open in the new document. Recorded with the last
    /// action; `cmp-reprompt` judges it.
    pub(super) async fn banner_again(&mut self, session: &Session, capture: &Capture) {
        if self.cmp.is_empty() {
            return;
        }
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
        if let (Some(how), Some(last)) = (how, self.cmp.last_mut()) {
            last.banner_again.push(crate::cmp::BannerSeen {
                page: capture.page(),
                time: Utc::now(),
                how,
            });
        }
    }
    /// Reads the consent signals the page itself exposes (the IAB TCF API and the CMP's
    /// TC-string cookie, [`crate::signals::tcf::PAGE_PROBE_JS`]) into the visit, in the
    /// current consent phase. Never fails the visit: a probe that cannot run is a warning.
    pub(super) async fn probe_signals(&mut self, session: &Session, capture: &Capture) {
        let t = Instant::now();
        self.probe_signals_now(session, capture).await;
        self.timings.capture_ms += t.elapsed().as_millis() as u64;
    }
    async fn probe_signals_now(&mut self, session: &Session, capture: &Capture) {
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
                self.warnings
                    .push(format!("consent signals of {page} could not be read: {e}"));
                return;
            }
            Err(_) => {
                self.warnings.push(format!(
                    "consent signals of {page} could not be read within 3 s"
                ));
                return;
            }
        };
        match serde_json::from_str::<crate::signals::tcf::PageProbe>(&text) {
            Ok(probe) => {
                let signals =
                    probe.signals(capture.hasher(), Utc::now(), &page, &self.state, |t| {
                        self.state_at(t)
                    });
                self.signals.extend(signals);
            }
            Err(e) => self.warnings.push(format!(
                "consent signals of {page}: unexpected probe answer: {e}"
            )),
        }
    }
}
