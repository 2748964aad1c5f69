//! Accept or reject through the heuristic (docs/heuristic.md): collect the page's facts
//! ([`crate::cmp::heuristic::COLLECT_JS`]), let the pure decision choose
//! ([`crate::cmp::heuristic::first_layer`], [`crate::cmp::heuristic::second_layer`]),
//! click what it chose, and check the dialog went away. Returns the record of what it
//! did ([`HeuristicAction`]) and whether it did it; it never changes the driver state.

use crate::browser::Session;
use crate::cmp::heuristic::{
    self as h, first_layer, second_layer, still_shown, BannerWords, ControlMatch, Facts,
    FirstLayer, SecondLayer, Want,
};
use crate::model::cmp::HeuristicAction;
use crate::model::{ConsentAction, Failure, FailureKind};
use serde_json::json;
use std::time::{Duration, Instant};

/// How long a layer is given to appear, and the dialog to go away after the click.
const LAYER_WAIT: Duration = Duration::from_secs(3);
/// How long the first layer is looked for again when it is not there at once:
/// autoconsent has already waited for the page, so this only catches a banner that is
/// still animating in (a page with no banner pays it once per consent scenario).
const FIRST_WAIT: Duration = Duration::from_secs(1);
const POLL: Duration = Duration::from_millis(150);

/// The page's facts now.
async fn collect(session: &Session) -> Result<Facts, Failure> {
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        session.client.execute(h::COLLECT_JS, vec![]),
    )
    .await;
    let v = match res {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            return Err(Failure::new(
                FailureKind::ScriptFailed,
                format!("heuristic: the banner collector could not run: {e}"),
            ))
        }
        Err(_) => {
            return Err(Failure::new(
                FailureKind::StepTimeout,
                "heuristic: the banner collector did not finish within 10 s",
            ))
        }
    };
    serde_json::from_value::<Facts>(v)
        .map(Facts::bounded)
        .map_err(|e| {
            Failure::new(
                FailureKind::ScriptFailed,
                format!("heuristic: the banner collector returned facts that do not decode: {e}"),
            )
        })
}

/// Click `c` (found again by its path, its label checked).
async fn click(session: &Session, path: &h::decide::Path, label: &str) -> Result<(), Failure> {
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        session
            .client
            .execute(h::ACT_JS, vec![json!(path), json!(label)]),
    )
    .await;
    match res {
        Ok(Ok(v)) if v.get("ok").is_some() => Ok(()),
        Ok(Ok(v)) => Err(Failure::new(
            FailureKind::CmpActionFailed,
            format!(
                "heuristic: clicking {label:?} failed: {}",
                v.get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("no answer")
            ),
        )),
        Ok(Err(e)) => Err(Failure::new(
            FailureKind::ScriptFailed,
            format!("heuristic: clicking {label:?} failed: {e}"),
        )),
        Err(_) => Err(Failure::new(
            FailureKind::StepTimeout,
            format!("heuristic: clicking {label:?} did not finish within 10 s"),
        )),
    }
}

fn failed(why: String) -> Failure {
    Failure::new(FailureKind::CmpActionFailed, why)
}

/// The dialog's path and text in `facts`, to see it go away.
fn dialog_key(facts: &Facts, index: usize) -> (h::decide::Path, String) {
    facts
        .candidates
        .get(index)
        .map(|c| (c.path.clone(), c.text.clone()))
        .unwrap_or_default()
}

