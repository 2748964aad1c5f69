//! Global Privacy Control: what the visit sent, and the site's `/.well-known/gpc.json`.

use super::driver::DriverState;
use crate::browser::Session;
use crate::capture::Capture;
use crate::model::{ConsentState, SignalData, SignalObs, SignalSource};
use chrono::Utc;

/// The GPC the visit sent, as the capture saw it (source: the visit itself).
pub(super) fn gpc_sent_signal(
    tally: &crate::capture::recorder::GpcTally,
    started_at: chrono::DateTime<Utc>,
    page: &str,
) -> SignalObs {
    use crate::signals::gpc::{GpcSent, GpcSignal};
    SignalObs {
        time: started_at,
        page: page.to_string(),
        state: ConsentState::initial(),
        source: SignalSource::Visit,
        data: SignalData::Gpc(GpcSignal::Sent(GpcSent {
            mechanism: format!(
                "Chromium --enable-features={}",
                crate::browser::GPC_FEATURES.join(",")
            ),
            requests: tally.requests,
            with_header: tally.with_header,
            without_header: tally.without_header.clone(),
            navigator: tally.navigator.clone(),
        })),
    }
}

/// Fetch the site's `/.well-known/gpc.json` from the page, through the browser (so
/// `--host-resolver-rules` and the visit's own `Sec-GPC` apply), and read it.
pub(super) async fn fetch_gpc_json(
    session: &Session,
    capture: &Capture,
    driver: &DriverState<'_>,
) -> SignalObs {
    use crate::signals::gpc::{parse_well_known, GpcSignal, GpcWellKnown, WellKnownOutcome};
    const JS: &str = r#"const done = arguments[arguments.length - 1];
fetch(arguments[0], { cache: 'no-store', credentials: 'omit' })
  .then(r => r.text().then(t => done({ status: r.status, body: t.slice(0, 65536) })))
  .catch(e => done({ error: String(e) }));"#;
    let url = driver
        .spec
        .site
        .base_url
        .join(crate::signals::gpc::WELL_KNOWN_PATH)
        .map(|u| u.to_string())
        .unwrap_or_default();
    let page = capture.page();
    let unreachable = |error: String| GpcWellKnown {
        url: url.clone(),
        status: None,
        outcome: WellKnownOutcome::Unreachable { error },
    };
    let call = session
        .client
        .execute_async(JS, vec![serde_json::Value::String(url.clone())]);
    let read = match tokio::time::timeout(driver.spec.browser.step_timeout, call).await {
        Err(_) => unreachable("the fetch did not finish within the step timeout".into()),
        Ok(Err(e)) => unreachable(format!("the page could not fetch it: {e}")),
        Ok(Ok(v)) => match (
            v.get("status").and_then(serde_json::Value::as_u64),
            v.get("error"),
        ) {
            (Some(status), _) => parse_well_known(
                &url,
                u16::try_from(status).ok(),
                v.get("body")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default(),
            ),
            (None, Some(e)) => unreachable(e.as_str().unwrap_or("fetch failed").to_string()),
            (None, None) => unreachable("the page's fetch returned nothing".into()),
        },
    };
    SignalObs {
        time: Utc::now(),
        page,
        state: driver.state.clone(),
        source: SignalSource::WellKnown { url: url.clone() },
        data: SignalData::Gpc(GpcSignal::WellKnown(read)),
    }
}