/// Wait (up to [`LAYER_WAIT`]) for the dialog to leave the screen after `what`.
async fn gone(
    session: &Session,
    key: &(h::decide::Path, String),
    what: &str,
) -> Result<(), Failure> {
    let deadline = Instant::now() + LAYER_WAIT;
    loop {
        let facts = collect(session).await?;
        if !still_shown(&facts, &key.0, &key.1) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(failed(format!(
                "heuristic: the consent dialog was still on screen {LAYER_WAIT:?} after clicking {what}: the click did not take effect"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

fn note(rec: &mut HeuristicAction, c: &ControlMatch, dialog_confidence: u8) {
    let conf = dialog_confidence.min(c.confidence);
    rec.confidence = rec.confidence.min(conf);
    rec.clicks.push(h::click_record(c, conf));
}

/// Perform `action` with the heuristic. `None`: no consent dialog was found (nothing
/// to record of the method).
pub(super) async fn perform(
    session: &Session,
    words: &BannerWords,
    action: ConsentAction,
) -> (Option<HeuristicAction>, Result<(), Failure>) {
    let want = match action {
        ConsentAction::AcceptAll => Want::Accept,
        ConsentAction::RejectAll | ConsentAction::ObjectLi | ConsentAction::AcceptSome => {
            Want::Reject
        }
    };
    // The banner may still be on its way in: look again for a moment.
    let deadline = Instant::now() + FIRST_WAIT;
    let (facts, decision) = loop {
        let facts = match collect(session).await {
            Ok(f) => f,
            Err(e) => return (None, Err(e)),
        };
        let d = first_layer(&facts, words, want);
        if !matches!(d, FirstLayer::NotFound(_)) || Instant::now() >= deadline {
            break (facts, d);
        }
        tokio::time::sleep(POLL).await;
    };
    match decision {
        FirstLayer::NotFound(why) => {
            let kind = if why.contains("no consent dialog found") {
                FailureKind::CmpNotDetected
            } else {
                FailureKind::CmpActionFailed
            };
            (None, Err(Failure::new(kind, why)))
        }
        FirstLayer::NoReject(d, why) => {
            let mut rec = h::action_record(&d);
            rec.reject_missing = true;
            (Some(rec), Err(failed(why)))
        }
        FirstLayer::Click(d, b) => {
            let mut rec = h::action_record(&d);
            note(&mut rec, &b, d.confidence);
            let key = dialog_key(&facts, d.index);
            let res = match click(session, &b.path, &b.text).await {
                Ok(()) => gone(session, &key, &format!("{:?}", b.text)).await,
                Err(e) => Err(e),
            };
            (Some(rec), res)
        }
        FirstLayer::OpenSettings(d, s) => {
            let mut rec = h::action_record(&d);
            note(&mut rec, &s, d.confidence);
            let res = second(session, words, &mut rec, &s).await;
            (Some(rec), res)
        }
    }
}

/// Reject on the second layer: open it with `settings`, then a reject button there, else
/// every checked toggle off and save.
async fn second(
    session: &Session,
    words: &BannerWords,
    rec: &mut HeuristicAction,
    settings: &ControlMatch,
) -> Result<(), Failure> {
    click(session, &settings.path, &settings.text).await?;
    let deadline = Instant::now() + LAYER_WAIT;
    let (facts, layer) = loop {
        let facts = collect(session).await?;
        let l = second_layer(&facts, words);
        if !matches!(l, SecondLayer::NotFound(_)) || Instant::now() >= deadline {
            break (facts, l);
        }
        tokio::time::sleep(POLL).await;
    };
    match layer {
        SecondLayer::NotFound(why) => {
            rec.reject_missing = true;
            Err(failed(format!(
                "heuristic: no reject button beside accept; after {:?}: {why}",
                settings.text
            )))
        }
        SecondLayer::Reject(d, r) => {
            note(rec, &r, d.confidence);
            let key = dialog_key(&facts, d.index);
            click(session, &r.path, &r.text).await?;
            gone(session, &key, &format!("{:?}", r.text)).await
        }
        SecondLayer::Save {
            dialog,
            toggles,
            save,
        } => {
            for t in &toggles {
                rec.clicks.push(h::toggle_record(t));
                click(session, &t.path, &t.text).await?;
            }
            note(rec, &save, dialog.confidence);
            let key = dialog_key(&facts, dialog.index);
            click(session, &save.path, &save.text).await?;
            gone(session, &key, &format!("{:?}", save.text)).await
        }
    }
}
